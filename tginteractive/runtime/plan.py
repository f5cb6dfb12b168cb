"""Planning: (graph, fetches, feeds) → a frozen Plan, through pure, separately tested steps.

    prune  → the ops the fetches need, stopping at fed tensors
    check  → every needed placeholder is fed (error names it and the fetch that needs it)
    place  → the device each op runs on (TF1's rules; the request stays on the op, the actual
             device and the reason are PlacementRecords on the plan)
    order  → creation order, which is topological
"""
from ..framework import errors
from ..framework.graph import Operation, Tensor, format_site, stale_message
from . import devices as devices_lib

LOCAL_CPU = "/job:localhost/replica:0/task:0/device:CPU:0"
SOFT_PLACEMENT = "soft placement"  # how the reason of a fallback placement starts


class Plan:
    """What one `Session.run` signature executes. Immutable once built."""

    __slots__ = ("version", "targets", "feeds", "ops", "placement", "records", "devices")

    def __init__(self, version, targets, feeds, ops, placement, records=(), device_list=()):
        self.version = version        # graph version the plan was built against
        self.targets = targets        # tuple of Tensor/Operation, the flattened fetches
        self.feeds = feeds            # tuple of fed Tensors
        self.ops = ops                # tuple of Operations in execution order
        self.placement = placement    # {op: the Device it actually runs on}
        self.records = records        # PlacementRecords: requested vs actual device, and why
        self.devices = device_list    # the session's devices

    def __repr__(self):
        return f"<Plan {len(self.ops)} ops, {len(self.targets)} fetches, {len(self.feeds)} feeds>"


def prune(targets, feeds):
    """The set of ops needed to compute `targets`, not looking past fed tensors (an op whose
    outputs are all fed counts as done, also when it is only a control input)."""
    fed = set(feeds)
    needed = set()
    for t in (*targets, *feeds):
        if (t.op if isinstance(t, Tensor) else t).retired is not None:
            raise errors.FailedPreconditionError(None, None, stale_message(t, None))
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
            if t.op.retired is not None:
                raise errors.FailedPreconditionError(None, op, stale_message(t, op))
        for c in op._control_inputs:
            if c.retired is not None:
                raise errors.FailedPreconditionError(None, op, stale_message(c, op))
            if c not in needed and not (c.outputs and all(t in fed for t in c.outputs)):
                stack.append(c)
    return needed


def check_feeds(needed, targets, feeds):
    """Raise InvalidArgumentError naming a needed-but-unfed placeholder and a fetch needing it."""
    for op in sorted(needed, key=lambda o: o._id):
        if op.type == "Placeholder":
            fetch = next(t for t in targets if op in prune([t], feeds))
            out = op.outputs[0]
            shape = "" if out.shape.dims is None else " and shape [" + ",".join(
                "?" if d is None else str(d) for d in out.shape.dims) + "]"  # TF1's wording
            raise errors.InvalidArgumentError(
                None, op,
                f"You must feed a value for placeholder tensor '{op.name}' with dtype "
                f"{out.dtype.name}{shape}: fetch '{fetch.name}' depends on it. Add "
                f"it to feed_dict, e.g. sess.run(..., feed_dict={{{op.name}: value}}).\n"
                f"\t [[node {op.name} (defined at {_site(op)})]]")


class PlacementRecord:
    """Where one op runs and why: what log_device_placement prints and views draw."""

    __slots__ = ("op", "requested", "device", "reason")

    def __init__(self, op, device, reason):
        self.op, self.requested, self.device, self.reason = op, op.device, device, reason

    @property
    def fallback(self):
        """True when soft placement moved the op off the device it asked for."""
        return self.reason.startswith(SOFT_PLACEMENT)

    def line(self):
        """TF1's log_device_placement line."""
        return f"{self.op.name}: ({self.op.type}): {self.device.name}"

    def __repr__(self):
        return (f"PlacementRecord({self.op.name!r}, {self.op.type}, requested="
                f"{self.requested!r}, device={self.device.describe()!r}, reason={self.reason!r})")


