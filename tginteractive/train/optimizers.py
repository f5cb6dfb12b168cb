"""TF1's adaptive optimizers: Momentum, Adam, RMSProp, Adagrad, Adadelta.

Each is TF1's class in a few lines: `_create_slots` makes the slot variables (named
"<var>/<Name>", "<var>/<Name>_1", ... in slot-creation order, as TF1 does), `_prepare` turns
the hyperparameters (floats, tensors, or callables returning either) into tensors once per
`apply_gradients`, and `_apply_dense` emits one fused update op from `ops/training_ops.py`
that updates the variable and its slots in place. Hyperparameters are cast to the variable's
dtype only when they differ, so float32 training stays float32 end to end.
"""
from ..framework.context import colocate_with, control_dependencies
from ..framework.registry import convert_to_tensor
from ..ops.array_ops import constant, fill, ones_like
from ..ops.control_flow_ops import group
from ..ops.training_ops import (ApplyAdadelta, ApplyAdagrad, ApplyAdam, ApplyCenteredRMSProp,
                                ApplyMomentum, ApplyRMSProp)
from ..ops.variables import assign
from .optimizer import Optimizer

__all__ = ["MomentumOptimizer", "AdamOptimizer", "RMSPropOptimizer", "AdagradOptimizer",
           "AdadeltaOptimizer"]


def _filled_slot(var, value):
    """Initial value of a slot: `value` everywhere, in `var`'s shape and dtype (built lazily,
    inside the slot's Initializer scope)."""
    def initial_value():
        if var.shape.is_fully_defined():
            return fill(var.shape.as_list(), constant(value, var.dtype))
        return ones_like(var.initialized_value()) * constant(value, var.dtype)
    return initial_value


class _HyperOptimizer(Optimizer):
    """Keeps named hyperparameters and turns them into tensors in `_prepare`."""

    def __init__(self, use_locking, name, **hyper):
        super().__init__(use_locking, name)
        self._hyper = hyper           # attribute name -> (value, tensor name)
        self._hyper_t = {}

    def _prepare(self):
        for key, (value, tensor_name) in self._hyper.items():
            self._hyper_t[key] = convert_to_tensor(self._call_if_callable(value),
                                                   name=tensor_name)

    def _h(self, key, var):
        """Hyperparameter `key` as a tensor of `var`'s dtype."""
        return self._as_var_dtype(self._hyper_t[key], var)


class MomentumOptimizer(_HyperOptimizer):
    """accum = accum * momentum + grad; var -= lr * accum
    (Nesterov: var -= lr * grad + lr * momentum * accum)."""

    def __init__(self, learning_rate, momentum, use_locking=False, name="Momentum",
                 use_nesterov=False):
        super().__init__(use_locking, name, lr=(learning_rate, "learning_rate"),
                         momentum=(momentum, "momentum"))
        self._use_nesterov = use_nesterov

    def _create_slots(self, var_list):
        for v in var_list:
            self._zeros_slot(v, "momentum", self._name)

    def _apply_dense(self, grad, var):
        mom = self.get_slot(var, "momentum")
        return ApplyMomentum(var._variable, mom._variable, self._h("lr", var), grad,
                             self._h("momentum", var), use_locking=self._use_locking,
                             use_nesterov=self._use_nesterov).op


