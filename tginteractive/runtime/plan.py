"""Planning: (graph, fetches, feeds) → a frozen Plan, through pure, separately tested steps.

    prune  → the ops the fetches need, stopping at fed tensors
    check  → every needed placeholder is fed (error names it and the fetch that needs it)
    place  → the device each op runs on (requested device is recorded, placement is actual)
    order  → creation order, which is topological
"""
from ..framework import errors
from ..framework.graph import Operation, Tensor

LOCAL_CPU = "/job:localhost/replica:0/task:0/device:CPU:0"


class Plan:
    """What one `Session.run` signature executes. Immutable once built."""

    __slots__ = ("version", "targets", "feeds", "ops", "placement")

    def __init__(self, version, targets, feeds, ops, placement):
        self.version = version        # graph version the plan was built against
        self.targets = targets        # tuple of Tensor/Operation, the flattened fetches
        self.feeds = feeds            # tuple of fed Tensors
        self.ops = ops                # tuple of Operations in execution order
        self.placement = placement    # {op: actual device string}

    def __repr__(self):
        return f"<Plan {len(self.ops)} ops, {len(self.targets)} fetches, {len(self.feeds)} feeds>"


def prune(targets, feeds):
    """The set of ops needed to compute `targets`, not looking past fed tensors (an op whose
    outputs are all fed counts as done, also when it is only a control input)."""
    fed = set(feeds)
    needed = set()
    stack = [t.op if isinstance(t, Tensor) else t for t in targets if t not in fed]
    while stack:
        op = stack.pop()
        if op in needed:
            continue
        needed.add(op)
        refs = op.op_def.ref_inputs
        for i, t in enumerate(op.inputs):
            if t not in fed and t.op not in needed and i not in refs:
                stack.append(t.op)
        stack.extend(c for c in op._control_inputs if c not in needed
                     and not (c.outputs and all(t in fed for t in c.outputs)))
    return needed


def check_feeds(needed, targets, feeds):
    """Raise InvalidArgumentError naming a needed-but-unfed placeholder and a fetch needing it."""
    for op in sorted(needed, key=lambda o: o._id):
        if op.type == "Placeholder":
            fetch = next(t for t in targets if op in prune([t], feeds))
            out = op.outputs[0]
            shape = "unknown rank" if out.shape.dims is None else \
                "[" + ",".join("?" if d is None else str(d) for d in out.shape.dims) + "]"
            raise errors.InvalidArgumentError(
                None, op,
                f"You must feed a value for placeholder tensor '{op.name}' with dtype "
                f"{out.dtype.name} and shape {shape}: fetch '{fetch.name}' depends on it. Add "
                f"it to feed_dict, e.g. sess.run(..., feed_dict={{{op.name}: value}}).\n"
                f"\t [[node {op.name} (defined at {_site(op)})]]")


def place(ops, config=None):
    """The device each op runs on. Single local CPU for now; requested devices are kept on ops."""
    return {op: LOCAL_CPU for op in ops}


def order(needed):
    return tuple(sorted(needed, key=lambda o: o._id))


def build_plan(graph, targets, feeds, config=None):
    needed = prune(targets, feeds)
    check_feeds(needed, targets, feeds)
    ops = order(needed)
    return Plan(graph.version, tuple(targets), tuple(feeds), ops, place(ops, config))


def _site(op):
    s = op.site
    return f"{s[0]}:{s[1]}" if s else "<unknown>"


def is_fetchable(x):
    return isinstance(x, (Tensor, Operation))
