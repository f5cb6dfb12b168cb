"""`get_variable` and `variable_scope`: TF1's variable sharing.

Variable scopes name and share variables; name scopes only name ops. `get_variable` ignores
the current name scope and uses the variable scope: inside `variable_scope("vs")` and
`name_scope("ns")`, `get_variable("w")` is `vs/w` while `tf.constant(1)` is `vs/ns/Const`.
Each graph keeps its variable store (full name → Variable) and the current scope, which is
restored in `finally` like every other implicit context.
"""
import contextlib
import traceback

from ..framework import dtypes
from ..framework import graph as graph_module
from ..framework.context import get_default_graph, name_scope
from ..framework.graph import GraphKeys
from ..framework.registry import convert_to_tensor
from ..framework.shapes import as_shape
from .init_ops import glorot_uniform_initializer, zeros_initializer
from .variables import Variable

__all__ = ["AUTO_REUSE", "VariableScope", "get_variable", "get_variable_scope",
           "variable_scope", "get_local_variable", "no_regularizer"]


class _ReuseMode:
    def __repr__(self):
        return "tf.AUTO_REUSE"


AUTO_REUSE = _ReuseMode()


def no_regularizer(_):
    """Use as `regularizer=` to turn off an inherited regularizer."""
    return None


class VariableScope:
    """A variable scope: its name, reuse mode and the defaults it passes to get_variable."""

    def __init__(self, reuse, name="", initializer=None, regularizer=None, dtype=dtypes.float32,
                 custom_getter=None, name_scope=""):
        self.name, self._reuse = name, reuse
        self.initializer, self.regularizer, self.custom_getter = initializer, regularizer, \
            custom_getter
        self.dtype = dtypes.as_dtype(dtype)
        self.original_name_scope = name_scope

    reuse = property(lambda self: self._reuse)

    def reuse_variables(self):
        self._reuse = True

    def set_initializer(self, initializer):
        self.initializer = initializer

    def set_regularizer(self, regularizer):
        self.regularizer = regularizer

    def set_dtype(self, dtype):
        self.dtype = dtypes.as_dtype(dtype)

    def get_variable(self, var_store, name, *args, **kwargs):
        return get_variable(name, *args, **kwargs)

    def __repr__(self):
        return f"<VariableScope {self.name!r} reuse={self._reuse!r}>"


class _Store:
    """Per-graph variable store: variables by full name, creation sites, scope counters."""

    def __init__(self):
        self.variables, self.sites = {}, {}
        # TF1's variable_scopes_count: full scope name -> the owner tag of each counted entry.
        # Leaving `variable_scope(name)` forgets its sub-scopes, so re-entering a tower scope
        # numbers its default-named children (dense, dense_1, ...) from the start again.
        self.opened = {}
        self.scope = VariableScope(False)

    def discard(self, retired_ops, tag):
        """Forget the variables and default-named scopes that a discarded tag created."""
        for name, var in list(self.variables.items()):
            if var.op in retired_ops:
                del self.variables[name]
                self.sites.pop(name, None)
        for name, owners in list(self.opened.items()):
            owners[:] = [owner for owner in owners if owner != tag]
            if not owners:
                del self.opened[name]

    def open(self, name):
        self.opened.setdefault(name, []).append(graph_module.active_tag[0])

    def close_subscopes(self, name):
        prefix = name + "/"
        for key in [k for k in self.opened if k.startswith(prefix)]:
            del self.opened[key]


def _discarded(graph, retired_ops, tag):
    store = getattr(graph, "_variable_store", None)
    if store is not None:
        store.discard(retired_ops, tag)


graph_module.on_discard.append(_discarded)


def _store(graph=None):
    graph = graph or get_default_graph()
    while getattr(graph, "outer_graph", None) is not None:  # cond/while bodies share it
        graph = graph.outer_graph
    store = getattr(graph, "_variable_store", None)
    if store is None:
        store = graph._variable_store = _Store()
    return store


def get_variable_scope():
    return _store().scope


def _check_existing(var, name, shape, dtype, reuse, site):
    if reuse is False or reuse is None:
        raise ValueError(f"Variable {name} already exists, disallowed. Did you mean to set "
                         f"reuse=True or reuse=tf.AUTO_REUSE in VarScope? Originally defined "
                         f"at:\n\n{site}")
    if shape is not None and not as_shape(shape).is_compatible_with(var.shape):
        raise ValueError(f"Trying to share variable {name}, but specified shape "
                         f"{as_shape(shape)} and found shape {var.shape}.")
    if dtype is not None and dtypes.as_dtype(dtype) is not var.dtype:
        raise ValueError(f"Trying to share variable {name}, but specified dtype "
                         f"{dtypes.as_dtype(dtype).name} and found dtype {var.dtype.name}.")
    return var


def _initial_value(name, shape, dtype, initializer):
    """A callable building the initial value (TF1 defaults: glorot_uniform / zeros)."""
    if initializer is not None and not callable(initializer):
        value = convert_to_tensor(initializer, dtype=dtype)
        if shape is not None and not as_shape(shape).is_compatible_with(value.shape):
            raise ValueError(f"Variable {name}: the initializer's shape {value.shape} does not "
                             f"match the specified shape {as_shape(shape)}.")
        return lambda: value, value.dtype
    if shape is None or not as_shape(shape).is_fully_defined():
        raise ValueError(f"Shape of a new variable ({name}) must be fully defined, but instead "
                         f"was {as_shape(shape) if shape is not None else None}.")
    if initializer is None:
        if dtype.is_floating:
            initializer = glorot_uniform_initializer()
        elif dtype.is_integer or dtype.is_bool:
            initializer = zeros_initializer()
        else:
            raise ValueError(f"An initializer for variable {name} of {dtype.name} is required")
    return lambda: initializer(as_shape(shape).as_list(), dtype=dtype), dtype


