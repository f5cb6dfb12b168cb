"""Elementwise math, comparisons, logic, select, add_n and matmul — with Tensor operators."""
from ..framework import dtypes, graph
from ..framework.registry import convert_to_tensor, defop
from ..framework.shapes import TensorShape
from .array_ops import cast, ones_like, zeros_like
from .op_utils import is_tensor_like
from .shape_rules import broadcast_shape, merged_shape, same_shape

__all__ = [
    "add", "subtract", "multiply", "realdiv", "floordiv", "floormod", "pow", "maximum",
    "minimum", "squared_difference", "mod", "truediv", "divide", "div", "scalar_mul",
    "negative", "abs", "sign", "square", "sqrt", "rsqrt", "exp", "log", "log1p", "sin", "cos",
    "tanh", "sigmoid", "reciprocal", "floor", "ceil", "round", "reciprocal_no_nan", "less",
    "less_equal", "greater", "greater_equal", "equal", "not_equal", "logical_and",
    "logical_or", "logical_not", "logical_xor", "where", "where_v2", "add_n", "accumulate_n",
]


def binary_operands(x, y, op_type):
    """Convert x, y to Tensors of one dtype (TF1: the first tensor's dtype wins, no promotion)."""
    if is_tensor_like(x) or not is_tensor_like(y):
        x = convert_to_tensor(x)
        y = convert_to_tensor(y, dtype=None if is_tensor_like(y) else x.dtype)
    else:
        y = convert_to_tensor(y)
        x = convert_to_tensor(x, dtype=y.dtype)
    if x.dtype is not y.dtype:
        raise TypeError(f"Input 'y' of '{op_type}' Op has type {y.dtype.name} that does not "
                        f"match type {x.dtype.name} of argument 'x'.")
    return x, y


def _binary(op_def, default_name):
    def fn(x, y, name=None):
        x, y = binary_operands(x, y, op_def.type)
        return op_def(x, y, name=name or default_name)
    fn.__name__ = default_name
    return fn


def _unary(op_def, default_name):
    def fn(x, name=None):
        return op_def(convert_to_tensor(x), name=name or default_name)
    fn.__name__ = default_name
    return fn


def _bool(op):
    return dtypes.bool


# ---- binary arithmetic (inputs broadcast; autodiff sums gradients back to each shape) ---
AddV2 = defop("AddV2", shape=broadcast_shape, broadcasting=True,
              inplace=lambda xp, x, y: xp.add(x, y, out=x),
              kernel=lambda xp, x, y: xp.add(x, y), grad=lambda op, dy: [dy, dy])
Sub = defop("Sub", shape=broadcast_shape, broadcasting=True,
            inplace=lambda xp, x, y: xp.subtract(x, y, out=x),
            kernel=lambda xp, x, y: xp.subtract(x, y), grad=lambda op, dy: [dy, -dy])
Mul = defop("Mul", shape=broadcast_shape, broadcasting=True,
            inplace=lambda xp, x, y: xp.multiply(x, y, out=x),
            kernel=lambda xp, x, y: xp.multiply(x, y),
            grad=lambda op, dy: [dy * op.inputs[1], op.inputs[0] * dy])
RealDiv = defop("RealDiv", shape=broadcast_shape, broadcasting=True,
                inplace=lambda xp, x, y: xp.true_divide(x, y, out=x),
                kernel=lambda xp, x, y: xp.true_divide(x, y),
                grad=lambda op, dy: [dy / op.inputs[1],
                                     dy * (-op.inputs[0] / op.inputs[1] / op.inputs[1])])


def _float_divmod_cupy(xp, a, b):
    """CuPy override helper: CuPy's float floor_divide is floor(a / b) and its remainder
    a - floor(a / b) * b; NumPy's (npy_divmod, like TF's FloorMod) start from the exact fmod.
    This is npy_divmod elementwise (float16 in float32, as NumPy), so results match NumPy's."""
    if a.dtype == xp.float16:
        div, mod = _float_divmod_cupy(xp, a.astype(xp.float32), b.astype(xp.float32))
        return div.astype(a.dtype), mod.astype(a.dtype)
    fmod = xp.fmod(a, b)
    div = (a - fmod) / b
    fix = (fmod != 0) & ((b < 0) != (fmod < 0))   # make the remainder take b's sign
    mod = xp.where(fix, fmod + b, xp.where(fmod == 0, xp.copysign(xp.zeros_like(fmod), b), fmod))
    div = xp.where(fix, div - 1, div)
    floordiv = xp.floor(div)
    floordiv = xp.where(div - floordiv > 0.5, floordiv + 1, floordiv)  # snap to the nearest
    floordiv = xp.where(div == 0, xp.copysign(xp.zeros_like(div), a / b), floordiv)
    return xp.where(b == 0, a / b, floordiv), mod


