"""Benchmarks of convscope's training pipeline; `python benchmarks/run.py` runs them all."""
