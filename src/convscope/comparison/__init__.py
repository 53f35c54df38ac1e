"""Comparing evaluated models: collecting their results, the statistics and the verdict."""
