"""`hydra/sweeper: optuna_study`, an Optuna search whose study can persist and be shared.

Hydra discovers sweepers in the `hydra_plugins` namespace package and imports this module in
every app, so it imports nothing heavy: the search itself is `convscope.sweeps.study` (which
says why the project has its own sweeper), imported once the sweeper is instantiated.
Values live in `conf/hparams_search/*.yaml`; this schema holds their types.
"""

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import MISSING, DictConfig


@dataclass
class OptunaStudySweeperConf:
    """The sweeper's knobs (see conf/hparams_search/lenet5_optuna.yaml)."""

    _target_: str = "hydra_plugins.convscope_optuna_sweeper.OptunaStudySweeper"
    _recursive_: bool = False  # the sweeper instantiates the sampler itself, once per trial
    direction: str = MISSING  # maximize | minimize
    study_name: str = MISSING
    storage: str | None = MISSING  # SQLAlchemy URL, or null for a study in memory
    n_trials: int = MISSING  # the study's total, counting trials of earlier and other sweeps
    n_jobs: int = MISSING  # trials asked per batch (launched together)
    max_failure_rate: float = MISSING
    heartbeat_interval: int = MISSING  # seconds between a running trial's heartbeats
    grace_period: int = MISSING  # seconds without a heartbeat before a trial counts as killed
    sampler: Any = MISSING  # a `_target_` node: an optuna.samplers class and its arguments
    params: dict[str, str] = field(default_factory=dict)  # key: Hydra sweep override


ConfigStore.instance().store(
    group="hydra/sweeper", name="optuna_study", node=OptunaStudySweeperConf, provider="convscope"
)


class OptunaStudySweeper(Sweeper):
    """Hydra's handle on `convscope.sweeps.study.StudySweep`."""

    def __init__(self, **config: Any) -> None:
        from convscope.sweeps.study import StudySweep

        self.sweep_impl = StudySweep(**config)

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        self.sweep_impl.setup(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def sweep(self, arguments: list[str]) -> None:
        self.sweep_impl.sweep(arguments)