class AdamOptimizer(_HyperOptimizer):
    """Adam (Kingma & Ba), TF1's form: lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t);
    m = beta1 m + (1 - beta1) g; v = beta2 v + (1 - beta2) g^2;
    var -= lr_t * m / (sqrt(v) + epsilon)  -- epsilon outside the square root, "epsilon hat".
    beta1^t and beta2^t are the non-slot variables "beta1_power"/"beta2_power"."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 use_locking=False, name="Adam"):
        super().__init__(use_locking, name, lr=(learning_rate, "learning_rate"),
                         beta1=(beta1, "beta1"), beta2=(beta2, "beta2"),
                         epsilon=(epsilon, "epsilon"))
        self._beta1, self._beta2 = beta1, beta2
        self._beta_graph = None

    def _get_beta_accumulators(self):
        graph = self._beta_graph
        return (self._get_non_slot_variable("beta1_power", graph),
                self._get_non_slot_variable("beta2_power", graph))

    def _create_slots(self, var_list):
        first_var = min(var_list, key=lambda v: v.name)
        self._beta_graph = first_var.graph
        self._create_non_slot_variable(self._call_if_callable(self._beta1), "beta1_power",
                                       first_var)
        self._create_non_slot_variable(self._call_if_callable(self._beta2), "beta2_power",
                                       first_var)
        for v in var_list:
            self._zeros_slot(v, "m", self._name)
            self._zeros_slot(v, "v", self._name)

    def _apply_dense(self, grad, var):
        m, v = self.get_slot(var, "m"), self.get_slot(var, "v")
        beta1_power, beta2_power = self._get_beta_accumulators()
        return ApplyAdam(var._variable, m._variable, v._variable,
                         self._as_var_dtype(convert_to_tensor(beta1_power), var),
                         self._as_var_dtype(convert_to_tensor(beta2_power), var),
                         self._h("lr", var), self._h("beta1", var), self._h("beta2", var),
                         self._h("epsilon", var), grad, use_locking=self._use_locking,
                         use_nesterov=False).op

    def _finish(self, update_ops, name_scope):
        with control_dependencies(update_ops):
            beta1_power, beta2_power = self._get_beta_accumulators()
            with colocate_with(beta1_power.op):
                b1 = self._as_var_dtype(self._hyper_t["beta1"], beta1_power)
                b2 = self._as_var_dtype(self._hyper_t["beta2"], beta2_power)
                update_beta1 = assign(beta1_power, beta1_power * b1,
                                      use_locking=self._use_locking)
                update_beta2 = assign(beta2_power, beta2_power * b2,
                                      use_locking=self._use_locking)
        return group(*update_ops, update_beta1.op, update_beta2.op, name=name_scope)


class RMSPropOptimizer(_HyperOptimizer):
    """ms = decay ms + (1 - decay) g^2  (rms slot starts at ONES);
    mom = momentum mom + lr g / sqrt(ms + epsilon); var -= mom.
    Centered: also mg = decay mg + (1 - decay) g and sqrt(ms - mg^2 + epsilon)."""

    def __init__(self, learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10, use_locking=False,
                 centered=False, name="RMSProp"):
        super().__init__(use_locking, name, lr=(learning_rate, "learning_rate"),
                         decay=(decay, "decay"), momentum=(momentum, "momentum"),
                         epsilon=(epsilon, "epsilon"))
        self._centered = centered

    def _create_slots(self, var_list):
        for v in var_list:
            self._get_or_make_slot(v, _filled_slot(v, 1), "rms", self._name)
            if self._centered:
                self._zeros_slot(v, "mg", self._name)
            self._zeros_slot(v, "momentum", self._name)

    def _apply_dense(self, grad, var):
        rms, mom = self.get_slot(var, "rms"), self.get_slot(var, "momentum")
        hyper = [self._h(k, var) for k in ("lr", "decay", "momentum", "epsilon")]
        if self._centered:
            mg = self.get_slot(var, "mg")
            return ApplyCenteredRMSProp(var._variable, mg._variable, rms._variable,
                                        mom._variable, *hyper, grad,
                                        use_locking=self._use_locking).op
        return ApplyRMSProp(var._variable, rms._variable, mom._variable, *hyper, grad,
                            use_locking=self._use_locking).op


class AdagradOptimizer(_HyperOptimizer):
    """accum += g^2 (starting at initial_accumulator_value); var -= lr g / sqrt(accum)."""

    def __init__(self, learning_rate, initial_accumulator_value=0.1, use_locking=False,
                 name="Adagrad"):
        if initial_accumulator_value <= 0.0:
            raise ValueError("initial_accumulator_value must be positive: "
                             f"{initial_accumulator_value}")
        super().__init__(use_locking, name, lr=(learning_rate, "learning_rate"))
        self._initial_accumulator_value = initial_accumulator_value

    def _create_slots(self, var_list):
        for v in var_list:
            self._get_or_make_slot(v, _filled_slot(v, self._initial_accumulator_value),
                                   "accumulator", self._name)

    def _apply_dense(self, grad, var):
        acc = self.get_slot(var, "accumulator")
        return ApplyAdagrad(var._variable, acc._variable, self._h("lr", var), grad,
                            use_locking=self._use_locking, update_slots=True).op


class AdadeltaOptimizer(_HyperOptimizer):
    """accum = rho accum + (1 - rho) g^2;
    update = sqrt(accum_update + eps) / sqrt(accum + eps) * g; var -= lr update;
    accum_update = rho accum_update + (1 - rho) update^2."""

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-8, use_locking=False,
                 name="Adadelta"):
        super().__init__(use_locking, name, lr=(learning_rate, "lr"), rho=(rho, "rho"),
                         epsilon=(epsilon, "epsilon"))

    def _create_slots(self, var_list):
        for v in var_list:
            self._zeros_slot(v, "accum", self._name)
            self._zeros_slot(v, "accum_update", self._name)

    def _apply_dense(self, grad, var):
        accum, update = self.get_slot(var, "accum"), self.get_slot(var, "accum_update")
        return ApplyAdadelta(var._variable, accum._variable, update._variable,
                             self._h("lr", var), self._h("rho", var), self._h("epsilon", var),
                             grad, use_locking=self._use_locking).op
