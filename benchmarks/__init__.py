"""Benchmarks of convscope's training pipeline; `python -m benchmarks.run` runs them all."""
