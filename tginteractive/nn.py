"""`tf.nn`: neural-network ops (activations, losses, dropout, moments, ...)."""
from .ops.loss_ops import *  # noqa: F401,F403
from .ops.math_ops import sigmoid, tanh  # noqa: F401
from .ops.nn_ops import *  # noqa: F401,F403
from .ops.conv_ops import *  # noqa: F401,F403
