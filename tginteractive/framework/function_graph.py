"""Function bodies for control flow (TF2's cond_v2/while_v2 design, adapted to this engine).

Each branch of `tf.cond`, and the cond and body of `tf.while_loop`, is traced into its own
FuncGraph nested in the graph the call is made in:

    with tracing(fg):           # fg is the default graph; ops opened on enclosing graphs land
        outputs = fn(*inputs)   # in fg too (e.g. `outer_tensor + 1`), see Graph._redirect

An outer tensor used inside is *captured*: replaced by a placeholder and passed to the
control-flow op as an extra input. Two kinds are mirrored instead: a variable (its VariableV2
op, or a plain read of it) becomes a VariableV2 op of the SAME name inside, so reads and
assigns there use the session's variable state by name; a non-float value known at build
time is copied as a constant, so ops needing static values (axes, shapes) still see it.
Op names share one namespace with the enclosing graph, so they stay unique (`cond/add`,
`cond/add_1` across both branches, as in TF1).

Meta graphs store a FuncGraph with its ops plus the state `_func_graph_state` returns, and a
Branch (an op attr) as `{"branch": [graph index, region index]}`; see the end of this module.
"""
import bisect
import contextlib

import numpy as np

from . import dtypes, registry
from .context import get_default_graph, graph_as_default
from .graph import Graph, Operation, Tensor
from .meta_graph_attrs import register_attr_codec, register_dtype, register_graph_codec

# The dtype of opaque per-run values, e.g. the intermediates a forward control-flow op records
# for its gradient. Not differentiable, never fed by users.
variant = dtypes.DType("variant", np.object_)

_NOT_SAVED = ("Placeholder", "VariableV2", "Const")  # fed, read by name, or folded
_gradients = []  # autodiff.gradients, registered by autodiff itself (ops may not import it)


def set_gradients_function(fn):
    """Called once by `tginteractive.autodiff`: control-flow gradient builders (which live in
    ops/, below autodiff) build the gradients of their bodies with it."""
    _gradients[:] = [fn]


def gradients(ys, xs, grad_ys):
    if not _gradients:
        raise RuntimeError("Gradients of tf.cond/tf.while_loop need tginteractive.autodiff; "
                           "`import tginteractive` registers it.")
    return _gradients[0](ys, xs, grad_ys=grad_ys)


