"""Who built what: owner tags on ops, and retiring everything one owner built.

The notebook layer makes each cell the owner (`tag`, with a label like "cell [3]") of the ops
it creates; re-running the cell first retires what its previous run built. Scripts never set
a tag, so none of this changes TF1's behaviour for them.
"""
import weakref

# The owner recorded on every op created now, on any graph: [tag, label]. Set by
# context.tag_scope (or the notebook's cell hooks).
active_tag = [None, None]
tagged_graphs = weakref.WeakSet()  # graphs holding ops created under a tag
on_discard = []  # fn(graph, retired_ops, tag) after a discard, e.g. the variable store's cleanup


def discard(graph, tag, replaced_by=None):
    """Retire everything built while `tag` was active: its ops leave the graph, the names and
    name scopes it took become free again (so rebuilding gives the same names), and its
    collection entries go. Retired ops keep `retired = replaced_by` (a label such as
    "cell [7]"), so stale references fail with errors naming both. Returns the retired ops."""
    retired = [op for op in graph._ops if op.tag == tag]
    gone = set(retired)
    for op in retired:
        op.retired = replaced_by or "a later run of the code that built it"
        if graph._by_name.get(op.name) is op:
            del graph._by_name[op.name]
        for t in op._inputs:
            if t.op not in gone and op in t._consumers:
                t._consumers.remove(op)
    if gone:
        graph._ops = [op for op in graph._ops if op not in gone]
    _free_names(graph, tag)
    _drop_entries(graph, graph._tag_entries.pop(tag, []), gone)
    for hook in list(on_discard):
        hook(graph, gone, tag)
    if gone:  # compiled plans stay valid when no op left (e.g. a cell that only printed)
        graph._bump()
    return retired


def _free_names(graph, tag):
    """Free the names only `tag` took; a freed `base_N` lowers base's counter to N, so
    unique_name hands out the first free suffix again."""
    for key in [k for k, owner in graph._name_tags.items() if owner == tag]:
        del graph._name_tags[key]
        graph._names_in_use.pop(key, None)
        base, _, suffix = key.rpartition("_")
        if suffix.isdigit() and base in graph._names_in_use:
            graph._names_in_use[base] = min(graph._names_in_use[base], int(suffix))


def _drop_entries(graph, entries, gone):
    doomed = {(name, id(value)) for name, value in entries}
    for name, items in graph._collections.items():
        items[:] = [v for v in items if (name, id(v)) not in doomed
                    and _element_op(v) not in gone]


def _element_op(value):
    """The op a collection entry stands for (an op, a tensor, a Variable), else None."""
    if hasattr(value, "retired"):
        return value
    op = getattr(value, "op", None)
    return op if hasattr(op, "retired") else None


def _describe_owner(op):
    return f"built by {op.origin}" if op.origin else "built outside any notebook cell"


def stale_message(item, user):
    """Why `item` (a retired Tensor or Operation) cannot be used, and, when `user` (a live op
    consuming it) is given, which cell to re-run."""
    is_tensor = hasattr(item, "value_index")
    op = item.op if is_tensor else item
    kind = "Tensor" if is_tensor else "Operation"
    what = f"{kind} '{item.name}' was {_describe_owner(op)}, which has been replaced by " \
        f"{op.retired}"
    if user is not None:
        where = f"re-run {user.origin}" if user.origin else "rebuild it"
        return (f"{what}; Operation '{user.name}' ({_describe_owner(user)}) still uses the old "
                f"one: {where} to rebuild '{user.name}' on the new graph.")
    return (f"{what}; this reference is stale. Use the new '{item.name}' (re-run the cell that "
            f"stored this reference, or look it up with tf.get_default_graph()."
            f"get_{kind.lower()}_by_name('{item.name}')).")
