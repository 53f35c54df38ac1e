"""convscope: measure, reproducibly, why convolutional layers beat dense ones on images."""

__version__ = "0.1.0"
