"""What the magics display: each function builds one view from engine objects."""
import contextlib
import html

from ..framework import context
from ..runtime.devices import local_devices


class Table:
    """A small table that reads well everywhere: aligned text/plain and an escaped HTML table."""

    def __init__(self, title, header, rows):
        self.title, self.header, self.rows = title, header, [[str(c) for c in r] for r in rows]

    def __repr__(self):
        cols = [self.header] + self.rows
        widths = [max(len(r[i]) for r in cols) for i in range(len(self.header))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cols]
        return "\n".join([self.title] + lines)

    def _repr_pretty_(self, printer, cycle):
        printer.text(repr(self))

    def _repr_html_(self):
        def row(cells, tag):
            return "<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in cells) + "</tr>"
        body = "".join(row(r, "td") for r in self.rows)
        return (f"<b>{html.escape(self.title)}</b><table>{row(self.header, 'th')}{body}"
                "</table>")


def devices(session=None):
    session = session or context.get_default_session()
    config = getattr(session, "_config", None)
    found = local_devices(config)
    rows = [[d.name, d.device_type, "NumPy" if d.backend.name == "numpy" else "CuPy",
             "simulated on the CPU" if d.simulated else ""] for d in found]
    where = "this session's" if session is not None else "a default Session's"
    return Table(f"{len(found)} device(s), {where} view", ["name", "type", "backend", "note"],
                 rows)


def cell_report(cells):
    record = cells.current or cells.last
    if record is None:
        return Table("No notebook cell has built anything yet.", ["op", "type"], [])
    ops = cells.owned(record)
    added, removed, changed = cells.diff(record)
    lines = [f"{record.label} owns {len(ops)} op(s)"]
    variables = [op.name for op in ops if op.type == "VariableV2"]
    if variables:
        lines.append("variables: " + ", ".join(variables))
    if record.previous:
        lines.append(f"since its previous run: {len(added)} added, {len(removed)} removed, "
                     f"{len(changed)} changed")
    if record.kept:
        lines.append("kept values of: " + ", ".join(record.kept))
    if record.reset:
        lines.append("re-created with a new shape/dtype (uninitialised): "
                     + ", ".join(record.reset))
    lines.append("keep values of re-created variables: " + ("yes" if cells.keep_values else "no"))
    return Table("\n".join(lines), ["op", "type", "device"],
                 [[op.name, op.type, op.device] for op in ops])


def graph(target, depth, color, session, diff):
    from .widgets import graph_view
    placement = session.last_executable.plan.records if session and \
        session.last_executable else None
    step_stats = session.last_step_stats if session else None
    if color == "time" and not step_stats:
        print("tginteractive: no timings yet: run once with options=tf.RunOptions("
              "trace_level=tf.RunOptions.FULL_TRACE) (or inside %%tg_live)")
    return graph_view.show_graph(target, depth=depth, color=color, placement=placement,
                                 step_stats=step_stats or None, diff=diff)


def placement(session, records, placeholders, ran=False):
    """A dry run's placement (`ran=False`), or the last run's, with its timings if traced."""
    from .widgets import placement_view
    if not ran:
        return placement_view.PlacementView(records=records, placeholders=placeholders)
    view = placement_view.PlacementView()
    view.stats.add_run(records, session.last_step_stats)
    view.refresh()
    return view


@contextlib.contextmanager
def live(tags, tensors, total):
    from IPython.display import display
    from .widgets import dashboard
    dash = dashboard.Dashboard(tags=tags or None, tensors=tensors or None, total=total)
    display(dash)
    with dash:
        yield dash


def board(logdir):
    from .widgets import board as board_view
    return board_view.show_board(logdir)
