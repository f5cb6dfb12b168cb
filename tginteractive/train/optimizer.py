"""The Optimizer base class: compute_gradients → apply_gradients (slots, global step)."""
from ..autodiff import gradients
from ..framework import dtypes
from ..framework.context import (colocate_with, control_dependencies, get_default_graph,
                                 name_scope)
from ..framework.graph import GraphKeys
from ..framework.registry import convert_to_tensor
from ..framework.shapes import as_shape
from ..ops.array_ops import cast, zeros, zeros_like
from ..ops.control_flow_ops import group
from ..ops.variable_scope import get_variable_scope
from ..ops.variables import Variable, assign_add, trainable_variables


class Optimizer:
    """Subclasses implement `_apply_dense(grad, var)` and optionally `_create_slots`,
    `_prepare` and `_finish`, exactly as in TF1."""

    GATE_NONE, GATE_OP, GATE_GRAPH = 0, 1, 2

    def __init__(self, use_locking, name):
        if not name:
            raise ValueError("Must specify the optimizer name")
        self._use_locking = use_locking
        self._name = name
        self._slots = {}  # slot name -> {variable: slot Variable}
        self._non_slot_dict = {}  # (name, graph) -> Variable, e.g. Adam's beta1_power

    def get_name(self):
        return self._name

    def minimize(self, loss, global_step=None, var_list=None, gate_gradients=GATE_OP,
                 aggregation_method=None, colocate_gradients_with_ops=False, name=None,
                 grad_loss=None):
        grads_and_vars = self.compute_gradients(
            loss, var_list=var_list, gate_gradients=gate_gradients,
            colocate_gradients_with_ops=colocate_gradients_with_ops, grad_loss=grad_loss)
        if not any(g is not None for g, _ in grads_and_vars):
            raise ValueError("No gradients provided for any variable, check your graph for ops "
                             "that do not support gradients, between variables "
                             f"{[v.name for _, v in grads_and_vars]} and loss {loss}.")
        return self.apply_gradients(grads_and_vars, global_step=global_step, name=name)

    def compute_gradients(self, loss, var_list=None, gate_gradients=GATE_OP,
                          aggregation_method=None, colocate_gradients_with_ops=False,
                          grad_loss=None):
        """[(gradient or None, variable)] for `var_list` (default: trainable variables)."""
        loss = convert_to_tensor(loss)
        if not loss.dtype.is_floating:
            raise ValueError(f"Invalid type {loss.dtype.name} for {loss.name}, expected: "
                             "float16, float32, float64.")
        if var_list is None:
            var_list = trainable_variables()
        var_list = list(var_list)
        if not var_list:
            raise ValueError("No variables to optimize.")
        grads = gradients(loss, var_list, grad_ys=grad_loss,
                          colocate_gradients_with_ops=colocate_gradients_with_ops)
        return list(zip(grads, var_list))

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        """An op applying the gradients (None gradients are skipped) and bumping global_step."""
        grads_and_vars = [(g, v) for g, v in grads_and_vars]
        if not grads_and_vars:
            raise ValueError("No variables provided.")
        live = [(convert_to_tensor(g), v) for g, v in grads_and_vars if g is not None]
        if not live:
            raise ValueError("No gradients provided for any variable: "
                             f"{[v.name for _, v in grads_and_vars]}.")
        with control_dependencies(None):
            self._create_slots([v for _, v in live])
        with name_scope(name, self._name) as scope:
            self._prepare()
            updates = []
            for grad, var in live:
                with name_scope("update_" + var.op.name), colocate_with(var.op):
                    updates.append(self._apply_dense(grad, var))
            if global_step is None:
                apply = self._finish(updates, scope)
            else:
                with control_dependencies([self._finish(updates, "update")]):
                    with colocate_with(global_step.op):
                        apply = assign_add(global_step, 1, name=scope).op
        train_ops = apply.graph.get_collection_ref(GraphKeys.TRAIN_OP)
        if apply not in train_ops:
            train_ops.append(apply)
        return apply

    # ---- hooks for subclasses ---------------------------------------------------------------
    def _create_slots(self, var_list):
        pass

    def _prepare(self):
        pass

    def _apply_dense(self, grad, var):
        raise NotImplementedError(f"{type(self).__name__} does not implement _apply_dense")

    def _finish(self, update_ops, name_scope):
        return group(*update_ops, name=name_scope)

    # ---- slots ------------------------------------------------------------------------------
    def _zeros_slot(self, var, slot_name, op_name):
        def initial_value():
            if var.shape.is_fully_defined():
                return zeros(var.shape.as_list(), var.dtype)
            return zeros_like(var.initialized_value())   # shape known only at run time
        return self._get_or_make_slot(var, initial_value, slot_name, op_name)

    def _get_or_make_slot_with_initializer(self, var, initializer, shape, dtype, slot_name,
                                           op_name):
        """TF1's variant taking an initializer `fn(shape, dtype=...)` (or a value)."""
        def initial_value():
            if callable(initializer):
                return initializer(as_shape(shape).as_list(), dtype=dtypes.as_dtype(dtype))
            return initializer
        return self._get_or_make_slot(var, initial_value, slot_name, op_name)

    def _get_or_make_slot(self, var, initial_value, slot_name, op_name):
        """The `slot_name` slot of `var`: a non-trainable global Variable named
        "<var>/<op_name>" (uniquified: "w/Adam", "w/Adam_1"), colocated with `var` and
        created under the current variable scope as TF1's slot_creator does."""
        slots = self._slots.setdefault(slot_name, {})
        if var not in slots:
            scope = get_variable_scope().name
            prefix = f"{scope}/" if scope else ""
            with name_scope(None), colocate_with(var.op):
                slots[var] = Variable(initial_value, name=f"{prefix}{var.op.name}/{op_name}",
                                      trainable=False)
        return slots[var]

    def get_slot(self, var, name):
        return self._slots.get(name, {}).get(var)

    def get_slot_names(self):
        return sorted(self._slots)

    # ---- non-slot variables (one per optimizer and graph, e.g. Adam's beta powers) ---------
    def _create_non_slot_variable(self, initial_value, name, colocate_with_var):
        key = (name, colocate_with_var.graph)
        var = self._non_slot_dict.get(key)
        if var is None:
            with colocate_with(colocate_with_var.op):
                var = Variable(initial_value, name=name, trainable=False)
            self._non_slot_dict[key] = var
        return var

    def _get_non_slot_variable(self, name, graph=None):
        return self._non_slot_dict.get((name, graph or get_default_graph()))

    def _non_slot_variables(self):
        return list(self._non_slot_dict.values())

    def variables(self):
        """Slot and non-slot variables of this optimizer in the default graph, sorted by name."""
        graph = get_default_graph()
        found = [v for v in self._non_slot_variables() if v.graph is graph]
        found += [v for slots in self._slots.values() for v in slots.values()
                  if v.graph is graph]
        return sorted(found, key=lambda v: v.name)

    def _call_if_callable(self, value):
        return value() if callable(value) else value

    def _as_var_dtype(self, tensor, var):
        return cast(tensor, var.dtype) if tensor.dtype is not var.dtype else tensor
