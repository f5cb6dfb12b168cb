"""Variables (TF1's ref variables): the op holds no value; each Session keeps its own."""
import numpy as np

from ..framework import dtypes, errors, graph
from ..framework.context import (colocate_with, get_default_graph, get_default_session,
                                 name_scope)
from ..framework.graph import GraphKeys
from ..framework.registry import (ALL_INPUTS, convert_to_tensor, defop,
                                  register_tensor_conversion_function)
from ..framework.shapes import as_shape, unknown_shape
from .array_ops import Identity
from .array_ops import no_op
from .control_flow_ops import group

__all__ = [
    "Variable", "assign", "assign_add", "assign_sub", "global_variables",
    "trainable_variables", "local_variables", "model_variables", "variables_initializer",
    "global_variables_initializer", "local_variables_initializer", "is_variable_initialized",
    "report_uninitialized_variables", "all_variables", "initialize_all_variables",
    "initialize_variables",
]


def _uninitialized(name, ctx=None):
    dropped = ctx.state.dropped.get(name) if ctx is not None else None
    why = f" ({dropped})" if dropped else ""
    return errors.FailedPreconditionError(
        None, None, f"Attempting to use uninitialized value {name}{why}. Run its initializer "
        f"first, e.g. sess.run(tf.global_variables_initializer()) or "
        f"sess.run(tf.variables_initializer([...]))." + _init_hint(name, ctx))


def _init_hint(name, ctx):
    """Which notebook cell builds an initializer op covering variable `name`, if any."""
    if ctx is None:
        return ""
    for op in reversed(ctx.op.graph.get_operations()):
        if op.type == "NoOp" and op.origin and any(
                c.type == "Assign" and c.inputs[0].op.name == name for c in op.control_inputs):
            return f" In the notebook: re-run {op.origin}, which builds the initializer " \
                f"'{op.name}', then run it."
    return ""


def variable_value(ctx, index):
    """The current value of the variable named by input `index` (error if uninitialized)."""
    name = ctx.op.inputs[index].op.name
    value = ctx.state.variables.get(name)
    if value is None:
        raise _uninitialized(name, ctx)
    return value


def store(ctx, index, value):
    name = ctx.op.inputs[index].op.name
    ctx.state.variables[name] = value
    if ctx.state.dropped:
        ctx.state.dropped.pop(name, None)
    return value


def mutable_value(ctx, index, xp):
    """The variable's array (an ndarray: a NumPy scalar is replaced by one); state-changing
    kernels then update it IN PLACE. Arrays in session state are always the session's own,
    writable copies (Assign copies; updates work in place). As with TF1's ref variables,
    reads that alias the buffer (the `read` snapshot) see the update; Session.run copies any
    fetched value that could alias a variable."""
    value = variable_value(ctx, index)
    if value.__class__ is not xp.ndarray:
        value = store(ctx, index, xp.array(value, copy=True))
    return value


def _read(ctx, xp, shape, dtype):
    value = ctx.state.variables.get(ctx.op.name)
    if value is None:
        raise _uninitialized(ctx.op.name, ctx)
    return value


VariableV2 = defop("VariableV2", shape=lambda op: op.attrs["shape"],
                   dtype=lambda op: op.attrs["dtype"], kernel=_read, needs_ctx=True,
                   stateful=True, aliases=True, differentiable=False, lazy=True)


def _check_shape(op, value):
    want = op.inputs[0].shape
    if want.dims is not None and tuple(want.dims) != value.shape and want.is_fully_defined():
        raise errors.InvalidArgumentError(
            None, None, "Assign requires shapes of both tensors to match. lhs shape= "
            f"{list(want.dims)} rhs shape= {list(value.shape)}")


def _assign(ctx, xp, ref, value, validate_shape, use_locking):
    if validate_shape:
        _check_shape(ctx.op, value)
    current = ctx.state.variables.get(ctx.op.inputs[0].op.name)
    if current.__class__ is xp.ndarray and current.shape == xp.shape(value) and \
            current.dtype == value.dtype:
        xp.copyto(current, value)
        return current
    return store(ctx, 0, xp.array(value, copy=True))


def _updater(ufunc_name):
    def kernel(ctx, xp, ref, value, use_locking):
        current = mutable_value(ctx, 0, xp)
        if xp.shape(value) != current.shape:
            raise errors.InvalidArgumentError(
                None, None, f"Cannot update variable with shape {list(current.shape)} using a "
                f"Tensor with shape {list(xp.shape(value))}, shapes must be equal.")
        return getattr(xp, ufunc_name)(current, value, out=current)
    return kernel