def _host_only(op):
    return op.op_def.host_only or any(t.dtype.name == "string"
                                      for t in list(op.inputs) + op.outputs)


def _no_device(op, wanted, device_list):
    names = ", ".join(d.name for d in device_list)
    return errors.InvalidArgumentError(
        None, op, f"Cannot assign a device for operation {op.name}: {{{{node {op.name}}}}} was "
        f"explicitly assigned to {wanted} but available devices are [ {names} ]. Make sure "
        "the device specification refers to a valid device (or create the Session with "
        "tf.ConfigProto(allow_soft_placement=True) to fall back to an available device).")


class _Placer:
    """TF1's placement rules over a device list (see `place`)."""

    def __init__(self, device_list, soft):
        self.devices, self.soft = device_list, soft
        self.cpu = device_list[0]
        gpus = [d for d in device_list if d.device_type == "GPU"]
        self.default = gpus[0] if gpus else self.cpu
        self.memo = {}

    def __call__(self, op):
        if op not in self.memo:
            self.memo[op] = self._resolve(op)
        return self.memo[op]

    def _resolve(self, op):
        if op.colocation is not None:
            return self(op.colocation)[0], f"colocated with '{op.colocation.name}'"
        for j in op.op_def.ref_inputs:
            if j < len(op.inputs):
                variable = op.inputs[j].op
                return self(variable)[0], f"with its variable '{variable.name}'"
        spec = devices_lib.parse(op.device)
        host_only = _host_only(op)
        if not devices_lib.is_local(spec):
            return self._fallback(op, op.device, "not a local device")
        if spec.device_type is None:
            if host_only and self.default.device_type == "GPU":
                return self.cpu, "no GPU kernel"
            return self.default, "default"
        if host_only and spec.device_type == "GPU":
            if not self.soft:
                raise errors.InvalidArgumentError(
                    None, op, f"Cannot assign a device for operation {op.name}: Could not "
                    f"satisfy explicit device specification '{op.device}' because no supported "
                    "kernel for GPU devices is available.")
            return self.cpu, f"{SOFT_PLACEMENT}: no GPU kernel"
        device = devices_lib.find(self.devices, spec)
        if device is None:
            return self._fallback(op, op.device, "not available")
        return device, "requested"

    def _fallback(self, op, wanted, why):
        """TF1's soft placement drops the requested type and index and takes the
        highest-priority device that has a kernel: the first GPU, else the CPU."""
        if not self.soft:
            raise _no_device(op, wanted, self.devices)
        device = self.cpu if _host_only(op) else self.default
        return device, f"{SOFT_PLACEMENT}: {wanted} {why}"


def place(ops, device_list, config=None):
    """{op: Device} and a PlacementRecord per op, by TF1's rules: colocated ops (e.g. a
    variable's assign) and ops with ref inputs go with their variable; string ops stay on
    the CPU; an unrequested op goes to the first GPU if any, else CPU:0; a request that
    cannot be met is an InvalidArgumentError, or, with allow_soft_placement, falls back to
    the first GPU (CPU:0 for ops without a GPU kernel or when there is no GPU)."""
    placer = _Placer(device_list, bool(config and config.allow_soft_placement))
    records = [PlacementRecord(op, *placer(op)) for op in ops]
    return {r.op: r.device for r in records}, records


def order(needed):
    return tuple(sorted(needed, key=lambda o: o._id))


def build_plan(graph, targets, feeds, config=None, device_list=None):
    needed = prune(targets, feeds)
    check_feeds(needed, targets, feeds)
    ops = order(needed)
    device_list = device_list or devices_lib.local_devices(config)
    placement, records = place(ops, device_list, config)
    return Plan(graph.version, tuple(targets), tuple(feeds), ops, placement, records,
                device_list)


def _site(op):
    return format_site(op.site, op.origin)


def is_fetchable(x):
    return isinstance(x, (Tensor, Operation))
