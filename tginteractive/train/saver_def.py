"""What a Saver covers and runs: its SaverDef (TF's proto, JSON-ready) and the variable list.

`SaverDef.entries` are `[checkpoint key, variable, value placeholder, Assign op]` graph names;
meta graphs store the SaverDef, so `import_meta_graph` gives back a Saver over imported ops.
"""
from ..framework.context import get_default_graph
from ..framework.graph import GraphKeys, Tensor
from ..ops.variables import Variable, global_variables

__all__ = ["SaverDef"]


class SaverDef:
    """TF's SaverDef: a Saver's settings and the graph names it runs (JSON-ready)."""

    LEGACY, V1, V2 = 0, 1, 2

    def __init__(self, entries=(), restore_op_name="", max_to_keep=5,
                 keep_checkpoint_every_n_hours=10000.0, sharded=False, version=2,
                 reshape=False):
        self.entries = [list(e) for e in entries]  # [key, variable, value feed, assign op]
        self.restore_op_name, self.max_to_keep = restore_op_name, max_to_keep
        self.keep_checkpoint_every_n_hours, self.sharded = keep_checkpoint_every_n_hours, sharded
        self.version, self.reshape = version, reshape

    def to_dict(self):
        return dict(vars(self))

    @classmethod
    def from_dict(cls, data):
        try:
            return cls(**data)
        except TypeError as e:
            raise ValueError(f"Not a SaverDef: {data!r:.100} ({e})") from None

    def renamed(self, fn):
        """A copy with every graph name passed through `fn`."""
        out = SaverDef.from_dict(self.to_dict())
        out.entries = [[key] + [fn(n) for n in names] for key, *names in self.entries]
        out.restore_op_name = fn(self.restore_op_name) if self.restore_op_name else ""
        return out


def variable_ref(item):
    """The VariableV2 output tensor of a Variable (or of such a tensor itself)."""
    ref = item._variable if isinstance(item, Variable) else item
    if not isinstance(ref, Tensor) or ref.op.type != "VariableV2":
        raise TypeError(f"Variable to save is not a Variable: {item!r}")
    return ref


def named_refs(var_list):
    """[(checkpoint key, variable ref)] from a list or a {key: variable} dict."""
    if isinstance(var_list, dict):
        pairs = [(key, variable_ref(v)) for key, v in var_list.items()]
    else:
        pairs = [(variable_ref(v).op.name, variable_ref(v)) for v in var_list]
    keys, refs = {}, {}
    for key, ref in pairs:
        if key in keys:
            raise ValueError(f"At least two variables have the same name: {key}")
        if ref in refs:
            raise ValueError(f"The same saveable will be restored with two names: {refs[ref]} "
                             f"and {key}")
        keys[key], refs[ref] = ref, key
    return pairs


def all_saveables():
    graph = get_default_graph()
    items = global_variables() + graph.get_collection(GraphKeys.SAVEABLE_OBJECTS)
    return list({id(variable_ref(v)): v for v in items}.values())


def dims_text(shape):
    return "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"


def restore_message(cause, problems, prefix, held):
    message = (f"Restoring from checkpoint failed. This is most likely due to {cause} from "
               "the checkpoint. Please ensure that you have not altered the graph expected "
               f"based on the checkpoint. Original error:\n\n" + "\n".join(problems) +
               f"\n\n(checkpoint: {prefix})")
    if held is not None:
        message += f"\nThe checkpoint holds: {', '.join(sorted(held)) or 'nothing'}."
    return message
