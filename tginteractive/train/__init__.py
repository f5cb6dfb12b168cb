"""`tf.train`: optimizers (more come with the training-library issue)."""
from .optimizer import Optimizer  # noqa: F401
from .gradient_descent import GradientDescentOptimizer  # noqa: F401