class FuncGraph(Graph):
    """The graph one control-flow body is traced into; see the module docstring."""

    def __init__(self, outer, scope):
        super().__init__()
        self.outer_graph = outer
        self._names_in_use = outer._names_in_use  # one namespace with the enclosing graphs
        self._name_tags = outer._name_tags
        self._scope = self._name_stack = scope.rstrip("/")
        self._collections = {k: list(v) for k, v in outer._collections.items()}
        self._device_stack = list(outer._device_stack)
        self.seed, self._last_id = outer.seed, outer._last_id
        self._building_function = True
        self.captured = []        # outer tensors passed to the op as inputs, in order
        self._inner = {}          # outer tensor -> its tensor in here
        self.outer_controls = []  # enclosing-graph ops named in control_dependencies inside
        self.regions = []         # Branches running this graph (forward, gradients, ...)
        self.sealed = False

    def encloses(self, graph):
        g = self
        while g is not None:
            if g is graph:
                return True
            g = getattr(g, "outer_graph", None)
        return False

    # ---- captures ---------------------------------------------------------------------------
    def capture(self, tensor):
        """The tensor standing for `tensor` (from an enclosing graph) inside this body."""
        inner = self._inner.get(tensor)
        if inner is not None:
            return inner
        source = tensor
        if tensor.graph is not self.outer_graph:
            if not isinstance(self.outer_graph, FuncGraph) or \
                    not self.outer_graph.encloses(tensor.graph):
                raise ValueError(f"{tensor!r} cannot be used in the body of tf.cond/"
                                 f"tf.while_loop '{self._scope}': it was made inside another "
                                 "branch or loop body (use it only there, or return it), or "
                                 "in another Graph.")
            source = self.outer_graph.capture(tensor)
        inner = self._inner.get(source)
        if inner is None:
            inner = self._capture_local(source)
        self._inner[tensor] = inner
        return inner

    def _capture_local(self, t):
        if self.sealed:
            raise RuntimeError(f"Internal error: '{t.name}' captured into the finished body "
                               f"'{self._scope}'.")
        op = t.op
        if op.type == "VariableV2":
            inner = self._own_op("VariableV2", [], dict(op.attrs), op.name + "/")
            self.captured.append(t)
        elif op.type == "Identity" and op.inputs[0].op.type == "VariableV2":  # v.value()
            inner = self._own_op("Identity", [self.capture(op.inputs[0])], {}, "read")
        elif not (t.dtype.is_floating or t.dtype.is_complex) and t.dtype is not variant \
                and registry.constant_value(t) is not None:
            value = np.asarray(registry.constant_value(t), dtype=t.dtype.as_numpy_dtype)
            inner = self._own_op("Const", [], {"value": value, "dtype": t.dtype}, "Const")
        else:
            inner = self._own_op("Placeholder", [], {"dtype": t.dtype, "shape": t.shape},
                                 "input")
            self.captured.append(t)
        self._inner[t] = inner
        return inner

    def _own_op(self, op_type, inputs, attrs, name):
        """A bookkeeping op made right here, outside the user's current scopes."""
        op_def = registry.OPS[op_type]
        saved = (self._redirect, self._control_stack, self._colocation_stack, self._name_stack)
        self._redirect, self._control_stack, self._colocation_stack = None, [], []
        self._name_stack = self._scope
        try:
            return Graph._create_op(self, op_def, inputs, attrs, name,
                                    op_def._output_specs).outputs[0]
        finally:
            (self._redirect, self._control_stack, self._colocation_stack,
             self._name_stack) = saved

    # ---- construction hooks -----------------------------------------------------------------
    def _create_op(self, op_def, inputs, attrs, name, output_specs_fn):
        if self._redirect is not None:
            return self._redirect._create_op(op_def, inputs, attrs, name, output_specs_fn)
        if op_def.type == "VariableV2":
            raise ValueError(f"Cannot create variable '{(name or 'Variable').rstrip('/')}' "
                             f"inside the body of tf.cond/tf.while_loop '{self._scope}'. "
                             "Create it before the call and use it inside the body.")
        inputs = [t if t.graph is self else self.capture(t) for t in inputs]
        return Graph._create_op(self, op_def, inputs, attrs, name, output_specs_fn)

    def control_dependencies(self, control_inputs):
        """Enclosing-graph ops named here become control inputs of the control-flow op."""
        if self._redirect is not None or control_inputs is None:
            return super().control_dependencies(control_inputs)
        inner = []
        for c in control_inputs:
            element = getattr(c, "_as_graph_element", lambda: c)()
            op = element.op if isinstance(element, Tensor) else element
            if isinstance(op, Operation) and op.graph is not self and self.encloses(op.graph):
                if op not in self.outer_controls:
                    self.outer_controls.append(op)
            else:
                inner.append(c)
        return super().control_dependencies(inner)

    def seal(self):
        """Tracing is over: no more captures; enclosing graphs continue after these op ids."""
        self.sealed = True
        self.outer_graph._last_id = max(self.outer_graph._last_id, self._last_id)


def innermost_graph():
    """The graph new ops go to now: the default graph, or the body being traced inside it."""
    graph = get_default_graph()
    while graph._redirect is not None:
        graph = graph._redirect
    return graph


@contextlib.contextmanager
def tracing(fg, name_stack=None):
    """Build ops into `fg`: it is the default graph, and ops or scopes opened on any graph
    enclosing it are redirected into it."""
    chain, graph = [], fg.outer_graph
    while graph is not None:
        chain.append((graph, graph._redirect))
        graph._redirect = fg
        graph = getattr(graph, "outer_graph", None)
    old_stack = fg._name_stack
    if name_stack is not None:
        fg._name_stack = name_stack
    try:
        with graph_as_default(fg):
            yield fg
    finally:
        for graph, redirect in chain:
            graph._redirect = redirect
        fg._name_stack = old_stack


