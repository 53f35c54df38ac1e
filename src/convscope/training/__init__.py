"""Training: the train config schema, Keras callbacks and the training loop."""
