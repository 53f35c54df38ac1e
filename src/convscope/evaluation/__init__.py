"""Measuring trained models on the test set.

- `convscope.evaluation.config`: the `evaluate` group's schema (`EvaluateConfig`);
- `convscope.evaluation.metrics`: accuracy, loss, confusion matrix, per-class scores (numpy);
- `convscope.evaluation.misclassified`: the most confidently wrong predictions;
- `convscope.evaluation.timing`: inference latency and throughput;
- `convscope.evaluation.evaluator`: `evaluate(cfg)`, the `evaluate` stage's work.

Its record (`metrics.json`, the DVC metrics file) is `convscope.records.metrics`; the trained
model's file is checked and loaded by `convscope.models.model_file` and `convscope.models.trained`.
"""
