"""Plain gradient descent: var -= learning_rate * grad."""
from ..framework.registry import convert_to_tensor
from ..ops.training_ops import ApplyGradientDescent
from .optimizer import Optimizer


class GradientDescentOptimizer(Optimizer):
    def __init__(self, learning_rate, use_locking=False, name="GradientDescent"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._learning_rate_tensor = None

    def _prepare(self):
        lr = self._call_if_callable(self._learning_rate)
        self._learning_rate_tensor = convert_to_tensor(lr, name="learning_rate")

    def _apply_dense(self, grad, var):
        alpha = self._as_var_dtype(self._learning_rate_tensor, var)
        return ApplyGradientDescent(var._variable, alpha, grad, use_locking=self._use_locking)