FloorDiv = defop("FloorDiv", shape=broadcast_shape, differentiable=False,
                 kernel=lambda xp, x, y: xp.floor_divide(x, y),
                 overrides={"cupy": lambda xp, x, y: _float_divmod_cupy(xp, x, y)[0]
                            if x.dtype.kind == "f" else xp.floor_divide(x, y)})  # CuPy
FloorMod = defop("FloorMod", shape=broadcast_shape, broadcasting=True,
                 kernel=lambda xp, x, y: xp.mod(x, y),
                 overrides={"cupy": lambda xp, x, y: _float_divmod_cupy(xp, x, y)[1]
                            if x.dtype.kind == "f" else xp.mod(x, y)},  # CuPy (see above)
                 grad=lambda op, dy: [dy, -dy * floordiv(op.inputs[0], op.inputs[1])])


def _pow_grad(op, dy):
    x, y = op.inputs
    z = op.outputs[0]
    gx = dy * y * pow(x, y - 1)
    log_x = where(greater(x, 0), log(where(greater(x, 0), x, ones_like(x))), zeros_like(x))
    return [gx, dy * z * log_x]


def _pow_cupy(xp, x, y):
    """CuPy override: CuPy gives integer ** negative integer as 0 or +-1; NumPy (and TF)
    refuse it, which the runtime reports as InvalidArgumentError."""
    if x.dtype.kind == "i" and bool((y < 0).any()):
        raise ValueError("Integers to negative integer powers are not allowed.")
    return xp.power(x, y)


Pow = defop("Pow", shape=broadcast_shape, broadcasting=True, grad=_pow_grad,
            kernel=lambda xp, x, y: xp.power(x, y), overrides={"cupy": _pow_cupy})


def _select_grads(mask_fn):
    def grad(op, dy):
        x, y = op.inputs
        mask = mask_fn(x, y)
        zero = zeros_like(dy)
        return [SelectV2(mask, dy, zero), SelectV2(mask, zero, dy)]
    return grad


Maximum = defop("Maximum", shape=broadcast_shape, broadcasting=True,
                kernel=lambda xp, x, y: xp.maximum(x, y),
                grad=_select_grads(lambda x, y: greater_equal(x, y)))
Minimum = defop("Minimum", shape=broadcast_shape, broadcasting=True,
                kernel=lambda xp, x, y: xp.minimum(x, y),
                grad=_select_grads(lambda x, y: less_equal(x, y)))


def _sqdiff_grad(op, dy):
    g = dy * 2.0 * (op.inputs[0] - op.inputs[1]) if op.inputs[0].dtype.is_floating else None
    return [g, -g]


SquaredDifference = defop("SquaredDifference", shape=broadcast_shape, broadcasting=True,
                          kernel=lambda xp, x, y: xp.square(x - y), grad=_sqdiff_grad)

add = _binary(AddV2, "add")
subtract = _binary(Sub, "sub")
multiply = _binary(Mul, "mul")
realdiv = _binary(RealDiv, "RealDiv")
floordiv = _binary(FloorDiv, "floordiv")
floormod = _binary(FloorMod, "floormod")
pow = _binary(Pow, "pow")  # noqa: A001 - TF's public name
maximum = _binary(Maximum, "Maximum")
minimum = _binary(Minimum, "Minimum")
squared_difference = _binary(SquaredDifference, "SquaredDifference")
mod = floormod


def truediv(x, y, name=None):
    """Python-3 division: integers are cast to float64 (int8/16, uint8/16 to float32) first."""
    x, y = binary_operands(x, y, "RealDiv")
    if x.dtype.is_integer:
        target = dtypes.float64 if x.dtype.size >= 4 else dtypes.float32
        x, y = cast(x, target), cast(y, target)
    return RealDiv(x, y, name=name or "truediv")


divide = truediv


def div(x, y, name=None):
    """TF1's Python-2 style division: floor division for integers, real division for floats."""
    x, y = binary_operands(x, y, "Div")
    if x.dtype.is_integer:
        return FloorDiv(x, y, name=name or "div")
    return RealDiv(x, y, name=name or "div")


def scalar_mul(scalar, x, name=None):
    return multiply(scalar, x, name=name)


