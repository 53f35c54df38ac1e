"""convscope: measure, reproducibly, why convolutional layers beat dense ones on images."""

import os

# oneDNN kernels make convolutions faster (benchmarks/decisions.md), but TensorFlow leaves
# them off on CPUs it does not recognise; must be set before TensorFlow is imported.
# Set TF_ENABLE_ONEDNN_OPTS=0 to compare.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
# TensorFlow's C++ logging off below errors in every stage, unless the user chose a level;
# convscope.console filters the notices this setting does not reach.
# The marker tells a child process (a stage run by the tests, a sweep job) that the level it
# inherits is this default, not the user's choice.
DEFAULT_MARKER = "CONVSCOPE_DEFAULT_TF_LOG_LEVEL"
TF_LOG_LEVEL_SET_BY_USER = "TF_CPP_MIN_LOG_LEVEL" in os.environ and DEFAULT_MARKER not in os.environ
if not TF_LOG_LEVEL_SET_BY_USER:
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    os.environ[DEFAULT_MARKER] = "1"

__version__ = "0.1.0"
