"""ExponentialMovingAverage: shadow variables that track variables (or tensors) over steps.

    ema = tf.train.ExponentialMovingAverage(decay=0.999, num_updates=global_step)
    with tf.control_dependencies([train_op]):
        train_and_average = ema.apply(tf.trainable_variables())
    saver = tf.train.Saver(ema.variables_to_restore())   # evaluate with the averages

`apply` creates, per variable, a non-trainable shadow variable "<var>/ExponentialMovingAverage"
initialised to the variable's initial value (tensors get a zero-initialised one) and returns
one op updating every shadow: shadow -= (1 - decay) * (shadow - value), where
decay = min(decay, (1 + num_updates) / (10 + num_updates)) when num_updates is given.
"""
from ..framework import dtypes
from ..framework.context import (colocate_with, control_dependencies, get_default_graph,
                                 name_scope)
from ..framework.graph import GraphKeys
from ..framework.registry import convert_to_tensor
from ..ops.array_ops import cast, zeros, zeros_like
from ..ops.control_flow_ops import group
from ..ops.math_ops import minimum, pow
from ..ops.variable_scope import get_variable_scope
from ..ops.variables import Variable, assign, assign_add, assign_sub, trainable_variables

__all__ = ["ExponentialMovingAverage"]

_FLOATS = tuple(getattr(dtypes, n) for n in ("float16", "float32", "float64", "bfloat16")
                if hasattr(dtypes, n))


def _slot_name(primary, suffix):
    scope = get_variable_scope().name
    return f"{scope + '/' if scope else ''}{primary.op.name}/{suffix}"


def _create_shadow(primary, initial_value, suffix):
    """A non-trainable global variable colocated with `primary`, named after it. Built outside
    any control dependencies (TF1's init_scope): initializing it must not run a train op."""
    with control_dependencies(None):
        if callable(initial_value):
            initial_value = initial_value()
        with name_scope(None), colocate_with(primary.op):
            return Variable(initial_value, name=_slot_name(primary, suffix), trainable=False)


def _zeros_for(tensor):
    if tensor.shape.is_fully_defined():
        return lambda: zeros(tensor.shape.as_list(), tensor.dtype)
    return lambda: zeros_like(tensor)


def _current(value):
    """A read of a variable at the point of use (so, under control_dependencies, after the
    update it depends on); tensors pass through."""
    return value.read_value() if isinstance(value, Variable) else convert_to_tensor(value)


def assign_moving_average(variable, value, decay, zero_debias=True, name=None):
    """variable -= (1 - decay) * (variable - value); with zero_debias, via a biased
    accumulator divided by (1 - decay^t) (TF1's `moving_averages.assign_moving_average`)."""
    with name_scope(name, "AssignMovingAvg", [variable, value, decay]) as scope:
        with colocate_with(variable.op):
            one_minus = convert_to_tensor(1.0 - decay, name="decay")
            if one_minus.dtype is not variable.dtype:
                one_minus = cast(one_minus, variable.dtype)
            value = _current(value)
            if zero_debias:
                return _zero_debias(variable, value, one_minus, scope)
            return assign_sub(variable, (variable - value) * one_minus, name=scope)


def _zero_debias(unbiased, value, one_minus_decay, scope):
    """biased -= (biased - value) * (1 - decay); t += 1; unbiased = biased / (1 - decay^t)."""
    with control_dependencies(None), name_scope(None):
        base = unbiased.op.name
        with colocate_with(unbiased.op):
            biased = Variable(_zeros_for(unbiased), name=f"{base}/biased", trainable=False)
            local_step = Variable(lambda: zeros([], unbiased.dtype), name=f"{base}/local_step",
                                  trainable=False)
    update_biased = assign_sub(biased, (biased - value) * one_minus_decay)
    update_step = assign_add(local_step, 1.0)
    bias_factor = 1 - pow(1.0 - one_minus_decay, update_step)
    return assign(unbiased, update_biased / bias_factor, name=scope)


class ExponentialMovingAverage:
    """TF1's `tf.train.ExponentialMovingAverage`."""

    def __init__(self, decay, num_updates=None, zero_debias=False,
                 name="ExponentialMovingAverage"):
        self._decay = decay
        self._num_updates = num_updates
        self._zero_debias = zero_debias
        self._name = name
        self._averages = {}  # averaged Variable or Tensor -> shadow Variable

    name = property(lambda self: self._name)

    def apply(self, var_list=None):
        """Create shadows for `var_list` (default: trainable variables) and return the op that
        updates them all."""
        var_list = trainable_variables() if var_list is None else list(var_list)
        debiased = set()
        for var in var_list:
            if var.dtype not in _FLOATS:
                raise TypeError(f"The variables must be half, float, or double: {var.name}")
            if var in self._averages:
                continue
            if isinstance(var, Variable):
                avg = _create_shadow(var, var.initialized_value, self._name)
                get_default_graph().add_to_collection(GraphKeys.MOVING_AVERAGE_VARIABLES, var)
            else:
                avg = _create_shadow(var, _zeros_for(var), self._name)
                if self._zero_debias:
                    debiased.add(avg)
            self._averages[var] = avg
        with name_scope(self._name) as scope:
            decay = convert_to_tensor(self._decay, name="decay")
            if self._num_updates is not None:
                num_updates = cast(_current(self._num_updates), dtypes.float32,
                                   name="num_updates")
                decay = minimum(decay, (1.0 + num_updates) / (10.0 + num_updates))
            updates = [assign_moving_average(self._averages[var], var, decay,
                                             zero_debias=self._averages[var] in debiased)
                       for var in var_list]
            return group(*updates, name=scope)

    def average(self, var):
        """The shadow variable of `var`, or None if `apply` never saw it."""
        return self._averages.get(var)

    def average_name(self, var):
        """The shadow's name (without ":0"); for a variable not averaged yet, the name its
        shadow would get."""
        if var in self._averages:
            return self._averages[var].op.name
        return get_default_graph().unique_name(f"{var.op.name}/{self._name}",
                                               mark_as_used=False)

    def variables_to_restore(self, moving_avg_variables=None):
        """{checkpoint name: variable} restoring each averaged variable from its shadow's
        entry, and every other global variable from its own name."""
        if moving_avg_variables is None:
            graph = get_default_graph()
            moving_avg_variables = trainable_variables() + graph.get_collection(
                GraphKeys.MOVING_AVERAGE_VARIABLES)
        moving_avg_variables = list(dict.fromkeys(moving_avg_variables))
        name_map = {self.average_name(v): v for v in moving_avg_variables}
        averaged_names = {v.name for v in moving_avg_variables}
        for v in get_default_graph().get_collection(GraphKeys.GLOBAL_VARIABLES):
            if v.name not in averaged_names and v.op.name not in name_map:
                name_map[v.op.name] = v
        return name_map