# ---- unary ------------------------------------------------------------------------------
def _u(type, kernel, grad, name=None, inplace=None):
    op_def = defop(type, shape=same_shape, kernel=kernel, grad=grad, inplace=inplace,
                   differentiable=grad is not None)
    return op_def, _unary(op_def, name or type)


Neg, negative = _u("Neg", lambda xp, x: xp.negative(x), lambda op, dy: [-dy],
               inplace=lambda xp, x: xp.negative(x, out=x))
Abs, abs = _u("Abs", lambda xp, x: xp.abs(x), lambda op, dy: [dy * sign(op.inputs[0])])  # noqa
Sign, sign = _u("Sign", lambda xp, x: xp.sign(x), lambda op, dy: [zeros_like(op.inputs[0])])
Square, square = _u("Square", lambda xp, x: xp.square(x),
                    lambda op, dy: [dy * (2 * op.inputs[0])],
                     inplace=lambda xp, x: xp.square(x, out=x))
Sqrt, sqrt = _u("Sqrt", lambda xp, x: xp.sqrt(x), lambda op, dy: [dy * 0.5 / op.outputs[0]])
Rsqrt, rsqrt = _u("Rsqrt", lambda xp, x: 1 / xp.sqrt(x),
                  lambda op, dy: [dy * (-0.5 * op.outputs[0] ** 3)])
Exp, exp = _u("Exp", lambda xp, x: xp.exp(x), lambda op, dy: [dy * op.outputs[0]],
               inplace=lambda xp, x: xp.exp(x, out=x))
Log, log = _u("Log", lambda xp, x: xp.log(x), lambda op, dy: [dy / op.inputs[0]])
Log1p, log1p = _u("Log1p", lambda xp, x: xp.log1p(x), lambda op, dy: [dy / (1 + op.inputs[0])])
Sin, sin = _u("Sin", lambda xp, x: xp.sin(x), lambda op, dy: [dy * cos(op.inputs[0])])
Cos, cos = _u("Cos", lambda xp, x: xp.cos(x), lambda op, dy: [-dy * sin(op.inputs[0])])
Tanh, tanh = _u("Tanh", lambda xp, x: xp.tanh(x),
                lambda op, dy: [dy * (1 - op.outputs[0] * op.outputs[0])],
                 inplace=lambda xp, x: xp.tanh(x, out=x))
Sigmoid, sigmoid = _u("Sigmoid", lambda xp, x: _sigmoid(xp, x),
                      lambda op, dy: [dy * op.outputs[0] * (1 - op.outputs[0])])
Reciprocal, reciprocal = _u("Reciprocal", lambda xp, x: 1 / x,
                            lambda op, dy: [-dy * op.outputs[0] * op.outputs[0]])
Floor, floor = _u("Floor", lambda xp, x: xp.floor(x), None)
Ceil, ceil = _u("Ceil", lambda xp, x: xp.ceil(x), None)
Round, round = _u("Round", lambda xp, x: xp.round(x), None)  # noqa: A001 - half to even, as TF


def _sigmoid(xp, x):
    """Numerically stable logistic function (no overflow warning for large |x|)."""
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def reciprocal_no_nan(x, name=None):
    x = convert_to_tensor(x)
    return where(equal(x, 0), zeros_like(x), reciprocal(where(equal(x, 0), ones_like(x), x)),
                 name=name)


# ---- comparisons and logic (not differentiable) -------------------------------------------
def _cmp(type, kernel, name):
    op_def = defop(type, shape=broadcast_shape, dtype=_bool, kernel=kernel,
                   differentiable=False)
    return op_def, _binary(op_def, name)


Less, less = _cmp("Less", lambda xp, x, y: xp.less(x, y), "Less")
LessEqual, less_equal = _cmp("LessEqual", lambda xp, x, y: xp.less_equal(x, y), "LessEqual")
Greater, greater = _cmp("Greater", lambda xp, x, y: xp.greater(x, y), "Greater")
GreaterEqual, greater_equal = _cmp("GreaterEqual", lambda xp, x, y: xp.greater_equal(x, y),
                                   "GreaterEqual")
Equal, equal = _cmp("Equal", lambda xp, x, y: xp.equal(x, y), "Equal")
NotEqual, not_equal = _cmp("NotEqual", lambda xp, x, y: xp.not_equal(x, y), "NotEqual")


def _check_bool(*xs):
    for x in xs:
        if x.dtype is not dtypes.bool:
            raise TypeError(f"Logical ops take bool tensors; '{x.name}' has dtype "
                            f"{x.dtype.name}. Use tf.cast(x, tf.bool) first.")


