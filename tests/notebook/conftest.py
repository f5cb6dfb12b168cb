"""A real IPython shell with the tginteractive extension loaded, reset around each test."""
import pytest


@pytest.fixture
def shell():
    pytest.importorskip("IPython")
    from IPython.core.interactiveshell import InteractiveShell

    from tginteractive.framework import context
    shell = InteractiveShell.instance()
    context.reset_default_graph()
    shell.run_cell("%load_ext tginteractive", store_history=True)
    shell.run_cell("import tginteractive as tf\nimport numpy as np", store_history=True)
    yield shell
    shell.run_cell("%unload_ext tginteractive")
    while context._session_stack:
        context._session_stack[-1].close()
    context._graph_stack.clear()
    context.reset_default_graph()
