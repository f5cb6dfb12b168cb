"""Graph, Operation and Tensor: construction-time records only (nothing executes here)."""
import contextlib
import os
import re
import sys

from . import device_spec, ownership, shapes
from .ownership import active_tag, on_discard, stale_message, tagged_graphs  # noqa: F401
from .graph_keys import GraphKeys  # noqa: F401 - public here, as in TF

_VALID_OP_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$")
_VALID_SCOPE_NAME = re.compile(r"^[A-Za-z0-9_.\\/>-]*$")
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


class Graph:
    """A dataflow graph. Ops are stored in creation order, which is a topological order."""

    closed_note = None  # why sessions may no longer run this graph (set by a notebook reset)

    def __init__(self):
        self._ops = []
        self._by_name = {}
        self._names_in_use = {}
        self._collections = {}
        self._version = 0
        self._finalized = False
        self.seed = None
        self._last_id = 0
        self._name_stack = ""
        self._device_stack = []
        self._control_stack = []
        self._colocation_stack = []
        self._name_tags = {}   # name key -> the tag that took it (tagged code only)
        self._tag_entries = {}  # tag -> [(collection name, value)] added while it was active
        self._building_function = False
        # While tf.cond/tf.while_loop trace a function body into a FuncGraph nested in this
        # graph (framework/function_graph.py), ops and scopes opened on this graph, e.g.
        # `outer_tensor + 1` or name_scope(values=[outer_tensor]), belong in that body.
        self._redirect = None

    # ---- naming -------------------------------------------------------------------------
    def unique_name(self, name, mark_as_used=True):
        """TF1's rule: prefix the name scope; `_N` suffixes; collisions case-insensitive."""
        if self._name_stack:
            name = self._name_stack + "/" + name
        key = name.lower()
        i = self._names_in_use.get(key, 0)
        if mark_as_used:
            self._names_in_use[key] = i + 1
        if i > 0:
            base_key = key
            while key in self._names_in_use:
                key = f"{base_key}_{i}"
                i += 1
            if mark_as_used:
                self._names_in_use[key] = 1
            name = f"{name}_{i - 1}"
        if mark_as_used and active_tag[0] is not None:  # each key is taken once, by one owner
            self._name_tags[key] = active_tag[0]
        return name

    def get_name_scope(self):
        if self._redirect is not None:  # a function body is being traced (see __init__)
            return self._redirect.get_name_scope()
        return self._name_stack

    @contextlib.contextmanager
    def name_scope(self, name):
        if self._redirect is not None:  # a function body is being traced (see __init__)
            with self._redirect.name_scope(name) as scope:
                yield scope
            return
        if name:
            regex = _VALID_SCOPE_NAME if self._name_stack else _VALID_OP_NAME
            if not regex.match(name):
                kind = "scope" if self._name_stack else "root scope"
                raise ValueError(f"'{name}' is not a valid {kind} name. A {kind} name has to "
                                 f"match the following pattern: {regex.pattern}")
        old = self._name_stack
        if not name:
            new, returned = "", ""
        elif name[-1] == "/":
            new, returned = name[:-1], name
        else:
            new = self.unique_name(name)
            returned = new + "/"
        self._name_stack = new
        try:
            yield returned
        finally:
            self._name_stack = old

    # ---- construction-time scopes -------------------------------------------------------
    @contextlib.contextmanager
    def _pushed(self, stack, entry):
        depth = len(stack)
        stack.append(entry)
        try:
            yield
        finally:
            del stack[depth:]  # tolerant: also repairs entries left by an interrupted cell

    def device(self, device_name_or_function):
        if self._redirect is not None:  # a function body is being traced (see __init__)
            return self._redirect.device(device_name_or_function)
        entry = device_name_or_function
        if isinstance(entry, device_spec.DeviceSpec):
            entry = entry.to_string()
        if entry is not None and not callable(entry):
            device_spec.canonical_name(entry)  # validate now, not at op creation
        return self._pushed(self._device_stack, entry)

    def control_dependencies(self, control_inputs):
        if self._redirect is not None:  # a function body is being traced (see __init__)
            return self._redirect.control_dependencies(control_inputs)
        if control_inputs is None:
            return self._pushed(self._control_stack, None)
        ops = []
        for c in control_inputs:
            c = getattr(c, "_as_graph_element", lambda: c)()
            c = c.op if isinstance(c, Tensor) else c
            if not isinstance(c, Operation):
                raise TypeError(f"Control input must be an Operation, a Tensor or a Variable: "
                                f"got {c!r}")
            self._check_same_graph(c)
            ops.append(c)
        return self._pushed(self._control_stack, ops)

    def colocate_with(self, op, ignore_existing=False):
        if self._redirect is not None:  # a function body is being traced (see __init__)
            return self._redirect.colocate_with(op, ignore_existing)
        op = getattr(op, "_as_graph_element", lambda: op)()
        op = op.op if isinstance(op, Tensor) else op
        return self._pushed(self._colocation_stack, op)

    def _current_device(self, op):
        device = ""
        for entry in self._device_stack:
            if entry is None:
                device = ""
            elif callable(entry):
                device = device_spec.merge_device(device, entry(op) or "")
            else:
                device = device_spec.merge_device(device, entry)
        return device

    def _current_control_inputs(self):
        ops = []
        for entry in self._control_stack:
            if entry is None:
                ops = []
            else:
                ops.extend(o for o in entry if o not in ops)
        return ops

    # ---- ops ------------------------------------------------------------------------------
    def _create_op(self, op_def, inputs, attrs, name, output_specs_fn):
        if self._redirect is not None:  # a function body is being traced (see __init__)
            return self._redirect._create_op(op_def, inputs, attrs, name, output_specs_fn)
        if self._finalized:
            raise RuntimeError("Graph is finalized and cannot be modified.")
        for t in inputs:
            if t.op.graph is not self:
                self._check_same_graph(t)
            if t.op.retired is not None:
                raise ValueError(stale_message(t, None))
        if name and name[-1] == "/":
            name = name[:-1]
            self._check_op_name(name)
        elif name:
            self._check_op_name(name)
            name = self.unique_name(name)
        else:  # op types and validated scopes always make valid names
            name = self.unique_name(op_def.type)
        op = Operation(self, op_def, name, inputs, attrs, self._current_control_inputs())
        op.site = user_site()
        specs = output_specs_fn(op)
        op.outputs = [Tensor(op, i, dt, sh) for i, (dt, sh) in enumerate(specs)]
        if self._colocation_stack:
            op.colocation = self._colocation_stack[-1]
            op.device = op.colocation.device
        else:
            op.device = self._current_device(op)
        op.tag, op.origin = active_tag
        if op.tag is not None and not self._building_function:
            tagged_graphs.add(self)
        for c in op._control_inputs:
            if c.retired is not None:
                raise ValueError(stale_message(c, None))
        self._last_id += 1
        op._id = self._last_id
        self._ops.append(op)
        self._by_name[name] = op
        for t in inputs:
            t._consumers.append(op)
        self._bump()
        return op

    @staticmethod
    def _check_op_name(name):
        if not _VALID_OP_NAME.match(name):
            raise ValueError(f"`{name}` is not a valid node name. Accepted names conform to "
                             f"Regex /{_VALID_OP_NAME.pattern}/")

    def _check_same_graph(self, item):
        if item.graph is not self:
            raise ValueError(f"{item!r} must be from the same graph as the other inputs "
                             "(it belongs to another Graph; was the default graph reset?).")

    def _bump(self):
        self._version += 1

    @property
    def version(self):
        return self._version

    def get_operations(self):
        return list(self._ops)

    def get_operation_by_name(self, name):
        if not isinstance(name, str):
            raise TypeError(f"Operation names are strings (or similar), not {type(name).__name__}.")
        op = self._by_name.get(name)
        if op is None:
            raise KeyError(f"The name '{name}' refers to an Operation not in the graph.")
        return op

    def get_tensor_by_name(self, name):
        if not isinstance(name, str):
            raise TypeError(f"Tensor names are strings (or similar), not {type(name).__name__}.")
        op_name, sep, index = name.rpartition(":")
        if not sep or not index.isdigit():
            raise ValueError(f"The name '{name}' looks like an (invalid) Operation name, not a "
                             "Tensor. Tensor names must be of the form \"<op_name>:<output_index>\".")
        op = self._by_name.get(op_name)
        if op is None:
            raise KeyError(f"The name '{name}' refers to a Tensor which does not exist. The "
                           f"operation, '{op_name}', does not exist in the graph.")
        if int(index) >= len(op.outputs):
            raise KeyError(f"The name '{name}' refers to a Tensor which does not exist. The "
                           f"operation, '{op_name}', exists but only has {len(op.outputs)} outputs.")
        return op.outputs[int(index)]

    def as_graph_element(self, obj, allow_tensor=True, allow_operation=True):
        """Resolve a Tensor/Operation/name string to this graph's element (TF's rules)."""
        obj = getattr(obj, "_as_graph_element", lambda: obj)()
        if isinstance(obj, str):
            if ":" in obj and allow_tensor:
                return self.get_tensor_by_name(obj)
            if allow_operation:
                return self.get_operation_by_name(obj)
            raise ValueError(f"Name '{obj}' appears to refer to an Operation, not a Tensor.")
        if isinstance(obj, (Tensor, Operation)):
            if obj.graph is not self:
                raise ValueError(f"{'Tensor' if isinstance(obj, Tensor) else 'Operation'} "
                                 f"{obj} is not an element of this graph.")
            if isinstance(obj, Tensor) and not allow_tensor:
                raise TypeError(f"Can not convert a Tensor into an Operation: {obj}")
            if isinstance(obj, Operation) and not allow_operation:
                raise TypeError(f"Can not convert an Operation into a Tensor: {obj}")
            return obj
        raise TypeError(f"Can not convert a {type(obj).__name__} into a Tensor or Operation.")

    def finalize(self):
        self._finalized = True

    finalized = property(lambda self: self._finalized)

    def as_default(self):
        from .context import graph_as_default
        return graph_as_default(self)

    # ---- collections ----------------------------------------------------------------------
    def add_to_collection(self, name, value):
        self._collections.setdefault(name, []).append(value)
        if active_tag[0] is not None:
            self._tag_entries.setdefault(active_tag[0], []).append((name, value))
        self._bump()

    def add_to_collections(self, names, value):
        for name in ([names] if isinstance(names, str) else set(names)):
            self.add_to_collection(name, value)

    def get_collection_ref(self, name):
        return self._collections.setdefault(name, [])

    def get_collection(self, name, scope=None):
        items = self._collections.get(name, [])
        if scope is None:
            return list(items)
        pattern = re.compile(scope)
        return [i for i in items if isinstance(getattr(i, "name", None), str)
                and pattern.match(i.name)]

    def get_all_collection_keys(self):
        return [k for k, v in self._collections.items() if v]

    def clear_collection(self, name):
        self._collections.pop(name, None)
        self._bump()

    # ---- ownership (notebook cells) -------------------------------------------------------
    def discard(self, tag, replaced_by=None):
        """Retire everything built while `tag` was active (see ownership.discard)."""
        return ownership.discard(self, tag, replaced_by)

    def __repr__(self):
        return f"<tf.Graph with {len(self._ops)} ops>"