def add_outer_controls(op, bodies):
    """Give `op` the control inputs its bodies named on enclosing graphs."""
    for body in bodies:
        for c in body.outer_controls:
            if c.graph is op.graph:
                op._add_control_input(c)
            elif isinstance(op.graph, FuncGraph) and c not in op.graph.outer_controls:
                op.graph.outer_controls.append(c)


class Branch:
    """A traced body, kept as a control-flow op attr. `inputs` are fed from the op's inputs
    (a mirrored variable, VariableV2, is read by name and never fed); `outputs` are fetched.
    `saved` are intermediates the body's gradient reads: the op's run returns their values as
    its trace (a dict), and the gradient op feeds them back instead of recomputing them, so
    random draws and assigns happen once. Ops with ids after `start` (up to the next Branch
    on the same graph) are this branch's region: forward, its gradient, the gradient's
    gradient, ... all share one graph."""

    def __init__(self, graph, inputs, outputs, start=0):
        self.graph, self.inputs, self.outputs = graph, tuple(inputs), tuple(outputs)
        self.fed = tuple(i for i, t in enumerate(self.inputs) if t.op.type != "VariableV2")
        self.feeds = tuple(self.inputs[i] for i in self.fed)
        self.saved, self.start, self.record = [], start, False
        self._fetches = self.outputs
        graph.regions.append(self)

    def fetches(self):
        return self._fetches

    def save(self, tensor):
        if tensor not in self.saved:
            self.saved.append(tensor)
            self._fetches = self.outputs + tuple(self.saved)

    def __repr__(self):
        return f"<Branch of '{self.graph._scope}': {len(self.outputs)} outputs>"

    def to_json(self, writer):
        """Its tensors as meta graph references; `start` as the number of ops before it."""
        ids = [op._id for op in self.graph._ops]
        return {"inputs": [writer.ref(t) for t in self.inputs],
                "outputs": [writer.ref(t) for t in self.outputs],
                "saved": [writer.ref(t) for t in self.saved],
                "start": bisect.bisect_right(ids, self.start), "record": self.record}

    @classmethod
    def from_json(cls, graph, data, reader):
        """The Branch `to_json` stored, as the next region of `graph` (its ops imported)."""
        tensors = {key: [reader.resolve("tensor", ref) for ref in data[key]]
                   for key in ("inputs", "outputs", "saved")}
        if any(t.graph is not graph for group in tensors.values() for t in group):
            raise ValueError(f"a region of '{graph._scope}' names a tensor of another graph")
        before = data["start"]
        if type(before) is not int or not 0 <= before <= len(graph._ops):
            raise ValueError(f"a region of '{graph._scope}' starts at {before!r:.20}")
        branch = cls(graph, tensors["inputs"], tensors["outputs"],
                     graph._ops[before - 1]._id if before else 0)
        for t in tensors["saved"]:
            branch.save(t)
        branch.record = bool(data["record"])
        return branch


def record_saved(graph, mark):
    """Gradient ops were just added to `graph` after op id `mark`: each older tensor they read
    is saved by the Branch whose region computed it."""
    regions = sorted(graph.regions, key=lambda b: b.start)
    for op in reversed(graph._ops):
        if op._id <= mark:
            break
        for t in op.inputs:
            if t.op._id <= mark and t.op.type not in _NOT_SAVED:
                owner = [b for b in regions if b.start < t.op._id][-1]
                owner.save(t)


# ---- nested structures (lists, tuples, namedtuples, dicts by sorted key) ------------------------
def _is_nested(x):
    return isinstance(x, (list, tuple, dict))


