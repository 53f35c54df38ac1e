"""MLflow tracking: the store, run context (tags), and what each run logs."""
