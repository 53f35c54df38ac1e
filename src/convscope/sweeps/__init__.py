"""Hyperparameter sweeps (Hydra multirun grids, Optuna searches) grouped in MLflow.

One MLflow parent run per sweep, one nested child run per job, created by the Hydra callback
`convscope.sweeps.callback.MlflowSweepCallback` (configured in `conf/sweep.yaml`).
"""
