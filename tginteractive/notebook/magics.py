"""Thin magics: parse arguments, ask the engine, display a view. `%magic?` shows the help;
bad arguments raise UsageError."""
from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from ..framework import context
from ..framework.graph import Operation, Tensor
from ..runtime import plan as plan_lib
from ..runtime import session as session_lib
from . import views


@magics_class
class TgMagics(Magics):
    def __init__(self, shell, extension):
        super().__init__(shell)
        self.extension = extension

    @magic_arguments()
    @argument("target", nargs="?", help="a tensor, op, scope name or graph (default: the "
                                        "default graph)")
    @argument("--depth", type=int, default=1, help="name-scope levels shown expanded")
    @argument("--color", default="type", choices=["type", "device", "placement", "time"],
              help="colour nodes by op type, requested device, actual device or run time")
    @argument("--diff", action="store_true", help="mark what the last cell changed")
    @line_magic
    def tg_graph(self, line):
        """Show the graph (Graphviz SVG; click a scope to open or close it)."""
        args = parse_argstring(self.tg_graph, line)
        if args.depth < 0:
            raise UsageError("--depth must be >= 0")
        target = self._lookup(args.target) if args.target else None
        diff = self.extension.cells.diff() if args.diff else None
        session = _last_session()
        return views.graph(target, args.depth, args.color, session, diff)

    @line_magic
    def tg_devices(self, line):
        """List the devices sessions can use (virtual and simulated ones included)."""
        if line.strip():
            raise UsageError("%tg_devices takes no arguments")
        return views.devices()

    @magic_arguments()
    @argument("fetches", nargs="*", help="fetches to dry-run (default: the last run)")
    @line_magic
    def tg_placement(self, line):
        """Where the last Session.run placed its ops, or where these fetches would run and
        which placeholders they need (nothing is executed)."""
        args = parse_argstring(self.tg_placement, line)
        session = context.get_default_session() or _last_session()
        if session is None:
            raise UsageError("No session yet: create one (sess = tf.Session()) and run it.")
        if not args.fetches:
            if session.last_executable is None:
                raise UsageError("This session has not run anything yet: pass fetches, e.g. "
                                 "%tg_placement train_op")
            return views.placement(session, session.last_executable.plan.records, (),
                                   ran=True)
        fetches = [self._lookup(f) for f in args.fetches]
        needed = plan_lib.prune([_element(f) for f in fetches], ())
        placeholders = sorted((op for op in needed if op.type == "Placeholder"),
                              key=lambda op: op._id)
        records = session.placement(fetches, [op.outputs[0] for op in placeholders])
        return views.placement(session, records, [op.name for op in placeholders])

    @line_magic
    def tg_reset(self, line):
        """A new, empty default graph; sessions on the old one are closed or say so on use."""
        if line.strip():
            raise UsageError("%tg_reset takes no arguments")
        context.reset_default_graph()
        print("tginteractive: new, empty default graph (sessions on the old graph are closed: "
              "create a new one)")

    @magic_arguments()
    @argument("--keep-values", choices=["yes", "no"], help="keep live-session values of "
              "variables that re-run cells re-create with the same shape (default yes)")
    @line_magic
    def tg_cell(self, line):
        """What the current (or last) cell owns in the graph, and what its re-run changed."""
        args = parse_argstring(self.tg_cell, line)
        cells = self.extension.cells
        if args.keep_values:
            cells.keep_values = args.keep_values == "yes"
        return views.cell_report(cells)

    @magic_arguments()
    @argument("watch", nargs="*", help="summary tags or tensors to plot (default: every "
                                       "scalar summary)")
    @argument("--total", type=int, default=None, help="expected number of Session.run calls")
    @cell_magic
    def tg_live(self, line, cell):
        """Run the cell with the live dashboard: loss plot, placement, progress."""
        args = parse_argstring(self.tg_live, line)
        found = [(w, self._lookup(w, missing_ok=True)) for w in args.watch]
        tensors = {w: obj for w, obj in found if _is_fetchable(obj)}  # series named as typed
        tags = [w for w, obj in found if not _is_fetchable(obj)]
        with views.live(tags, tensors, args.total) as self.extension.dashboard:
            self.shell.ex(self.shell.transform_cell(cell))

    @line_magic
    def tg_board(self, line):
        """Scalars and histograms of a logdir's event files, inline (no server)."""
        logdir = line.strip() or "."
        try:
            return views.board(logdir)
        except (ValueError, FileNotFoundError) as e:
            raise UsageError(str(e)) from None

    # ---- helpers ----------------------------------------------------------------------------
    def _lookup(self, text, missing_ok=False):
        """A user variable, a graph element by name, or (for scopes) the text itself."""
        if text in self.shell.user_ns:
            return self.shell.user_ns[text]
        graph = context.get_default_graph()
        try:
            return graph.as_graph_element(text)
        except (KeyError, ValueError, TypeError):
            pass
        if any(op.name.startswith(text.rstrip("/") + "/") for op in graph.get_operations()):
            return text
        if missing_ok:
            return None
        raise UsageError(f"{text!r} is neither a variable of this notebook nor a tensor, op "
                         "or name scope of the default graph")


def _element(fetch):
    fetch = getattr(fetch, "_as_graph_element", lambda: fetch)()
    if not isinstance(fetch, (Tensor, Operation)):
        raise UsageError(f"{fetch!r} is not a tensor or an op")
    return fetch


def _is_fetchable(obj):
    """A Tensor, or an object standing for one (a Variable)."""
    return isinstance(getattr(obj, "_as_graph_element", lambda: obj)(), Tensor)


def _last_session():
    session = session_lib.last_used[0]()
    return session if session is not None and not session._closed else None
