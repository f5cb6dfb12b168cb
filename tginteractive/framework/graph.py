"""Graph: ops in creation order, names, scopes, collections (construction only; nothing
executes here). Operation and Tensor live in nodes.py and are re-exported from here."""
import contextlib
import re

from . import device_spec, ownership
from .graph_keys import GraphKeys  # noqa: F401 - public here, as in TF
from .nodes import (_OPERATOR_NAMES, _OPERATORS, Operation, Tensor,  # noqa: F401
                    format_site, user_site)
from .ownership import active_tag, on_discard, stale_message, tagged_graphs  # noqa: F401

_VALID_OP_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$")
_VALID_SCOPE_NAME = re.compile(r"^[A-Za-z0-9_.\\/>-]*$")


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

