"""Measuring trained models on the test set, and gathering the results for the comparison.

- `convscope.evaluation.config`: the `evaluate` group's schema (`EvaluateConfig`);
- `convscope.evaluation.inputs`: a trained model's files (`model.keras`, `run.json`),
  checked with one-line errors, without importing TensorFlow;
- `convscope.evaluation.trained_model`: the Keras model loaded, its first-layer weights;
- `convscope.evaluation.record`: a model's record and its DVC metrics file;
- `convscope.evaluation.metrics`: accuracy, loss, confusion matrix, per-class scores (numpy);
- `convscope.evaluation.misclassified`: the most confidently wrong predictions;
- `convscope.evaluation.timing`: inference latency and throughput;
- `convscope.evaluation.evaluator`: `evaluate(cfg)`, the `evaluate` stage's work;
- `convscope.evaluation.collect`: every evaluated model's results, for the `compare` stage.
"""
