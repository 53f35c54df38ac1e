"""The evaluate and compare stage tests read the suite's one tiny pipeline run.

Each stage ran there as DVC runs it (`dvc exp run`): one `python -m convscope.<stage>` process
per model, training or evaluating both seeds (42 and 43), then compare, on one epoch of 2,000
real MNIST images. What the tests read is what the train stage left behind in each seed's
folder (`model.keras`, `history.csv`, `run.json` with a logged model), the one MLflow run per
model and seed it created, which evaluate then logged into, and compare's outputs and run.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def evaluated(mnist_workspace):
    """Dense and LeNet-5, two seeds each, trained, evaluated and compared by the real stages
    (tests/conftest.py `mnist_workspace`). Do not modify it; copy what a test needs to change.
    (Test modules cannot import a conftest under `--import-mode=importlib`; they use the
    Workspace through this fixture.)"""
    return mnist_workspace