def flatten(structure, sequences=(list, tuple)):
    """The leaves of a nested structure (dicts by sorted key; `sequences` nest)."""
    if isinstance(structure, dict):
        return [leaf for k in sorted(structure) for leaf in flatten(structure[k], sequences)]
    if isinstance(structure, sequences):
        return [leaf for item in structure for leaf in flatten(item, sequences)]
    return [structure]


def pack(structure, leaves, sequences=(list, tuple)):
    """`structure` with its leaves replaced, in order, by `leaves`."""
    it = iter(leaves)

    def build(s):
        if isinstance(s, dict):
            built = {k: build(s[k]) for k in sorted(s)}
            return type(s)((k, built[k]) for k in s)
        if isinstance(s, sequences):
            items = [build(x) for x in s]
            return type(s)(*items) if hasattr(s, "_fields") else type(s)(items)
        return next(it)
    return build(structure)


def same_structure(a, b):
    if isinstance(a, dict) or isinstance(b, dict):
        return isinstance(a, dict) and isinstance(b, dict) and set(a) == set(b) and \
            all(same_structure(a[k], b[k]) for k in a)
    if _is_nested(a) or _is_nested(b):
        return _is_nested(a) and _is_nested(b) and len(a) == len(b) and \
            getattr(type(a), "_fields", None) == getattr(type(b), "_fields", None) and \
            all(same_structure(x, y) for x, y in zip(a, b))
    return True


def describe(structure):
    """The shape of a structure, leaves as '.', in backticks: `[., (., .)]`, `{'a': .}`."""
    return f"`{_describe(structure)}`"


def _describe(structure):
    if isinstance(structure, dict):
        return "{" + ", ".join(f"{k!r}: {_describe(structure[k])}"
                               for k in sorted(structure)) + "}"
    if isinstance(structure, (list, tuple)):
        inner = ", ".join(_describe(x) for x in structure)
        if hasattr(structure, "_fields"):
            return f"{type(structure).__name__}({inner})"
        if isinstance(structure, list):
            return f"[{inner}]"
        return f"({inner}{',' * (len(structure) == 1)})"
    return "."


# ---- meta graphs (framework/meta_graph.py, meta_graph_attrs.py) ---------------------------------
def _func_graph_state(fg, writer):
    """All a FuncGraph holds besides its ops: the outer tensors it captured, in order, and the
    placeholders or mirrored variables standing for them; outer control inputs; its Branches."""
    return {"scope": fg._scope, "captured": [writer.ref(t) for t in fg.captured],
            "inner": [writer.ref(fg._inner[t]) for t in fg.captured],
            "outer_controls": [writer.ref(op) for op in fg.outer_controls],
            "regions": [branch.to_json(writer) for branch in fg.regions], "sealed": fg.sealed}


def _restore_func_graph(fg, state, reader):
    captured = [reader.resolve("tensor", ref) for ref in state["captured"]]
    inner = [reader.resolve("tensor", ref) for ref in state["inner"]]
    if len(inner) != len(captured) or any(t.graph is not fg for t in inner) or \
            any(t.graph is not fg.outer_graph for t in captured):
        raise ValueError(f"the captures of '{fg._scope}' do not match its graphs")
    fg.captured, fg._inner = captured, dict(zip(captured, inner))
    fg.outer_controls = [reader.resolve("op", ref) for ref in state["outer_controls"]]
    for data in state["regions"]:
        Branch.from_json(fg, data, reader)
    if state["sealed"]:
        fg.seal()


def _decode_branch(payload, reader):
    index, region = payload
    regions = reader.nested_graph(index).regions
    if type(region) is not int or not 0 <= region < len(regions):
        raise ValueError(f"function #{index} has no region {region!r:.20}")
    return regions[region]


register_dtype(variant)
register_graph_codec("FuncGraph", FuncGraph, _func_graph_state,
                     lambda outer, state, reader: FuncGraph(outer, str(state["scope"])),
                     _restore_func_graph)
register_attr_codec("branch", Branch,
                    lambda b, writer: [writer.graph_index(b.graph), b.graph.regions.index(b)],
                    _decode_branch)