def _ref_shape(op):
    return op.inputs[0].shape


_STATE = dict(needs_ctx=True, stateful=True, aliases=True, differentiable=False,
              ref_inputs=(0,))
Assign = defop("Assign", shape=lambda op: op.inputs[0].shape if op.attrs["validate_shape"]
               else op.inputs[1].shape, kernel=_assign, **_STATE)
AssignAdd = defop("AssignAdd", shape=_ref_shape, kernel=_updater("add"), **_STATE)
AssignSub = defop("AssignSub", shape=_ref_shape, kernel=_updater("subtract"), **_STATE)
IsVariableInitialized = defop(
    "IsVariableInitialized", shape=lambda op: (), dtype=lambda op: dtypes.bool,
    kernel=lambda ctx, xp, ref, dtype: xp.asarray(ctx.op.inputs[0].op.name in
                                                  ctx.state.variables),
    needs_ctx=True, stateful=True, differentiable=False, ref_inputs=(0,))
InitializedValue = defop(
    "InitializedValue", shape=_ref_shape, kernel=lambda ctx, xp, ref, initial: ctx.state.variables.get(
        ctx.op.inputs[0].op.name, initial), needs_ctx=True, stateful=True, aliases=True,
    ref_inputs=(0,), grad=lambda op, dy: [None, dy])
ReportUninitialized = defop(
    "ReportUninitializedVariables", shape=lambda op: [None], dtype=lambda op: dtypes.string,
    kernel=lambda ctx, xp, *refs: np.array(
        [t.op.name.encode() for t in ctx.op.inputs if t.op.name not in ctx.state.variables],
        dtype=object),
    needs_ctx=True, stateful=True, differentiable=False,
    ref_inputs=ALL_INPUTS)


def _ref_tensor(ref):
    return ref._variable if isinstance(ref, Variable) else ref


def assign(ref, value, validate_shape=None, use_locking=None, name=None):
    ref = _ref_tensor(ref)
    value = convert_to_tensor(value, dtype=ref.dtype)
    validate = True if validate_shape is None else validate_shape
    if validate and not ref.shape.is_compatible_with(value.shape):
        raise ValueError(f"Shapes {ref.shape} and {value.shape} are incompatible: cannot assign "
                         f"'{value.name}' to variable '{ref.op.name}'.")
    with colocate_with(ref.op):
        return Assign(ref, value, validate_shape=validate, use_locking=bool(use_locking),
                      name=name or "Assign")


def _update(op_def, default):
    def fn(ref, value, use_locking=None, name=None):
        ref = _ref_tensor(ref)
        value = convert_to_tensor(value, dtype=ref.dtype)
        if not ref.shape.is_compatible_with(value.shape):
            raise ValueError(f"Shapes {ref.shape} and {value.shape} are incompatible for "
                             f"{default} on variable '{ref.op.name}'.")
        with colocate_with(ref.op):
            return op_def(ref, value, use_locking=bool(use_locking), name=name or default)
    return fn


assign_add = _update(AssignAdd, "AssignAdd")
assign_sub = _update(AssignSub, "AssignSub")


