"""`tf.train.Saver`, `export_meta_graph` and `import_meta_graph`.

A Saver adds, under a `save` name scope, one placeholder and one Assign per variable plus a
`restore_all` group. `save` fetches the variables with `sess.run` and writes them with
`checkpoint_utils.write_checkpoint` (atomic files); `restore` checks every name, dtype and
shape against the checkpoint first (one error naming every problem, nothing written), then
feeds the values to the Assign ops. Its SaverDef (saver_def.py: names of those ops and its
settings) goes into meta graphs, so `import_meta_graph` gives back a Saver over the imported
ops. `save` writes the meta graph beside the checkpoint, unless an op holds an attr a meta
graph cannot store (then it warns and writes the checkpoint alone).
"""
import json
import math
import numbers
import os
import time
import warnings

import numpy as np

from ..framework import errors, meta_graph
from ..framework.context import control_dependencies, get_default_graph, name_scope
from ..ops.array_ops import placeholder
from ..ops.control_flow_ops import group
from ..ops.variables import Variable, assign
from . import checkpoint_utils as ckpt
from .saver_def import SaverDef, all_saveables, dims_text, named_refs, restore_message

__all__ = ["Saver", "SaverDef", "export_meta_graph", "import_meta_graph"]


class Saver:
    """TF1's `tf.train.Saver`: save and restore variables to and from checkpoints."""

    def __init__(self, var_list=None, reshape=False, sharded=False, max_to_keep=5,
                 keep_checkpoint_every_n_hours=10000.0, name=None, restore_sequentially=False,
                 saver_def=None, builder=None, defer_build=False, allow_empty=False,
                 write_version=SaverDef.V2, pad_step_number=False, save_relative_paths=False,
                 filename=None):
        if defer_build and var_list:
            raise ValueError("If `var_list` is provided then build cannot be deferred. Either "
                             "set defer_build=False or var_list=None.")
        self._var_list, self._reshape, self._sharded = var_list, reshape, sharded
        self._max_to_keep, self._keep_hours = max_to_keep, keep_checkpoint_every_n_hours
        self._name, self._filename, self._allow_empty = name, filename, allow_empty
        self._write_version, self._pad_step_number = write_version, pad_step_number
        self._save_relative_paths = save_relative_paths
        self.saver_def = SaverDef.from_dict(saver_def) if isinstance(saver_def, dict) \
            else saver_def
        self._is_built, self._is_empty, self._entries, self._restore_op = False, None, [], None
        self._last_checkpoints, self._checkpoints_to_be_deleted = [], []
        self._next_checkpoint_time = time.time() + keep_checkpoint_every_n_hours * 3600
        if not defer_build:
            self.build()

    # ---- building ---------------------------------------------------------------------------
    def build(self):
        if self._is_built:
            return
        self._graph = get_default_graph()
        if self.saver_def is None:
            self.saver_def = self._build_ops()
        elif self._name:
            prefix = self._name.rstrip("/") + "/"
            self.saver_def = self.saver_def.renamed(lambda n: prefix + n)
        self._adopt(self.saver_def)
        self._is_built = True
        self._next_checkpoint_time = (time.time() +
                                      self.saver_def.keep_checkpoint_every_n_hours * 3600)

    def _build_ops(self):
        var_list = all_saveables() if self._var_list is None else self._var_list
        pairs = named_refs(var_list)
        settings = dict(max_to_keep=self._max_to_keep, sharded=self._sharded,
                        keep_checkpoint_every_n_hours=self._keep_hours,
                        version=self._write_version, reshape=self._reshape)
        if not pairs:
            if not self._allow_empty:
                raise ValueError("No variables to save")
            return SaverDef(**settings)
        graph, entries = pairs[0][1].graph, []
        self._graph = graph
        with graph.as_default(), control_dependencies(None), name_scope(self._name, "save"):
            for key, ref in pairs:
                value = placeholder(ref.dtype, ref.shape, name="restore_value")
                entries.append([key, ref.name, value.name, assign(ref, value).op.name])
            restore_op = group(*[graph.get_operation_by_name(e[3]) for e in entries],
                               name="restore_all")
        return SaverDef(entries, restore_op.name, **settings)

    def _adopt(self, saver_def):
        """Resolve the SaverDef's names in the default graph."""
        if not saver_def.entries:
            self._is_empty = True
            return
        graph = self._graph
        self._entries = [(key, graph.get_tensor_by_name(var), graph.get_tensor_by_name(value),
                          graph.get_operation_by_name(op))
                         for key, var, value, op in saver_def.entries]
        self._restore_op = graph.get_operation_by_name(saver_def.restore_op_name)
        self._is_empty, self._reshape = False, saver_def.reshape

    def as_saver_def(self):
        return self.saver_def

    def to_proto(self, export_scope=None):
        """The SaverDef with `export_scope/` stripped (None if it reaches outside the scope)."""
        if not export_scope or self.saver_def is None:
            return self.saver_def
        prefix = export_scope.rstrip("/") + "/"
        names = [n for e in self.saver_def.entries for n in e[1:]]
        if not all(n.startswith(prefix) for n in names + [self.saver_def.restore_op_name]):
            return None
        return self.saver_def.renamed(lambda n: n[len(prefix):])

    # ---- save -------------------------------------------------------------------------------
    def save(self, sess, save_path, global_step=None, latest_filename=None,
             meta_graph_suffix="meta", write_meta_graph=True, write_state=True,
             strip_default_attrs=False, save_debug_info=False):
        """Write a checkpoint; returns its prefix (`save_path-<step>` with a global_step)."""
        if not self._is_built:
            raise RuntimeError("`build()` should be called before save if defer_build==True")
        latest_filename = latest_filename or "checkpoint"
        if os.path.split(latest_filename)[0]:
            raise ValueError("'latest_filename' must not contain path components")
        if not (hasattr(sess, "run") and hasattr(sess, "graph")):
            raise TypeError(f"'sess' must be a Session; {sess}")
        save_path = os.fspath(save_path)
        checkpoint_file = self._checkpoint_file(sess, save_path, global_step, latest_filename)
        save_dir = os.path.dirname(save_path)
        if save_dir and not os.path.isdir(save_dir):
            raise ValueError(f"Parent directory of {save_path} doesn't exist, can't save.")
        meta_file = ckpt.meta_graph_filename(checkpoint_file, meta_graph_suffix)
        meta = self._meta_graph_bytes(sess.graph) if write_meta_graph else None
        extra = [] if meta is None else [(meta_file, meta)]  # renamed with the data and index
        if not self._is_empty:
            values = sess.run([ref for _, ref, _, _ in self._entries])
            ckpt.write_checkpoint(checkpoint_file, {key: value for (key, *_), value
                                                    in zip(self._entries, values)}, extra)
        elif extra:
            ckpt.atomic_write(extra)
        if write_meta_graph and meta is None:
            ckpt._remove(meta_file)  # never leave a stale meta graph beside the new checkpoint
        if self._is_empty:
            return None
        if write_state:
            self._RecordLastCheckpoint(checkpoint_file)
            ckpt.update_checkpoint_state(save_dir, checkpoint_file, self.last_checkpoints,
                                         latest_filename,
                                         save_relative_paths=self._save_relative_paths)
            self._MaybeDeleteOldCheckpoints(meta_graph_suffix)
        return checkpoint_file

    def _checkpoint_file(self, sess, save_path, global_step, latest_filename):
        if global_step is None:
            if os.path.basename(save_path) == latest_filename and not self._sharded:
                raise ValueError(f"'latest_filename' collides with 'save_path': "
                                 f"'{latest_filename}' and '{save_path}'")
            return save_path
        if not isinstance(global_step, numbers.Integral):
            global_step = sess.run(global_step)
        step = int(global_step)
        return f"{save_path}-{step:08d}" if self._pad_step_number else f"{save_path}-{step}"

    def _meta_graph_bytes(self, graph):
        try:
            with graph.as_default():
                return self.export_meta_graph().to_bytes()
        except meta_graph.UnserialisableGraphError as e:
            warnings.warn(f"Checkpoint saved without a meta graph: {e}", stacklevel=3)
            return None

    def export_meta_graph(self, filename=None, collection_list=None, as_text=False,
                          export_scope=None, clear_devices=False,
                          clear_extraneous_savers=False, strip_default_attrs=False,
                          save_debug_info=False):
        return export_meta_graph(filename=filename, saver_def=self.to_proto(export_scope),
                                 collection_list=collection_list, as_text=as_text,
                                 export_scope=export_scope, clear_devices=clear_devices)

    # ---- restore ----------------------------------------------------------------------------
    def restore(self, sess, save_path):
        """Load every variable of this Saver from checkpoint `save_path`."""
        if self._is_empty:
            return
        if save_path is None:
            raise ValueError("Can't load save_path when it is None.")
        prefix = os.fspath(save_path)
        if not ckpt.checkpoint_exists(prefix):
            raise ValueError("The passed save_path is not a valid checkpoint: " + prefix)
        reader = ckpt.CheckpointReader(prefix)
        sess.run(self._restore_op, feed_dict=self._restore_feeds(reader, prefix))

    def _restore_feeds(self, reader, prefix):
        shapes, dtypes = reader.get_variable_to_shape_map(), reader.get_variable_to_dtype_map()
        missing, mismatched = [], []
        for key, ref, _, _ in self._entries:
            if key not in shapes:
                missing.append(f"Key {key} not found in checkpoint")
            elif dtypes[key] is not ref.dtype:
                mismatched.append(f"tensor_name = {key}; expected dtype {ref.dtype.name} does "
                                  f"not equal original dtype {dtypes[key].name} (variable "
                                  f"'{ref.op.name}')")
            elif not self._shape_fits(ref.shape, shapes[key]):
                mismatched.append(f"Assign requires shapes of both tensors to match. lhs shape= "
                                  f"{dims_text(ref.shape.dims or [])} rhs shape= {dims_text(shapes[key])}"
                                  f" (variable '{ref.op.name}', checkpoint key '{key}')")
        if missing:
            raise errors.NotFoundError(None, None, restore_message(
                "a Variable name or other graph key that is missing", missing + mismatched,
                prefix, shapes))
        if mismatched:
            raise errors.InvalidArgumentError(None, None, restore_message(
                "a mismatch between the current graph and the graph", mismatched, prefix, None))
        return {value: self._fitted(reader.get_tensor(key), ref)
                for key, ref, value, _ in self._entries}

    def _shape_fits(self, want, got):
        if want.is_compatible_with(got):
            return True
        return self._reshape and want.is_fully_defined() and \
            want.num_elements() == math.prod(got)

    def _fitted(self, value, ref):
        if self._reshape and ref.shape.is_fully_defined():
            return value.reshape(ref.shape.as_list())
        return value

    # ---- bookkeeping of recent checkpoints --------------------------------------------------
    @property
    def last_checkpoints(self):
        return [p for p, _ in self._last_checkpoints]

    def set_last_checkpoints(self, last_checkpoints):
        assert isinstance(last_checkpoints, list)
        self._last_checkpoints = [(p, np.inf) for p in last_checkpoints]

    def set_last_checkpoints_with_time(self, last_checkpoints_with_time):
        assert isinstance(last_checkpoints_with_time, list)
        self._last_checkpoints = list(last_checkpoints_with_time)

    def recover_last_checkpoints(self, checkpoint_paths):
        """Adopt the existing ones of `checkpoint_paths`, with their index files' mtimes."""
        self.set_last_checkpoints_with_time(
            [(p, ckpt.get_checkpoint_mtimes([p])[0]) for p in checkpoint_paths
             if ckpt.checkpoint_exists(p)])

    def _RecordLastCheckpoint(self, latest_save_path):  # noqa: N802 - TF's name
        if not self.saver_def.max_to_keep:
            return
        self._last_checkpoints = [p for p in self._last_checkpoints if p[0] != latest_save_path]
        self._last_checkpoints.append((latest_save_path, time.time()))
        if len(self._last_checkpoints) > self.saver_def.max_to_keep:
            self._checkpoints_to_be_deleted.append(self._last_checkpoints.pop(0))

    def _MaybeDeleteOldCheckpoints(self, meta_graph_suffix="meta"):  # noqa: N802
        """Delete the oldest checkpoint past max_to_keep, unless it is due to be kept (one
        every keep_checkpoint_every_n_hours)."""
        if not self._checkpoints_to_be_deleted:
            return
        path, stamp = self._checkpoints_to_be_deleted.pop(0)
        if stamp > self._next_checkpoint_time:
            self._next_checkpoint_time += self.saver_def.keep_checkpoint_every_n_hours * 3600
            return
        try:
            ckpt.remove_checkpoint(path, self.saver_def.version, meta_graph_suffix)
        except OSError as e:
            warnings.warn(f"Ignoring: {e}", stacklevel=3)