def _create(store, name, shape, dtype, initializer, regularizer, trainable, collections):
    init_fn, dtype = _initial_value(name, shape, dtype, initializer)
    with name_scope(None):
        var = Variable(init_fn, name=name, trainable=trainable, collections=collections,
                       dtype=dtype)
    store.variables[name] = var
    store.sites[name] = "".join(traceback.format_stack(limit=6)[:-3])
    if regularizer is not None:
        with name_scope(None), name_scope(var.op.name + "/Regularizer/"):
            loss = regularizer(var.value())
        if loss is not None:
            get_default_graph().add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)
    return var


def get_variable(name, shape=None, dtype=None, initializer=None, regularizer=None,
                 trainable=None, collections=None, caching_device=None, partitioner=None,
                 validate_shape=True, use_resource=None, custom_getter=None, constraint=None,
                 synchronization=None, aggregation=None):
    """Get an existing variable of the current variable scope, or create it (TF1 rules)."""
    if partitioner is not None:
        raise NotImplementedError("Partitioned variables are not supported.")
    scope = get_variable_scope()
    full_name = f"{scope.name}/{name}" if scope.name else name
    getter = _make_getter(scope.custom_getter, custom_getter)
    return getter(full_name, shape=shape, dtype=dtype, initializer=initializer,
                  regularizer=regularizer, trainable=trainable, collections=collections)


def _make_getter(*custom_getters):
    getter = _true_getter
    for custom in custom_getters:
        if custom is not None:
            getter = (lambda inner, c: lambda name, *a, **k: c(inner, name, *a, **k))(
                getter, custom)
    return getter


def _true_getter(name, shape=None, dtype=None, initializer=None, regularizer=None,
                 trainable=None, collections=None, **unused):
    scope, store = get_variable_scope(), _store()
    if name in store.variables:
        return _check_existing(store.variables[name], name, shape, dtype, scope.reuse,
                               store.sites[name])
    if scope.reuse is True:
        raise ValueError(f"Variable {name} does not exist, or was not created with "
                         "tf.get_variable(). Did you mean to set reuse=tf.AUTO_REUSE in "
                         "VarScope?")
    dtype = dtypes.as_dtype(dtype) if dtype is not None else scope.dtype
    return _create(store, name, shape, dtype,
                   initializer if initializer is not None else scope.initializer,
                   regularizer if regularizer is not None else scope.regularizer,
                   True if trainable is None else trainable, collections)


def get_local_variable(name, shape=None, dtype=None, initializer=None, regularizer=None,
                       trainable=False, collections=None, **kwargs):
    collections = list(collections or []) + [GraphKeys.LOCAL_VARIABLES]
    return get_variable(name, shape, dtype, initializer, regularizer, trainable, collections,
                        **kwargs)


def _scope_name(store, outer, name_or_scope, default_name):
    """(variable-scope name, name scope to open) for a string, a scope object or a default."""
    if isinstance(name_or_scope, VariableScope):
        return name_or_scope.name, name_or_scope.original_name_scope or None
    if name_or_scope is not None:
        full = f"{outer.name}/{name_or_scope}" if outer.name else name_or_scope
        return full, name_or_scope
    base = f"{outer.name}/{default_name}" if outer.name else default_name
    count = 0
    while store.opened.get(base if count == 0 else f"{base}_{count}"):  # first unopened
        count += 1
    unique = default_name if count == 0 else f"{default_name}_{count}"
    return f"{outer.name}/{unique}" if outer.name else unique, unique


@contextlib.contextmanager
def variable_scope(name_or_scope=None, default_name=None, values=None, initializer=None,
                   regularizer=None, caching_device=None, partitioner=None, custom_getter=None,
                   reuse=None, dtype=None, use_resource=None, constraint=None,
                   auxiliary_name_scope=True):
    """Open a variable scope (and, by default, a name scope of the same name)."""
    if name_or_scope is None and default_name is None:
        raise TypeError("If default_name is None then name_or_scope is required")
    if reuse not in (None, True, False, AUTO_REUSE):
        raise ValueError(f"reuse must be True, False, None or tf.AUTO_REUSE, got {reuse!r}")
    if partitioner is not None:
        raise NotImplementedError("Partitioned variables are not supported.")
    store = _store()
    outer = store.scope
    full_name, ns = _scope_name(store, outer, name_or_scope, default_name)
    base = name_or_scope if isinstance(name_or_scope, VariableScope) else outer
    reuse = (reuse or None) or base.reuse  # TF1: reuse=False means "inherit", never "stop"
    with (name_scope(ns) if auxiliary_name_scope and ns else contextlib.nullcontext()) as \
            opened:
        scope = VariableScope(
            reuse, full_name,
            initializer if initializer is not None else base.initializer,
            regularizer if regularizer is not None else base.regularizer,
            dtype if dtype is not None else base.dtype,
            custom_getter if custom_getter is not None else base.custom_getter,
            opened if isinstance(name_or_scope, str) or name_or_scope is None else
            base.original_name_scope)
        store.scope = scope
        store.open(full_name)
        entered_by_object = isinstance(name_or_scope, VariableScope)
        counted = {k: list(v) for k, v in store.opened.items()} if entered_by_object else None
        try:
            yield scope
        finally:
            store.scope = outer
            if entered_by_object:
                store.opened = counted
            else:
                store.close_subscopes(full_name)
