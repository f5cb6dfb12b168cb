"""The op registry: each OpDef bundles a shape rule, a kernel per backend and a gradient.

    Tanh = defop("Tanh", shape=same_shape, kernel=lambda xp, x: xp.tanh(x),
                 grad=lambda op, dy: [dy * (1 - op.outputs[0] ** 2)])
    y = Tanh(x, name="act")            # creates the op in x's graph, returns its Tensor

Kernels take the backend's array module `xp` first, then the input values, then the op's
attrs as keywords; they return one value for a one-output op, a tuple otherwise, and a
fresh array unless the OpDef says `aliases=True` (then fetches are copied). Ops with `needs_ctx=True` take a runtime context before `xp` (variables,
random state). Gradient builders take (op, *output_grads) and return one entry per input.
"""
from . import dtypes, shapes
from .context import get_default_graph
from .graph import Operation, Tensor

OPS = {}
ALL_INPUTS = range(1 << 30)  # ref_inputs value: every input is a variable reference
_conversions = []          # (type, fn(value, dtype, name) -> Tensor), e.g. for Variables
_constant_maker = [None]   # set by the op library: fn(value, dtype, name) -> Tensor


class OpDef:
    __slots__ = ("type", "shape", "dtype", "kernel", "grad", "differentiable", "needs_ctx",
                 "stateful", "broadcasting", "aliases", "overrides", "fold", "ref_inputs", "lazy",
                 "inplace", "host_only")

    def __init__(self, type, shape, kernel, grad=None, dtype=None, differentiable=True,
                 needs_ctx=False, stateful=False, broadcasting=False, aliases=False,
                 overrides=None, fold=None, ref_inputs=(), lazy=False, inplace=None,
                 host_only=False):
        if shape is None or kernel is None:
            raise TypeError(f"Op '{type}' needs both a shape rule and a kernel.")
        if differentiable and grad is None:
            raise TypeError(f"Op '{type}' needs a gradient builder or differentiable=False.")
        if type in OPS:
            raise ValueError(f"Op type '{type}' is already registered.")
        self.type, self.shape, self.dtype, self.kernel, self.grad = type, shape, dtype, kernel, grad
        self.differentiable, self.needs_ctx, self.stateful = differentiable, needs_ctx, stateful
        self.broadcasting = broadcasting   # inputs broadcast: autodiff sums grads back to shape
        self.aliases = aliases             # output may be a view of input 0 (copy before fetch)
        self.overrides = overrides or {}   # backend name -> kernel, only where backends differ
        self.fold = fold                   # op -> statically known output value, or None
        self.ref_inputs = ref_inputs       # input indices naming a variable, never read (TF refs)
        self.lazy = lazy                   # no inputs; evaluated right where each consumer runs
        self.inplace = inplace             # kernel variant writing its result into input 0
        self.host_only = host_only         # no GPU kernel: always placed on a CPU device

    def kernel_for(self, backend_name):
        return self.overrides.get(backend_name, self.kernel)

    def __call__(self, *inputs, name=None, **attrs):
        graph = next((t.graph for t in inputs if isinstance(t, Tensor)), None)
        graph = graph or get_default_graph()
        inputs = [convert_to_tensor(t) for t in inputs]
        op = graph._create_op(self, inputs, attrs, name, self._output_specs)
        if len(op.outputs) == 1:
            return op.outputs[0]
        return tuple(op.outputs) if op.outputs else op

    def _output_specs(self, op):
        try:
            out_shape = self.shape(op)
        except (ValueError, IndexError) as e:
            shape_list = ", ".join(_shape_text(t.shape) for t in op.inputs)
            raise ValueError(f"{e} for '{op.name}' (op: '{op.type}') with input shapes: "
                             f"{shape_list}.") from None
        dtype = self.dtype(op) if callable(self.dtype) else self.dtype
        if dtype is None and op.inputs:
            dtype = op.inputs[0].dtype
        if isinstance(out_shape, list):
            dts = dtype if isinstance(dtype, list) else [dtype] * len(out_shape)
            return [(d, shapes.as_shape(s)) for d, s in zip(dts, out_shape)]
        return [(dtype, shapes.as_shape(out_shape))]

    def __repr__(self):
        return f"<OpDef {self.type}>"


def _shape_text(shape):
    if shape.dims is None:
        return "?"
    return "[" + ",".join("?" if d is None else str(d) for d in shape.dims) + "]"


def defop(type, shape, kernel, **kwargs):
    op_def = OpDef(type, shape, kernel, **kwargs)
    OPS[type] = op_def
    return op_def


def register_tensor_conversion_function(base_type, conversion_func):
    _conversions.append((base_type, conversion_func))


def set_constant_maker(fn):
    _constant_maker[0] = fn


def convert_to_tensor(value, dtype=None, name=None, preferred_dtype=None):
    """A Tensor for `value`: Tensors pass through (dtype checked), others become constants."""
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
    if isinstance(value, Tensor):
        if dtype is not None and value.dtype is not dtype:
            raise ValueError(f"Tensor conversion requested dtype {dtype.name} for Tensor with "
                             f"dtype {value.dtype.name}: {value!r}")
        return value
    for base_type, fn in _conversions:
        if isinstance(value, base_type):
            return fn(value, dtype=dtype, name=name)
    if isinstance(value, Operation):
        raise TypeError(f"Can't convert Operation '{value.name}' to Tensor (target dtype="
                        f"{dtype}, name='{name}', as_ref=False)")
    if dtype is None and preferred_dtype is not None:
        try:
            return _constant_maker[0](value, dtypes.as_dtype(preferred_dtype), name)
        except (TypeError, ValueError):
            pass
    return _constant_maker[0](value, dtype, name)


def constant_value(tensor):
    """The value of `tensor` if it is known at graph-construction time, else None."""
    if not isinstance(tensor, Tensor):
        return None
    fold = tensor.op.op_def.fold
    if fold is None:
        return None
    value = fold(tensor.op)
    if isinstance(value, (tuple, list)) and len(tensor.op.outputs) > 1:
        return value[tensor.value_index]
    return value
