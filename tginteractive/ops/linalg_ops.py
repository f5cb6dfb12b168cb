"""Matrix products: MatMul (rank 2, transposes) and BatchMatMulV2 (batch dims broadcast)."""
from ..framework.registry import defop
from ..framework.shapes import TensorShape, unknown_shape
from .math_ops import binary_operands
from .shape_rules import broadcast_shapes


def _inner_check(m, n):
    if m is not None and n is not None and m != n:
        raise ValueError(f"Dimensions must be equal, but are {m} and {n}")


def _matmul_shape(op):
    a, b = (t.shape.with_rank(2) if t.shape.dims is None else t.shape for t in op.inputs)
    for t in (a, b):
        if t.ndims != 2:
            raise ValueError(f"Shape must be rank 2 but is rank {t.ndims}")
    (m, ka) = reversed(a.dims) if op.attrs["transpose_a"] else a.dims
    (kb, n) = reversed(b.dims) if op.attrs["transpose_b"] else b.dims
    _inner_check(ka, kb)
    return TensorShape([m, n])


def _product_grad(attr_a, attr_b):
    """The gradient builder of MatMul / BatchMatMulV2, whose operand flags (transpose or
    adjoint: the same for real dtypes) are the attrs `attr_a` and `attr_b`."""
    def grad(op, dy):
        a, b = op.inputs
        ta, tb = op.attrs[attr_a], op.attrs[attr_b]
        if not ta and not tb:
            return [matmul(dy, b, transpose_b=True), matmul(a, dy, transpose_a=True)]
        if not ta and tb:
            return [matmul(dy, b), matmul(dy, a, transpose_a=True)]
        if ta and not tb:
            return [matmul(b, dy, transpose_b=True), matmul(a, dy)]
        return [matmul(b, dy, transpose_a=True, transpose_b=True),
                matmul(dy, a, transpose_a=True, transpose_b=True)]
    return grad


def _matmul_kernel(xp, a, b, transpose_a, transpose_b):
    return xp.matmul(a.T if transpose_a else a, b.T if transpose_b else b)


MatMul = defop("MatMul", shape=_matmul_shape, kernel=_matmul_kernel,
               grad=_product_grad("transpose_a", "transpose_b"))


def _batch_shape(op):
    a, b = (t.shape for t in op.inputs)
    if a.dims is None or b.dims is None:
        return unknown_shape()
    for t in (a, b):
        if t.ndims < 2:
            raise ValueError(f"Shape must be at least rank 2 but is rank {t.ndims}")
    m, ka = a.dims[-2:][::-1] if op.attrs["adj_x"] else a.dims[-2:]
    kb, n = b.dims[-2:][::-1] if op.attrs["adj_y"] else b.dims[-2:]
    _inner_check(ka, kb)
    batch = broadcast_shapes(TensorShape(a.dims[:-2]), TensorShape(b.dims[:-2]))
    return batch.concatenate([m, n])


def _swap(xp, x, flag):
    return xp.swapaxes(x, -1, -2) if flag else x


BatchMatMulV2 = defop("BatchMatMulV2", shape=_batch_shape, broadcasting=True,
                      kernel=lambda xp, a, b, adj_x, adj_y: xp.matmul(_swap(xp, a, adj_x),
                                                                       _swap(xp, b, adj_y)),
                      grad=_product_grad("adj_x", "adj_y"))


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, name=None):
    """`a @ b`. Rank-2 operands use MatMul; higher ranks batch over leading (broadcast) dims."""
    a, b = binary_operands(a, b, "MatMul")
    ta, tb = transpose_a or adjoint_a, transpose_b or adjoint_b
    if (a.shape.ndims or 0) <= 2 and (b.shape.ndims or 0) <= 2:
        return MatMul(a, b, transpose_a=ta, transpose_b=tb, name=name or "MatMul")
    return BatchMatMulV2(a, b, adj_x=ta, adj_y=tb, name=name or "MatMul")


def _install():
    from ..framework import graph
    graph._OPERATORS["__matmul__"] = matmul
    graph._OPERATORS["__rmatmul__"] = lambda a, b: matmul(b, a)


_install()
