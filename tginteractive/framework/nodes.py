"""Operation and Tensor: the nodes of a graph and their outputs (construction-time records)."""
import os
import re
import sys

from . import shapes

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_OPERATORS = {}  # "__add__" -> fn(a, b); filled in by the op library


def user_site():
    """(filename, line, function) of the innermost caller outside this package, or None."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return None
    return (frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)


_CELL_FILE = re.compile(r"^<ipython-input-|ipykernel_\d+[/\\]\d+\.py$")


def format_site(site, origin=None):
    """'file.py:12', or 'cell [3], line 2' for code typed into a notebook cell (`origin`)."""
    if not site:
        return "<unknown>"
    if origin and _CELL_FILE.search(site[0]):
        return f"{origin}, line {site[1]}"
    return f"{site[0]}:{site[1]}"


class Tensor:
    """One output of an Operation. Hashable by identity; `==` is identity, as in TF1."""

    __slots__ = ("op", "value_index", "dtype", "_shape", "name", "_consumers", "__weakref__")
    __array_ufunc__ = None  # so `ndarray + tensor` defers to Tensor.__radd__

    def __init__(self, op, value_index, dtype, shape):
        self.op, self.value_index, self.dtype = op, value_index, dtype
        self._shape = shape if shape.__class__ is shapes.TensorShape else shapes.as_shape(shape)
        self.name = f"{op.name}:{value_index}"
        self._consumers = []

    graph = property(lambda self: self.op.graph)
    device = property(lambda self: self.op.device)
    shape = property(lambda self: self._shape)

    def get_shape(self):
        return self._shape

    def set_shape(self, shape):
        """Refine the static shape; incompatible shapes raise ValueError naming the tensor."""
        try:
            self._shape = self._shape.merge_with(shape)
        except ValueError:
            raise ValueError(f"Tensor '{self.name}' has shape {self._shape}, which is not "
                             f"compatible with the requested shape {shapes.as_shape(shape)}.")

    def consumers(self):
        return list(self._consumers)

    def eval(self, feed_dict=None, session=None):
        from .context import session_for
        return session_for(self.graph, session, "Tensor.eval()").run(self, feed_dict)

    def __repr__(self):
        return f"<tf.Tensor '{self.name}' shape={self._shape} dtype={self.dtype.name}>"

    def __str__(self):
        return f'Tensor("{self.name}", shape={self._shape}, dtype={self.dtype.name})'

    def __bool__(self):
        raise TypeError("Using a `tf.Tensor` as a Python `bool` is not allowed. Use `if t is "
                        "not None:` instead of `if t:` to test if a tensor is defined, and use "
                        "TensorFlow ops such as tf.cond to execute subgraphs conditioned on the "
                        "value of a tensor.")

    def __iter__(self):
        raise TypeError("Tensor objects are only iterable when eager execution is enabled. "
                        f"To iterate over '{self.name}' use tf.unstack or tf.map_fn.")

    def __len__(self):
        raise TypeError(f"len is not well defined for symbolic Tensors ('{self.name}'). "
                        "Use tf.shape(t)[0] or t.get_shape() instead.")

    __hash__ = object.__hash__

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return self is not other


def _install_operator(name):
    def method(self, *args):
        return _OPERATORS[name](self, *args)
    method.__name__ = name
    setattr(Tensor, name, method)


_OPERATOR_NAMES = ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
              "__truediv__", "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__",
              "__rmod__", "__pow__", "__rpow__", "__matmul__", "__rmatmul__", "__neg__",
              "__abs__", "__lt__", "__le__", "__gt__", "__ge__", "__and__", "__rand__",
              "__or__", "__ror__", "__xor__", "__rxor__", "__invert__", "__getitem__")
for _name in _OPERATOR_NAMES:
    _install_operator(_name)


class Operation:
    """A node: `type`, `inputs`, `outputs`, attrs, requested `device`, control inputs."""

    __slots__ = ("graph", "name", "type", "op_def", "_inputs", "outputs", "attrs", "device",
                 "_control_inputs", "_id", "site", "tag", "origin", "retired", "colocation",
                 "__weakref__")

    def __init__(self, graph, op_def, name, inputs, attrs, control_inputs):
        self.graph, self.op_def, self.name = graph, op_def, name
        self.type = op_def.type
        self._inputs = tuple(inputs)
        self.attrs = attrs
        self._control_inputs = control_inputs
        self.outputs = []
        self.device = ""
        self.colocation = None
        self.site = None
        self.tag = self.origin = None  # owner tag and its label when created ("cell [3]")
        self.retired = None            # set by Graph.discard: the label of what replaced it
        self._id = None

    inputs = property(lambda self: self._inputs)
    control_inputs = property(lambda self: list(self._control_inputs))

    def values(self):
        return tuple(self.outputs)

    def get_attr(self, name):
        if name not in self.attrs:
            raise ValueError(f"Operation '{self.name}' ({self.type}) has no attr named '{name}'.")
        return self.attrs[name]

    def _add_control_input(self, op):
        if op not in self._control_inputs:
            self._control_inputs.append(op)
            self.graph._bump()

    def run(self, feed_dict=None, session=None):
        from .context import session_for
        session_for(self.graph, session, "Operation.run()").run(self, feed_dict)

    def describe(self):
        """'name' (Type) created at file:line — the phrase used in error messages."""
        return f"'{self.name}' ({self.type}) created at {format_site(self.site, self.origin)}"

    def __repr__(self):
        return f"<tf.Operation '{self.name}' type={self.type}>"

    __hash__ = object.__hash__

    def __eq__(self, other):
        return self is other