def _logical(type, kernel, name):
    op_def = defop(type, shape=broadcast_shape, dtype=_bool, kernel=kernel,
                   differentiable=False)

    def fn(x, y, name=None):
        x, y = binary_operands(x, y, type)
        _check_bool(x, y)
        return op_def(x, y, name=name or default)
    default = name
    return op_def, fn


LogicalAnd, logical_and = _logical("LogicalAnd", lambda xp, x, y: xp.logical_and(x, y),
                                   "LogicalAnd")
LogicalOr, logical_or = _logical("LogicalOr", lambda xp, x, y: xp.logical_or(x, y),
                                 "LogicalOr")
LogicalNot = defop("LogicalNot", shape=same_shape, kernel=lambda xp, x: xp.logical_not(x),
                   differentiable=False)


def logical_not(x, name=None):
    x = convert_to_tensor(x)
    _check_bool(x)
    return LogicalNot(x, name=name or "LogicalNot")


def logical_xor(x, y, name="LogicalXor"):
    return logical_and(logical_or(x, y), logical_not(logical_and(x, y)), name=name)


# ---- select / where -----------------------------------------------------------------------
def _select_grad(op, dy):
    cond = op.inputs[0]
    zero = zeros_like(dy)
    return [None, SelectV2(cond, dy, zero), SelectV2(cond, zero, dy)]


SelectV2 = defop("SelectV2", shape=broadcast_shape, dtype=lambda op: op.inputs[1].dtype,
                 broadcasting=True, grad=_select_grad,
                 kernel=lambda xp, c, x, y: xp.where(c, x, y))

WhereIndices = defop("Where", shape=lambda op: TensorShape([None, op.inputs[0].shape.ndims]),
                     dtype=lambda op: dtypes.int64, differentiable=False,
                     kernel=lambda xp, c: xp.argwhere(c).astype("int64"))


def where(condition, x=None, y=None, name=None):
    """tf.where: with x and y, elementwise select (a vector condition selects rows, as in TF1);
    with neither, the int64 coordinates of True elements, shape [num_true, rank]."""
    condition = convert_to_tensor(condition)
    if x is None and y is None:
        return WhereIndices(condition, name=name or "Where")
    if x is None or y is None:
        raise ValueError("x and y must both be non-None or both be None.")
    x, y = binary_operands(x, y, "Select")
    if condition.dtype is not dtypes.bool:
        raise TypeError(f"tf.where condition must be bool, got {condition.dtype.name} "
                        f"('{condition.name}').")
    c_rank, x_rank = condition.shape.ndims, x.shape.ndims
    if c_rank == 1 and x_rank is not None and x_rank > 1:
        from .array_ops import reshape
        condition = reshape(condition, [-1] + [1] * (x_rank - 1))
    return SelectV2(condition, x, y, name=name or "Select")


where_v2 = where


# ---- add_n ------------------------------------------------------------------------------
def _add_n_kernel(xp, *xs):
    out = xs[0] + xs[1] if len(xs) > 1 else xs[0].copy()
    for x in xs[2:]:
        out += x
    return out


AddN = defop("AddN", shape=merged_shape, kernel=_add_n_kernel,
             grad=lambda op, dy: [dy] * len(op.inputs))


def add_n(inputs, name=None):
    if not inputs:
        raise ValueError("inputs must be a non-empty list of tensors")
    inputs = [convert_to_tensor(x) for x in inputs]
    if len({x.dtype for x in inputs}) > 1:
        raise TypeError("add_n inputs must all have the same dtype, got " +
                        ", ".join(f"{x.name}: {x.dtype.name}" for x in inputs))
    return AddN(*inputs, name=name or "AddN")


accumulate_n = add_n


# ---- operators ----------------------------------------------------------------------------
def _install_operators():
    ops = graph._OPERATORS
    pairs = {"add": add, "sub": subtract, "mul": multiply, "truediv": truediv,
             "floordiv": floordiv, "mod": floormod, "pow": pow, "and": logical_and,
             "or": logical_or, "xor": logical_xor}
    for key, fn in pairs.items():
        ops[f"__{key}__"] = fn
        ops[f"__r{key}__"] = (lambda f: lambda a, b: f(b, a))(fn)
    ops.update(__neg__=negative, __abs__=abs, __invert__=logical_not, __lt__=less,
               __le__=less_equal, __gt__=greater, __ge__=greater_equal)


_install_operators()
