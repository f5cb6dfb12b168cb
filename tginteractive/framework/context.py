"""The one default-graph stack and default-session stack, plus the public scope managers.

Plain module-level stacks (not thread-local): every push/pop is in try/finally and exits
truncate back to the depth recorded at entry, so an interrupted cell cannot leave them broken.
"""
import contextlib

from . import graph as _graph_module
from .graph import Graph, Operation, Tensor

_global_graph = Graph()
_graph_stack = []      # graphs entered with as_default()
_session_stack = []    # sessions entered with as_default() (duck-typed: anything with run())


def get_default_graph():
    return _graph_stack[-1] if _graph_stack else _global_graph


@contextlib.contextmanager
def _entered(stack, item):
    depth = len(stack)
    stack.append(item)
    try:
        yield item
    finally:
        del stack[depth:]


def graph_as_default(graph):
    return _entered(_graph_stack, graph)


def reset_default_graph():
    """Install a fresh global default graph (TF1: illegal while any as_default() is active)."""
    global _global_graph
    if top_level_depth[0] is not None and len(_graph_stack) <= top_level_depth[0]:
        _release_leftovers()
    if _graph_stack:
        holders = [getattr(s, "_holds_default_graph", False) for s in _session_stack]
        hint = (" An InteractiveSession holds the default graph: call its close() first."
                if any(holders) else "")
        raise AssertionError("Do not use tf.reset_default_graph() to clear nested graphs. If "
                             "you need a cleared graph, exit the nesting and create a new "
                             "graph." + hint)
    old, _global_graph = _global_graph, Graph()
    for hook in list(_reset_hooks):
        hook(old)


_reset_hooks = []
# Notebook policy (set by the notebook layer; None in scripts, which keep TF1's rule): how many
# default-graph entries were already on the stack when the current cell started. A reset from
# the cell's top level closes the InteractiveSessions holding them instead of failing.
top_level_depth = [None]


def _release_leftovers():
    for session in [s for s in _session_stack if getattr(s, "_holds_default_graph", False)]:
        session.close()
    del _graph_stack[:]
    del _session_stack[:]
    top_level_depth[0] = 0


def add_reset_hook(fn):
    """Call `fn(old_graph)` after each reset_default_graph() (e.g. writers flush); other
    layers plug in here so the framework imports none of them."""
    _reset_hooks.append(fn)


def get_default_session():
    return _session_stack[-1] if _session_stack else None


def session_as_default(session):
    return _entered(_session_stack, session)


def session_for(graph, session, what):
    """The session to run `what` in: the given one, else the default one (TF1's errors)."""
    session = session if session is not None else get_default_session()
    if session is None:
        raise ValueError(f"Cannot evaluate tensor using `{what.split('.')[1]}`: No default "
                         "session is registered. Use `with sess.as_default()` or pass an "
                         "explicit session to `eval(session=sess)`")
    if session.graph is not graph:
        raise ValueError(f"Cannot use the given session to evaluate tensor: the tensor's graph "
                         f"is different from the session's graph ({what}).")
    return session


def _graph_from(values):
    for v in values or ():
        v = getattr(v, "_as_graph_element", lambda: v)()
        if isinstance(v, (Tensor, Operation)):
            return v.graph
    return get_default_graph()


@contextlib.contextmanager
def name_scope(name, default_name=None, values=None):
    """TF1's `tf.name_scope(name, default_name=None, values=None)`."""
    scope = default_name if name is None else name
    if scope is None and values is not None:
        raise ValueError(f"At least one of name ({name}) and default_name ({default_name}) "
                         "must be provided.")
    graph = _graph_from(values)
    with graph_as_default(graph) if graph is not get_default_graph() else _nothing():
        with graph.name_scope(scope) as result:
            yield result


@contextlib.contextmanager
def _nothing():
    yield


def device(device_name_or_function):
    return get_default_graph().device(device_name_or_function)


def control_dependencies(control_inputs):
    return get_default_graph().control_dependencies(control_inputs)


def colocate_with(op, ignore_existing=False):
    return get_default_graph().colocate_with(op, ignore_existing)


@contextlib.contextmanager
def tag_scope(tag, label=None):
    """Record `tag` (e.g. a notebook cell id) and its `label` ("cell [3]") as the owner of
    every op and collection entry created inside, on any graph; see Graph.discard."""
    old = list(_graph_module.active_tag)
    _graph_module.active_tag[:] = [tag, label]
    try:
        yield
    finally:
        _graph_module.active_tag[:] = old


def get_collection(key, scope=None):
    return get_default_graph().get_collection(key, scope)


def get_collection_ref(key):
    return get_default_graph().get_collection_ref(key)


def add_to_collection(name, value):
    get_default_graph().add_to_collection(name, value)


def add_to_collections(names, value):
    get_default_graph().add_to_collections(names, value)


def set_random_seed(seed):
    get_default_graph().seed = seed
