"""`%load_ext tginteractive`: per-cell graph ownership hooks, notebook policies and magics.

Other front ends with an IPython shell call `tginteractive.notebook.enable()`.
Unloading unregisters every hook and restores the scripts' TF1 behaviour.
"""
from . import cells

_loaded = {}  # id(shell) -> Extension


class Extension:
    def __init__(self, shell):
        self.shell = shell
        self.cells = cells.CellTracker(shell)
        self._on_reset = None
        self.dashboard = None  # the last %%tg_live dashboard

    def register(self):
        from .magics import TgMagics
        self.shell.events.register("pre_run_cell", self.cells.pre_run_cell)
        self.shell.events.register("post_run_cell", self.cells.post_run_cell)
        self._on_reset = cells.install_policies(self.cells)
        self.shell.register_magics(TgMagics(self.shell, self))

    def unregister(self):
        for event, fn in (("pre_run_cell", self.cells.pre_run_cell),
                          ("post_run_cell", self.cells.post_run_cell)):
            try:
                self.shell.events.unregister(event, fn)
            except ValueError:
                pass
        cells.remove_policies(self._on_reset)
        magics = self.shell.magics_manager.registry.get("TgMagics")
        if magics is not None:
            for kind, names in magics.magics.items():
                for name in names:
                    self.shell.magics_manager.magics[kind].pop(name, None)
            self.shell.magics_manager.registry.pop("TgMagics", None)


def load_ipython_extension(shell):
    if id(shell) in _loaded:
        return
    extension = _loaded[id(shell)] = Extension(shell)
    extension.register()


def unload_ipython_extension(shell):
    extension = _loaded.pop(id(shell), None)
    if extension is not None:
        extension.unregister()


def current(shell=None):
    """The loaded Extension of `shell` (default: the running IPython), or None."""
    if shell is None:
        from IPython import get_ipython
        shell = get_ipython()
    return _loaded.get(id(shell)) if shell is not None else None


def enable(shell=None):
    """Turn the notebook layer on for `shell` (default: the running IPython shell)."""
    if shell is None:
        from IPython import get_ipython
        shell = get_ipython()
    if shell is None:
        raise RuntimeError("tginteractive.notebook.enable() needs an IPython shell (Jupyter, "
                           "IPython, VS Code); plain Python scripts keep TF1's behaviour.")
    load_ipython_extension(shell)
    return _loaded[id(shell)]


def keep_values(enabled=True, shell=None):
    """Whether variables that a re-run cell re-creates with the same name, shape and dtype keep
    their values in live sessions (default True); `%tg_cell --keep-values yes|no` does the same."""
    extension = current(shell)
    if extension is None:
        raise RuntimeError("The tginteractive extension is not loaded: run %load_ext tginteractive "
                           "(or tginteractive.notebook.enable()) first.")
    extension.cells.keep_values = bool(enabled)
