"""Per-cell graph ownership: re-running a cell replaces what its previous execution built.

Before a cell runs, everything its previous execution built is retired (`Graph.discard` on
every graph holding its ops), and the cell becomes the owner tag of every op it creates
(`tag_scope`). Names, `get_variable`, collections and `merge_all` therefore come out as if
the cell had run once. Live sessions keep the values of variables re-created with the same
name, shape and dtype (the cell says which); changed ones start uninitialised.

A cell is identified by the id JupyterLab / Notebook 7 / VS Code send with each execution
(`info.cell_id`). Front ends that send none (the IPython terminal, nbclient, nbval) fall back
to the cell's source text: re-running identical code replaces its ops, and an edited cell
counts as a new one.
"""
import hashlib
from dataclasses import dataclass, field

from ..framework import context
from ..framework import graph as graph_module
from ..runtime.session import BaseSession
from ..summary import writer as writer_module


@dataclass
class CellRecord:
    """What one cell's latest execution built."""
    key: str
    label: str                                    # "cell [3]"
    ops: dict = field(default_factory=dict)       # name -> (type, input names) of its ops
    previous: dict = field(default_factory=dict)  # the same for the execution before
    kept: list = field(default_factory=list)      # variables whose session values were kept
    reset: list = field(default_factory=list)     # variables re-created with a new shape/dtype


class CellTracker:
    """The pre/post_run_cell hooks of the extension, and what `%tg_cell` reports."""

    def __init__(self, shell):
        self.shell = shell
        self.keep_values = True
        self.cells = {}       # cell key -> CellRecord
        self.current = None   # the CellRecord of the running cell
        self.last = None      # the CellRecord of the last cell run
        self._retired_vars = {}
        self._outer = []      # (record, active tag, retired variables) of cells running
        #                       get_ipython().run_cell(...) from inside, innermost last

    # ---- hooks ------------------------------------------------------------------------------
    def pre_run_cell(self, info):
        key = info.cell_id or "source:" + hashlib.sha1(info.raw_cell.encode()).hexdigest()[:12]
        if self.current is not None:  # run_cell() from inside a cell: labelled as that cell
            self._outer.append((self.current, list(graph_module.active_tag),
                                self._retired_vars))
            label = self.current.label
        else:
            label = f"cell [{self.shell.execution_count - (1 if info.store_history else 0)}]"
            context.top_level_depth[0] = len(context._graph_stack)
        record = self.cells.get(key) or CellRecord(key, "")
        record.label, record.previous, record.ops = label, record.ops, {}
        self.cells[key] = self.current = record
        self._retired_vars = self._retire(key, record.label)
        graph_module.active_tag[:] = [key, record.label]

    def post_run_cell(self, result=None):
        record = self.current
        if self._outer:
            self.current, graph_module.active_tag[:], outer_retired = self._outer.pop()
        else:
            self.current, outer_retired = None, None
            graph_module.active_tag[:] = [None, None]
            context.top_level_depth[0] = None
        if record is None:
            return
        self._report(record)
        if outer_retired is not None:
            self._retired_vars = outer_retired

    def _report(self, record):
        self.last = record
        created = self._snapshot(record.key)
        record.ops = {op.name: _signature(op) for op in created}
        record.kept, record.reset = self._compare_variables(created)
        if record.kept:
            print(f"tginteractive: kept the values of {len(record.kept)} variable(s) re-created "
                  f"by this cell: {', '.join(record.kept)} (%tg_cell --keep-values no: start "
                  f"them fresh instead)")

    # ---- retiring and comparing ---------------------------------------------------------------
    def _retire(self, key, label):
        """Discard what the cell's previous execution built; {variable name: (shape, dtype)}."""
        variables = {}
        for graph in list(graph_module.tagged_graphs):
            if graph.closed_note:
                continue
            for op in graph.discard(key, replaced_by=label):
                if op.type == "VariableV2":
                    variables[op.name] = (op.attrs["shape"], op.attrs["dtype"])
        if not self.keep_values:
            for session in list(BaseSession.live):
                for name in variables:
                    session._state.variables.pop(name, None)
        return variables

    @staticmethod
    def _snapshot(key):
        return [op for graph in list(graph_module.tagged_graphs) if not graph.closed_note
                for op in graph.get_operations() if op.tag == key]

    def _compare_variables(self, created):
        """(kept, reset): re-created variables whose live-session values survive or not."""
        kept, reset = [], []
        held = {name for s in list(BaseSession.live) for name in s._state.variables}
        for op in created:
            old = self._retired_vars.get(op.name) if op.type == "VariableV2" else None
            if old is None:
                continue
            same = old[0].as_list() == op.attrs["shape"].as_list() if old[0].dims is not None \
                else op.attrs["shape"].dims is None
            if same and old[1] is op.attrs["dtype"] and op.name in held:
                kept.append(op.name)
            elif not same or old[1] is not op.attrs["dtype"]:
                reset.append(op.name)
        return kept, reset

    # ---- queries --------------------------------------------------------------------------------
    def diff(self, record=None):
        """(added, removed, changed) op names between a cell's last two executions."""
        record = record or self.last
        if record is None:
            return set(), set(), set()
        new, old = record.ops, record.previous
        changed = {name for name in new.keys() & old.keys() if new[name] != old[name]}
        return set(new) - set(old), set(old) - set(new), changed

    def owned(self, record=None):
        """The live ops the cell owns, in creation order."""
        record = record or self.current or self.last
        return self._snapshot(record.key) if record else []


def _signature(op):
    return op.type, tuple(t.name for t in op.inputs)


def install_policies(tracker):
    """Notebook policies in the engine: forgiving resets, one writer per logdir."""
    writer_module.one_writer_per_logdir[0] = True

    def on_reset(old_graph):
        label = tracker.current.label if tracker.current else "a notebook cell"
        old_graph.closed_note = f"the default graph was reset in {label}"
        old_graph._bump()
        tracker.cells.clear()  # what the cells built went with the old graph
    context.add_reset_hook(on_reset)
    return on_reset


def remove_policies(on_reset):
    writer_module.one_writer_per_logdir[0] = False
    if on_reset in context._reset_hooks:
        context._reset_hooks.remove(on_reset)
    graph_module.active_tag[:] = [None, None]
    context.top_level_depth[0] = None
