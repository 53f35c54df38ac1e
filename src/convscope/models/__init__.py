"""Model configs, builders and per-layer statistics.

- `convscope.models.config`: Hydra schemas of the `model` group, `register_configs()`,
  `validate_model_config(cfg)` (no Keras import, so cheap for every stage);
- `convscope.models.registry`: `build_model(model_cfg, input_shape, num_classes)`;
- `convscope.models.layers`: `layer_table(model)`, `parameter_summary(model)`;
- `convscope.models.model_file`: a trained model's `.keras` file checked (no Keras import);
- `convscope.models.trained`: a trained model loaded, its first layer's weights.
"""
