"""`tf.train`: optimizers, learning-rate schedules, moving averages, global step, Saver."""
from .checkpoint_utils import *  # noqa: F401,F403
from .gradient_descent import GradientDescentOptimizer  # noqa: F401
from .learning_rate_decay import *  # noqa: F401,F403
from .moving_averages import *  # noqa: F401,F403
from .optimizer import Optimizer  # noqa: F401
from .optimizers import *  # noqa: F401,F403
from .saver import *  # noqa: F401,F403
from .towers import *  # noqa: F401,F403
from .training_util import *  # noqa: F401,F403