class Variable:
    """TF1's `tf.Variable`: a VariableV2 op, its initializer (Assign) and a `read` snapshot."""

    __array_ufunc__ = None  # so `ndarray + variable` defers to Variable.__radd__

    def __init__(self, initial_value=None, trainable=True, collections=None,
                 validate_shape=True, caching_device=None, name=None, variable_def=None,
                 dtype=None, expected_shape=None, import_scope=None, constraint=None,
                 use_resource=None, synchronization=None, aggregation=None, shape=None):
        if initial_value is None:
            raise ValueError("initial_value must be specified.")
        init_is_fn = callable(initial_value)
        with name_scope(name, "Variable", [] if init_is_fn else [initial_value]) as scope:
            if init_is_fn:
                with name_scope("Initializer"):
                    initial_value = initial_value()
            self._initial_value = convert_to_tensor(initial_value, dtype=dtype,
                                                    name="initial_value")
            var_shape = self._initial_value.shape if validate_shape else unknown_shape()
            if shape is not None:
                var_shape = as_shape(shape)
            self._variable = VariableV2(shape=var_shape, dtype=self._initial_value.dtype,
                                        name=scope)
            with colocate_with(self._variable.op):
                self._initializer_op = assign(self._variable, self._initial_value,
                                              validate_shape=validate_shape,
                                              name="Assign").op
                self._snapshot = Identity(self._variable, name="read")
        self._trainable = trainable
        self.constraint = constraint
        if collections is None:
            collections = [GraphKeys.GLOBAL_VARIABLES]
        collections = list(collections)
        if trainable and GraphKeys.TRAINABLE_VARIABLES not in collections:
            collections.append(GraphKeys.TRAINABLE_VARIABLES)
        self.graph.add_to_collections(collections, self)

    @classmethod
    def _from_ops(cls, variable_op, initializer_op, snapshot, initial_value, trainable=True):
        """A Variable over ops that already exist (e.g. from import_meta_graph); no new ops,
        no collections touched."""
        self = cls.__new__(cls)
        self._variable, self._initializer_op = variable_op.outputs[0], initializer_op
        self._snapshot, self._initial_value = snapshot, initial_value
        self._trainable, self.constraint = bool(trainable), None
        return self

    # ---- identity -----------------------------------------------------------------------
    name = property(lambda self: self._variable.name)
    op = property(lambda self: self._variable.op)
    dtype = property(lambda self: self._variable.dtype)
    shape = property(lambda self: self._variable.shape)
    graph = property(lambda self: self._variable.graph)
    device = property(lambda self: self._variable.device)
    trainable = property(lambda self: self._trainable)
    initializer = property(lambda self: self._initializer_op)
    initial_value = property(lambda self: self._initial_value)

    def get_shape(self):
        return self.shape

    def _as_graph_element(self):
        return self._variable

    def value(self):
        return self._snapshot

    def read_value(self):
        return Identity(self._variable, name="read")

    def initialized_value(self):
        """This variable's value if initialized, else its initial value (for chained init)."""
        with colocate_with(self._variable.op):
            return InitializedValue(self._variable, self._initial_value,
                                    name=self.op.name + "/initialized_value")

    # ---- state changes --------------------------------------------------------------------
    def assign(self, value, use_locking=False, name=None, read_value=True):
        out = assign(self._variable, value, use_locking=use_locking, name=name)
        return out if read_value else out.op

    def assign_add(self, delta, use_locking=False, name=None, read_value=True):
        out = assign_add(self._variable, delta, use_locking=use_locking, name=name)
        return out if read_value else out.op

    def assign_sub(self, delta, use_locking=False, name=None, read_value=True):
        out = assign_sub(self._variable, delta, use_locking=use_locking, name=name)
        return out if read_value else out.op

    def eval(self, session=None):
        return self._variable.eval(session=session)

    def load(self, value, session=None):
        """Write `value` into this variable in `session` (default session) without new ops."""
        session = session or get_default_session()
        if session is None:
            raise ValueError("Variable.load needs a session: pass session= or run inside "
                             "`with sess.as_default():`.")
        session.run(self._initializer_op, {self._initial_value: value})

    def __repr__(self):
        return (f"<tf.Variable '{self.name}' shape={self.shape} "
                f"dtype={self.dtype.name}_ref>")

    __hash__ = object.__hash__

    def __eq__(self, other):
        return self is other


def _install_variable_operators():
    for op_name in [n for n in vars(graph.Tensor) if n in graph._OPERATOR_NAMES]:
        def method(self, *args, _n=op_name):
            return graph._OPERATORS[_n](self._snapshot, *args)
        setattr(Variable, op_name, method)


_install_variable_operators()
register_tensor_conversion_function(
    Variable, lambda v, dtype=None, name=None: convert_to_tensor(v._snapshot, dtype=dtype))


def global_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.GLOBAL_VARIABLES, scope)


def trainable_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.TRAINABLE_VARIABLES, scope)


def local_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.LOCAL_VARIABLES, scope)


def model_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.MODEL_VARIABLES, scope)


def variables_initializer(var_list, name="init"):
    if var_list:
        return group(*[v.initializer for v in var_list], name=name)
    return no_op(name=name)


def global_variables_initializer():
    return variables_initializer(global_variables())


def local_variables_initializer():
    return variables_initializer(local_variables(), name="init")


def is_variable_initialized(variable):
    return IsVariableInitialized(_ref_tensor(variable), dtype=variable.dtype)


def report_uninitialized_variables(var_list=None, name="report_uninitialized_variables"):
    var_list = global_variables() + local_variables() if var_list is None else var_list
    if not var_list:
        from .array_ops import constant
        return constant(np.array([], dtype=object), dtype=dtypes.string, name=name)
    return ReportUninitialized(*[_ref_tensor(v) for v in var_list], name=name)


def all_variables():
    import warnings
    warnings.warn("tf.all_variables is deprecated; use tf.global_variables.",
                  DeprecationWarning, stacklevel=2)
    return global_variables()


def initialize_all_variables():
    return global_variables_initializer()


def initialize_variables(var_list, name="init"):
    return variables_initializer(var_list, name)