# ---- meta graphs --------------------------------------------------------------------------
def export_meta_graph(filename=None, meta_info_def=None, graph_def=None, saver_def=None,
                      collection_list=None, as_text=False, graph=None, export_scope=None,
                      clear_devices=False, clear_extraneous_savers=False,
                      strip_default_attrs=False, save_debug_info=False, **kwargs):
    """The MetaGraphDef of `graph` (default graph); also written to `filename` if given."""
    if graph is None:
        graph = graph_def if hasattr(graph_def, "get_operations") else get_default_graph()
    if isinstance(saver_def, SaverDef):
        saver_def = saver_def.to_dict()
    meta = meta_graph.export_meta_graph(graph, meta_info_def, saver_def, collection_list,
                                        export_scope, clear_devices)
    if filename:
        ckpt.atomic_write([(os.fspath(filename), meta.to_bytes(as_text))])
    return meta


def _read_meta_graph(path):
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise OSError(f"File does not exist. Received: {path}.")
    with open(path, "rb") as f:
        return meta_graph.MetaGraphDef.from_bytes(f.read(), source=path)


def import_meta_graph(meta_graph_or_file, clear_devices=False, import_scope=None, **kwargs):
    """Rebuild a meta graph into the default graph; returns a Saver over its variables
    (from its SaverDef when it has one), or None when there is nothing to restore."""
    meta = meta_graph_or_file
    if not isinstance(meta, meta_graph.MetaGraphDef):
        meta = _read_meta_graph(meta)
    result = meta_graph.import_meta_graph(meta, get_default_graph(), import_scope,
                                          clear_devices, kwargs.get("input_map"))
    if meta.saver_def:
        try:
            saver_def = SaverDef.from_dict(meta.saver_def).renamed(result.rename)
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            raise errors.DataLossError(None, None, f"The saver_def of meta graph {meta.source} "
                                       f"is unusable ({type(e).__name__}: {e}).") from None
        return Saver(saver_def=saver_def)
    variables = result.items.get("variable")  # saved under their names in the meta graph
    if variables:
        return Saver({json.loads(record)["variable"]: v for record, v in variables.items()})
    return None


def _encode_variable(v, ref):
    return {"variable": ref(v.op), "initializer": ref(v.initializer),
            "snapshot": ref(v._snapshot), "initial_value": ref(v.initial_value),
            "trainable": bool(v.trainable)}


def _decode_variable(record, resolve):
    return Variable._from_ops(resolve(record["variable"]), resolve(record["initializer"]),
                              resolve(record["snapshot"]), resolve(record["initial_value"]),
                              bool(record.get("trainable", True)))


meta_graph.register_collection_codec("variable", Variable, _encode_variable, _decode_variable)
