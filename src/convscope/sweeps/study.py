"""An Optuna search as a Hydra sweep: trials asked from a (persistent) study, run by the launcher.

Why our own sweeper: hydra-optuna-sweeper 1.3.0, the last release, pins optuna<3, whose database
storage fails with SQLAlchemy 2; its Optuna 4 rewrite exists only as release candidates that
need a pre-release hydra-core, and it counts `n_trials` per process, so a resumed search would
run them all again. This is the smallest sweeper on Optuna's ask-and-tell API that gives:

- a study in `storage` (SQLite, PostgreSQL, any SQLAlchemy URL), opened with `load_if_exists`,
  so any number of sweep processes, on any machines, share one study's trials;
- `n_trials` as the study's total: a sweep asks only the trials still missing, so rerunning a
  killed search resumes it, and a finished one runs nothing;
- trials of a killed sweep found by Optuna's heartbeat (no heartbeat for `grace_period`
  seconds) and asked again with the same params (`RetryHeartbeatStaleTrialCallback`);
- a failed trial (an exception, a NaN score) told as FAIL with the reason, and the search goes on.

The plugin shell Hydra discovers is `hydra_plugins.convscope_optuna_sweeper`.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import time
import warnings
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import optuna
import sqlalchemy.exc
import yaml
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override, Transformer
from hydra.core.plugins import Plugins
from hydra.core.utils import JobReturn
from hydra.types import HydraContext, TaskFunction
from hydra.utils import instantiate
from omegaconf import DictConfig
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
)
from optuna.exceptions import ExperimentalWarning

# Optuna runs the heartbeat only inside `Study.optimize` (optuna/optuna#3293); a sweep asks a
# batch of trials and hands them to Hydra's launcher, so it starts Optuna's heartbeat itself.
from optuna.storages._heartbeat import get_heartbeat_thread
from optuna.trial import FrozenTrial, Trial, TrialState
from sqlalchemy.engine import make_url

from convscope.atomic import write_text
from convscope.tracking.failure import describe_failure

log = logging.getLogger(__name__)

RESULTS_FILE = "optimization_results.yaml"
STORAGE_OPEN_ATTEMPTS = 5  # opening a new database that another sweep is creating
FAILURE_ATTR = "failure_reason"  # on trials told FAIL by a sweep (not on stale ones)
SWEEPER_ATTR = "sweeper"  # `<host>:<pid>` of the sweep process that ran the trial
MAX_RETRIES = 3  # times a trial of a killed sweep is asked again before a fresh one replaces it


def search_space(arguments: Sequence[str]) -> tuple[dict[str, BaseDistribution], dict[str, str]]:
    """Hydra overrides (`key=choice(...)`, `key=tag(log, interval(a, b))`, `key=value`) as
    Optuna distributions for the swept keys and plain values for the others."""
    distributions: dict[str, BaseDistribution] = {}
    fixed: dict[str, str] = {}
    for override in OverridesParser.create().parse_overrides(list(arguments)):
        name = override.get_key_element()
        if override.is_sweep_override():
            distributions[name] = distribution(override)
            fixed.pop(name, None)
        else:
            fixed[name] = override.get_value_element_as_str()
            distributions.pop(name, None)
    return distributions, fixed


def distribution(override: Override) -> BaseDistribution:
    """The Optuna distribution of one sweep override (choice, range or interval)."""
    if override.is_choice_sweep() or override.is_range_sweep():
        return CategoricalDistribution(list(override.sweep_iterator(Transformer.encode)))
    if override.is_interval_sweep():  # Hydra's intervals are floats; integers: range()
        interval = override.value()
        return FloatDistribution(interval.start, interval.end, log="log" in interval.tags)
    raise ValueError(
        f"hydra.sweeper.params: {override.input_line}: expected choice, range or interval"
    )


def suggest(trial: Trial, name: str, dist: BaseDistribution) -> Any:
    """Ask `trial` for a value of `name` from `dist`."""
    if isinstance(dist, CategoricalDistribution):
        return trial.suggest_categorical(name, dist.choices)
    assert isinstance(dist, FloatDistribution)
    return trial.suggest_float(name, dist.low, dist.high, step=dist.step, log=dist.log)


def counts_toward_total(trial: FrozenTrial) -> bool:
    """Whether `trial` is one of the study's `n_trials`: it ended, or it failed on its own.

    A trial failed by the heartbeat (its sweep was killed) does not count: it is asked again.
    """
    if trial.state in (TrialState.COMPLETE, TrialState.PRUNED):
        return True
    return trial.state == TrialState.FAIL and FAILURE_ATTR in trial.user_attrs


def job_score(job: JobReturn) -> float:
    """The job's score; raises the job's own exception, or ValueError for a non-finite score."""
    score = float(job.return_value)
    if not math.isfinite(score):
        raise ValueError(f"the job returned {score}")
    return score


class StudySweep:
    """Runs a Hydra multirun as trials of one Optuna study (see the module docstring)."""

    def __init__(
        self,
        direction: str,
        study_name: str,
        storage: str | None,
        n_trials: int,
        n_jobs: int,
        max_failure_rate: float,
        heartbeat_interval: int,
        grace_period: int,
        sampler: DictConfig,
        params: DictConfig | None,
    ) -> None:
        if not 0.0 <= max_failure_rate <= 1.0:
            raise ValueError("hydra.sweeper.max_failure_rate: expected a number in [0, 1]")
        self.direction = direction
        self.study_name = study_name
        self.storage_url = storage
        self.n_trials = n_trials
        self.n_jobs = n_jobs
        self.max_failure_rate = max_failure_rate
        self.heartbeat_interval = heartbeat_interval
        self.grace_period = grace_period
        self.sampler = sampler
        self.params = params or {}
        self.storage: optuna.storages.RDBStorage | None = None
        self.job_idx = 0
        self.sweeper_id = f"{socket.gethostname()}:{os.getpid()}"

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        """Instantiate the launcher that runs the trials."""
        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            config=config, hydra_context=hydra_context, task_function=task_function
        )

    def open_study(self) -> optuna.Study:
        """Create the study, or load it when `storage` already holds one of that name."""
        if self.storage_url is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ExperimentalWarning)  # the heartbeat arguments
                self.storage = open_storage(
                    self.storage_url,
                    heartbeat_interval=self.heartbeat_interval,
                    grace_period=self.grace_period,
                    heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                        max_retry=MAX_RETRIES
                    ),
                )
        study = optuna.create_study(
            study_name=self.study_name,
            storage=self.storage,
            sampler=self.new_sampler(None),
            direction=self.direction,
            load_if_exists=True,
        )
        shown = make_url(self.storage_url).render_as_string() if self.storage_url else "memory"
        log.info("Study %s in %s: %d trials so far", study.study_name, shown, len(study.trials))
        return study

    def new_sampler(self, trial_number: int | None) -> optuna.samplers.BaseSampler:
        """The configured sampler; with a seed, seeded by `seed + trial_number`.

        So a trial's random draws depend on its number only: a resumed search asks what the
        uninterrupted one would have asked, and concurrent sweeps do not repeat each other.
        """
        seed = self.sampler.get("seed")
        if seed is None or trial_number is None:
            return instantiate(self.sampler)
        return instantiate(self.sampler, seed=int(seed) + trial_number)

    def sweep(self, arguments: list[str]) -> None:
        """Ask, run and tell batches of trials until the study holds `n_trials` of them."""
        space, fixed = search_space([f"{k}={v}" for k, v in self.params.items()] + arguments)
        study = self.open_study()
        ran, failed = 0, 0
        while True:
            missing, running = self.missing_trials(study)
            if missing == 0 and running == 0:
                break
            if missing == 0:
                log.info("Waiting for %d trials running in other sweeps", running)
                time.sleep(self.heartbeat_interval)
                continue
            trials = [self.ask(study, space, fixed) for _ in range(min(missing, self.n_jobs))]
            returns = self.run(trials, fixed)
            failures = [
                job
                for trial, job in zip(trials, returns, strict=True)
                if not self.tell(study, trial, job)
            ]
            ran, failed = ran + len(trials), failed + len(failures)
            if failed / ran > self.max_failure_rate:
                message = (
                    f"{failed} of {ran} trials failed (max_failure_rate {self.max_failure_rate})"
                )
                log.error(message)
                failures[0].return_value  # noqa: B018 (raises the job's own exception, if any)
                raise RuntimeError(message)
        self.write_results(study)

    def missing_trials(self, study: optuna.Study) -> tuple[int, int]:
        """How many trials the study still lacks, not counting the running ones; how many run."""
        if self.storage is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ExperimentalWarning)
                optuna.storages.fail_stale_trials(study)
        trials = study.get_trials(deepcopy=False)
        done = sum(counts_toward_total(trial) for trial in trials)
        running = sum(trial.state == TrialState.RUNNING for trial in trials)
        return max(self.n_trials - done - running, 0), running

    def ask(
        self, study: optuna.Study, space: dict[str, BaseDistribution], fixed: dict[str, str]
    ) -> Trial:
        """A new trial (or one a killed sweep left) with values for the whole search space."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Heartbeat of storage")  # we run it: see imports
            trial = study.ask()
        if self.storage is not None:
            self.storage.record_heartbeat(trial._trial_id)  # stale from now on if never beaten
        trial.set_user_attr(SWEEPER_ATTR, self.sweeper_id)
        study.sampler = self.new_sampler(trial.number)
        for name, dist in space.items():
            suggest(trial, name, dist)
        for name, value in fixed.items():
            trial.set_user_attr(name, value)
        return trial

    def run(self, trials: list[Trial], fixed: dict[str, str]) -> Sequence[JobReturn]:
        """Launch one job per trial, the trials' heartbeats beating meanwhile."""
        overrides = [
            tuple(f"{name}={value}" for name, value in {**trial.params, **fixed}.items())
            for trial in trials
        ]
        for trial, job in zip(trials, overrides, strict=True):
            log.info("Trial %d: %s", trial.number, " ".join(job))
        with ExitStack() as heartbeats:
            if self.storage is not None:
                for trial in trials:
                    heartbeats.enter_context(get_heartbeat_thread(trial._trial_id, self.storage))
            returns = self.launcher.launch(overrides, initial_job_idx=self.job_idx)
        self.job_idx += len(returns)
        return returns

    def tell(self, study: optuna.Study, trial: Trial, job: JobReturn) -> bool:
        """Tell the study the job's score, or FAIL with the reason; whether it succeeded."""
        try:
            score = job_score(job)
        except Exception as err:
            log.warning("Failed experiment: %s", err)
            self.finish(study, trial, reason=describe_failure(err))
            return False
        self.finish(study, trial, score=score)
        return True

    def finish(
        self, study: optuna.Study, trial: Trial, score: float | None = None, reason: str = ""
    ) -> None:
        """Tell `trial` COMPLETE with `score`, or FAIL with `reason`, unless another sweep
        already failed it for lack of heartbeats (then its retry runs it again)."""
        state = TrialState.FAIL if reason else TrialState.COMPLETE
        try:
            if reason:
                trial.set_user_attr(FAILURE_ATTR, reason)
            study.tell(trial, score, state=state, skip_if_finished=True)
        except optuna.exceptions.UpdateFinishedTrialError:
            pass
        if study.get_trials(deepcopy=False)[trial.number].state != state:
            log.warning(
                "Trial %d was failed by another sweep (no heartbeat for %d s): result dropped",
                trial.number,
                self.grace_period,
            )

    def write_results(self, study: optuna.Study) -> None:
        """Write the study's best trial to `optimization_results.yaml` in the sweep folder."""
        results: dict[str, Any] = {"name": "optuna", "study_name": study.study_name}
        if study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            best = study.best_trial
            results |= {"best_params": best.params, "best_value": best.value}
            log.info("Best parameters: %s; best value: %s", best.params, best.value)
        else:
            log.warning("No trial of study %s completed", study.study_name)
        folder = Path(str(self.config.hydra.sweep.dir))
        folder.mkdir(parents=True, exist_ok=True)
        write_text(folder / RESULTS_FILE, yaml.safe_dump(results, sort_keys=False))


def open_storage(url: str, **options: Any) -> optuna.storages.RDBStorage:
    """Optuna's storage at `url`. Two processes that open a new database at once both create
    its schema, and the second fails on alembic's version row (sqlite3 IntegrityError): once
    the first has made the schema, opening it again works, so a failed first open is retried."""
    for attempt in range(STORAGE_OPEN_ATTEMPTS):
        try:
            return optuna.storages.RDBStorage(url, **options)
        except sqlalchemy.exc.SQLAlchemyError:
            if attempt == STORAGE_OPEN_ATTEMPTS - 1:
                raise
            time.sleep(1.0)
    raise AssertionError("unreachable")
