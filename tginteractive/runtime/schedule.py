"""Scheduling a placed Plan over its devices: an execution order and per-device segments.

The plan's own order is creation order, which interleaves devices badly: a model function
creates tower 0's ops, then the shared weights' read ops, then tower 1's ops, so a device
that needs a weight would wait for all of tower 0. Here the ops are reordered, keeping every
constraint of the plan:

- data and control edges (a lazy variable op is not executed; its consumers read it),
- per variable, plan order between writers (ops taking it by reference, and ops consuming
  such an op's output, like a tf.cond whose branches use the variable by name) and readers:
  a reader comes after the writer before it, a writer after that writer and every reader
  since, so values are exactly those of sequential execution,
- plan order among ops with outside effects (Print, py_func, file and iterator ops).

Among the ops that are ready, the one another device needs soonest goes first. Each device's
ops then form segments, its runs between cross-device edges: a segment ends right after an
op another device waits for, and a new one starts at an op that waits for another device.
A segment depends only on the segments holding its first op's cross-device predecessors,
all created earlier, so per-device workers running their segments in order cannot deadlock.
"""
import heapq

_NEVER = float("inf")


class Segment:
    """Ops (plan indices, in execution order) that one device runs without waiting, and the
    indices of the segments on other devices it waits for."""

    def __init__(self, index, device):
        self.index, self.device, self.ops, self.deps = index, device, [], set()
        self.loads = {}  # slot -> local name; filled when the segment is compiled

    def __repr__(self):
        return f"<Segment {self.index} on {self.device.short_name}: {len(self.ops)} ops>"


def _has_effects(op_def):
    """Ops whose effect is outside the session's state keep their plan order. Random ops
    (their generator is their own) and variable ops (ordered per variable) are not included."""
    return op_def.stateful and not op_def.ref_inputs and not op_def.lazy and \
        (op_def.host_only or not op_def.needs_ctx)


def predecessors(plan):
    """For each plan index, the plan indices that must run before it. A lazy op (a
    variable) is never run or waited on: its consumers read it. A value that may share
    memory with a variable (a read passed through views, an update's result, a cond's
    output) is read from the variable, so its consumers count as readers of it."""
    index = {op: i for i, op in enumerate(plan.ops)}
    fed = set(plan.feeds)
    preds = [set() for _ in plan.ops]
    holds = {}  # tensor -> names of the variables whose memory it may share
    writer, readers, last_effect = {}, {}, None
    for i, op in enumerate(plan.ops):
        if op.op_def.lazy:
            holds.update((t, {op.name}) for t in op.outputs)
            continue
        refs = op.op_def.ref_inputs
        reads, writes = set(), _named(op)
        for j, t in enumerate(op.inputs):
            if j not in refs and t not in fed and t.op in index:
                reads.update(holds.get(t, ()))
                if not t.op.op_def.lazy:
                    preds[i].add(index[t.op])
                if t.op.op_def.ref_inputs and not t.op.op_def.aliases:
                    writes.update(_named(t.op))  # e.g. RefCapture: a cond reads it by name
        for c in op._control_inputs:
            if c in index and not c.op_def.lazy:
                preds[i].add(index[c])
        for name in reads - writes:
            if name in writer:
                preds[i].add(writer[name])
            readers.setdefault(name, []).append(i)
        for name in writes:
            if name in writer:
                preds[i].add(writer[name])
            preds[i].update(readers.pop(name, ()))
            writer[name] = i
        if _has_effects(op.op_def):
            if last_effect is not None:
                preds[i].add(last_effect)
            last_effect = i
        if op.op_def.aliases:  # outputs may be views of input 0 (of any input: cond, while)
            held = set(writes)
            for t in op.inputs:
                if t not in fed:
                    held.update(holds.get(t, ()))
            holds.update((t, held) for t in op.outputs if held)
        preds[i].discard(i)
    return preds


def _named(op):
    """The variables an op takes by reference."""
    refs = op.op_def.ref_inputs
    return {t.op.name for j, t in enumerate(op.inputs) if j in refs}


def execution_order(plan, preds):
    """A topological order of the non-lazy plan indices that runs first, among ready ops,
    the one whose result another device needs at the earliest plan position."""
    n = len(plan.ops)
    succs = [[] for _ in range(n)]
    for i, ps in enumerate(preds):
        for p in ps:
            succs[p].append(i)
    device = [plan.placement[op] for op in plan.ops]
    needed_by = [_NEVER] * n
    for i in range(n - 1, -1, -1):
        for s in succs[i]:
            needed_by[i] = min(needed_by[i], s if device[s] is not device[i] else needed_by[s])
    waiting = [len(ps) for ps in preds]
    ready = [(needed_by[i], i) for i, op in enumerate(plan.ops)
             if not waiting[i] and not op.op_def.lazy]
    heapq.heapify(ready)
    order = []
    while ready:
        _, i = heapq.heappop(ready)
        order.append(i)
        for s in succs[i]:
            waiting[s] -= 1
            if not waiting[s]:
                heapq.heappush(ready, (needed_by[s], s))
    return order


def segments(plan):
    """The plan's execution order cut into per-device Segments (see the module docstring)."""
    preds = predecessors(plan)
    device = [plan.placement[op] for op in plan.ops]
    crosses = {p for i, ps in enumerate(preds) for p in ps if device[p] is not device[i]}
    result, open_segment, owner = [], {}, {}
    for i in execution_order(plan, preds):
        waits = {owner[p] for p in preds[i] if device[p] is not device[i]}
        seg = open_segment.get(device[i])
        if seg is None or waits:
            seg = open_segment[device[i]] = Segment(len(result), device[i])
            seg.deps = waits
            result.append(seg)
        seg.ops.append(i)
        owner[i] = seg.index
        if i in crosses:
            open_segment.pop(device[i])
    return result
