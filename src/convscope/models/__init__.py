"""Models and per-layer statistics.

- one module per model (`dense`, `lenet5`, `stacked_conv`): its config dataclass, whose
  `build(input_shape, num_classes)` makes the Keras model; `conf/model/<name>.yaml` names
  that class as `_target_`;
- `convscope.models.config`: the `ModelConfig` base class and the checks models share;
- `convscope.models.layers`: `layer_table(model)`, `parameter_summary(model)`.
- `convscope.models.model_file`: a trained model's `.keras` file checked (no Keras import);
- `convscope.models.trained`: a trained model loaded, its first layer's weights.
"""
