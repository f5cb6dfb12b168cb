"""Checkpoint files, the `checkpoint` state file; reading back is in checkpoint_reader.py.

A checkpoint `<prefix>` is two files (our own format, not TF's):
  <prefix>.index                JSON {"format": "tginteractive.checkpoint", "version": 1,
                                "data_sha256", "tensors": {name: {key, dtype, shape, encoding}}}
  <prefix>.data-00000-of-00001  uncompressed .npz, one .npy member per tensor ("t0", ...); a
                                string tensor is its bytes (uint8) plus "<key>_lengths" (int64)
Reading never unpickles and checks the sha256 and each member's .npy header against the index
first: any damage is a DataLossError naming the file. Each file is written to a temporary name beside it, fsynced, then `os.replace`d (data, index
and meta graph once all are written; the state file last), so an interrupted save never
leaves a partial checkpoint behind a complete name nor makes it the latest.
"""
import codecs
import contextlib
import glob
import hashlib
import io
import json
import logging
import os
import re
import uuid
import zipfile

import numpy as np

from ..framework import dtypes
from .checkpoint_reader import (FORMAT, VERSION, CheckpointReader,  # noqa: F401 - public here
                                NewCheckpointReader, data_path, read_index, read_tensors)

__all__ = ["NewCheckpointReader", "checkpoint_exists", "generate_checkpoint_state_proto",
           "get_checkpoint_mtimes", "get_checkpoint_state", "latest_checkpoint",
           "list_variables", "load_checkpoint", "load_variable", "remove_checkpoint",
           "update_checkpoint_state"]

_log = logging.getLogger("tginteractive.train")


# ---- durable writes -----------------------------------------------------------------------
def _write_bytes(f, data):
    f.write(data)  # a seam for tests that interrupt a save mid-write


def _write_temp(path, data):
    """`data` in a fsynced temporary file next to `path`; returns its name."""
    tmp = f"{path}.tmp-{uuid.uuid4().hex[:12]}"
    try:
        with open(tmp, "xb") as f:
            _write_bytes(f, data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        _remove(tmp)
        raise
    return tmp


def _remove(path):
    with contextlib.suppress(OSError):
        os.remove(path)


def _fsync_dir(path):
    with contextlib.suppress(OSError):
        fd = os.open(os.path.dirname(path) or ".", os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(paths_and_data):
    """Write every (path, bytes) to a temporary file first, then rename them in order."""
    temps = []
    try:
        for path, data in paths_and_data:
            temps.append((_write_temp(path, data), path))
        for tmp, path in temps:
            os.replace(tmp, path)
    finally:
        for tmp, _ in temps:
            _remove(tmp)  # what was not renamed (an error or an interrupt came first)
    _fsync_dir(temps[-1][1])


# ---- the checkpoint format ----------------------------------------------------------------
def write_checkpoint(prefix, tensors, extra_files=()):
    """Write {name: array} as checkpoint `prefix`, plus (path, bytes) `extra_files` (the meta
    graph): all go to temporary files first, and are renamed only once all are written."""
    members, entries = {}, {}
    for i, name in enumerate(sorted(tensors)):
        entries[name] = _store(f"t{i}", np.asarray(tensors[name]), members)
    data = _npz_bytes(members)
    index = {"format": FORMAT, "version": VERSION, "tensors": entries,
             "data_sha256": hashlib.sha256(data).hexdigest()}
    atomic_write([(data_path(prefix), data),
                  (prefix + ".index", json.dumps(index, indent=1).encode("utf-8"))]
                 + list(extra_files))


def _store(key, array, members):
    dtype = dtypes.as_dtype(array.dtype)
    if dtype is dtypes.string:
        items = [x.encode("utf-8") if isinstance(x, str) else x for x in array.reshape(-1)]
        if not all(isinstance(x, bytes) for x in items):
            raise TypeError(f"Cannot save a string tensor holding non-string items: {items!r:.80}")
        members[key] = np.frombuffer(b"".join(items), dtype=np.uint8)
        members[key + "_lengths"] = np.array([len(x) for x in items], dtype=np.int64)
    else:
        members[key] = array
    return {"key": key, "dtype": dtype.name, "shape": list(array.shape),
            "encoding": "strings" if dtype is dtypes.string else "array"}


def _npz_bytes(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for key, array in members.items():
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            with zf.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, array, allow_pickle=False)
    return buf.getvalue()


# ---- readers ------------------------------------------------------------------------------
def _checkpoint_filename(ckpt_dir_or_file):
    path = os.fspath(ckpt_dir_or_file)
    if os.path.isdir(path):
        latest = latest_checkpoint(path)
        if latest is None:
            raise ValueError(f"Couldn't find 'checkpoint' file or checkpoints in given "
                             f"directory {path}")
        return latest
    return path


def load_checkpoint(ckpt_dir_or_file):
    return CheckpointReader(_checkpoint_filename(ckpt_dir_or_file))


def list_variables(ckpt_dir_or_file):
    """[(name, shape)] of every tensor in the checkpoint, sorted by name."""
    shapes = load_checkpoint(ckpt_dir_or_file).get_variable_to_shape_map()
    return [(name, shapes[name]) for name in sorted(shapes)]


def load_variable(ckpt_dir_or_file, name):
    if name.endswith(":0"):
        name = name[:-2]
    return load_checkpoint(ckpt_dir_or_file).get_tensor(name)


# ---- checkpoint existence, files, and the `checkpoint` state file -------------------------
def checkpoint_exists(checkpoint_prefix):
    return os.path.isfile(os.fspath(checkpoint_prefix) + ".index")


def get_checkpoint_mtimes(checkpoint_prefixes):
    return [os.stat(p + ".index").st_mtime for p in checkpoint_prefixes if checkpoint_exists(p)]


def remove_checkpoint(checkpoint_prefix, checkpoint_format_version=2, meta_graph_suffix="meta"):
    for path in [checkpoint_prefix + ".index", meta_graph_filename(checkpoint_prefix,
                                                                   meta_graph_suffix)]:
        _remove(path)
    pattern = glob.escape(checkpoint_prefix)
    for path in glob.glob(pattern + ".data-?????-of-?????") + glob.glob(pattern + ".*.tmp-*"):
        _remove(path)  # (temporaries are what a killed save leaves behind)


def meta_graph_filename(checkpoint_filename, meta_graph_suffix="meta"):
    return re.sub(r"-[\d\?]+-of-\d+$", "", checkpoint_filename) + "." + meta_graph_suffix


class CheckpointState:
    """TF's CheckpointState proto; `str()` gives the text format of the `checkpoint` file."""

    def __init__(self, model_checkpoint_path="", all_model_checkpoint_paths=None,
                 all_model_checkpoint_timestamps=None, last_preserved_timestamp=0.0):
        self.model_checkpoint_path = model_checkpoint_path
        self.all_model_checkpoint_paths = list(all_model_checkpoint_paths or [])
        self.all_model_checkpoint_timestamps = list(all_model_checkpoint_timestamps or [])
        self.last_preserved_timestamp = last_preserved_timestamp

    def __str__(self):
        lines = [f"model_checkpoint_path: {_quote(self.model_checkpoint_path)}"]
        lines += [f"all_model_checkpoint_paths: {_quote(p)}"
                  for p in self.all_model_checkpoint_paths]
        lines += [f"all_model_checkpoint_timestamps: {t!r}"
                  for t in self.all_model_checkpoint_timestamps]
        if self.last_preserved_timestamp:
            lines.append(f"last_preserved_timestamp: {self.last_preserved_timestamp!r}")
        return "\n".join(lines) + "\n"

    __repr__ = __str__

    def __eq__(self, other):
        return isinstance(other, CheckpointState) and vars(self) == vars(other)


def _quote(text):
    """A protobuf text-format string: printable ASCII as is, other bytes octal-escaped."""
    return '"' + "".join(chr(b) if 32 <= b < 127 and b not in b'"\\\'' else f"\\{b:03o}"
                         for b in text.encode("utf-8")) + '"'


_LINE = re.compile(r"""\s*(\w+)\s*:\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[-+\w.]+)\s*""")


def _unquote(token):  # C escapes (\n, \", \ooo, \xhh) of a quoted text-format string
    return codecs.escape_decode(token[1:-1].encode("utf-8"))[0].decode("utf-8")


def _parse_state(text):
    state = CheckpointState()
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _LINE.fullmatch(line)
        field, value = (m.group(1), m.group(2)) if m else (None, None)
        if field in ("model_checkpoint_path", "all_model_checkpoint_paths") and value[0] in "\"'":
            if field == "model_checkpoint_path":
                state.model_checkpoint_path = _unquote(value)
            else:
                state.all_model_checkpoint_paths.append(_unquote(value))
        elif field == "all_model_checkpoint_timestamps":
            state.all_model_checkpoint_timestamps.append(float(value))
        elif field == "last_preserved_timestamp":
            state.last_preserved_timestamp = float(value)
        else:
            raise ValueError(f"cannot parse line {line!r:.80}")
    return state


def _state_filename(save_dir, latest_filename):
    return os.path.join(save_dir, latest_filename or "checkpoint")


def get_checkpoint_state(checkpoint_dir, latest_filename=None):
    """The CheckpointState in `checkpoint_dir/checkpoint`, or None (missing or unreadable)."""
    checkpoint_dir = os.fspath(checkpoint_dir)
    path = _state_filename(checkpoint_dir, latest_filename)
    try:
        with open(path, "rb") as f:
            state = _parse_state(f.read().decode("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        _log.warning("%s: %s: Checkpoint ignored", path, e)
        return None
    if not state.model_checkpoint_path:
        raise ValueError("Invalid checkpoint state loaded from " + checkpoint_dir)
    state.model_checkpoint_path = os.path.join(checkpoint_dir, state.model_checkpoint_path)
    state.all_model_checkpoint_paths = [os.path.join(checkpoint_dir, p)
                                        for p in state.all_model_checkpoint_paths]
    return state


def generate_checkpoint_state_proto(save_dir, model_checkpoint_path,
                                    all_model_checkpoint_paths=None,
                                    all_model_checkpoint_timestamps=None,
                                    last_preserved_timestamp=None):
    paths = list(all_model_checkpoint_paths or [])
    if not paths or paths[-1] != model_checkpoint_path:
        paths.append(model_checkpoint_path)
    if all_model_checkpoint_timestamps and len(all_model_checkpoint_timestamps) != len(paths):
        raise ValueError(f"Checkpoint timestamps, if provided, must match checkpoint paths (got "
                         f"paths {paths} and timestamps {all_model_checkpoint_timestamps})")
    if not os.path.isabs(save_dir):
        def rel(p):
            return p if os.path.isabs(p) else os.path.relpath(p, save_dir)
        model_checkpoint_path, paths = rel(model_checkpoint_path), [rel(p) for p in paths]
    return CheckpointState(model_checkpoint_path, paths, all_model_checkpoint_timestamps,
                           last_preserved_timestamp or 0.0)


def update_checkpoint_state(save_dir, model_checkpoint_path, all_model_checkpoint_paths=None,
                            latest_filename=None, all_model_checkpoint_timestamps=None,
                            last_preserved_timestamp=None, save_relative_paths=False):
    """Atomically rewrite the `checkpoint` state file in `save_dir`."""
    paths = list(all_model_checkpoint_paths or [])
    if save_relative_paths:
        def rel(p):
            return os.path.relpath(p, save_dir) if os.path.isabs(p) else p
        model_checkpoint_path, paths = rel(model_checkpoint_path), [rel(p) for p in paths]
    state = generate_checkpoint_state_proto(save_dir, model_checkpoint_path, paths,
                                            all_model_checkpoint_timestamps,
                                            last_preserved_timestamp)
    path = _state_filename(save_dir, latest_filename)
    if path == state.model_checkpoint_path:
        raise RuntimeError(f"Save path '{model_checkpoint_path}' conflicts with path used for "
                           "checkpoint state.  Please use a different save path.")
    atomic_write([(path, str(state).encode("utf-8"))])


def latest_checkpoint(checkpoint_dir, latest_filename=None):
    """The prefix of the newest checkpoint recorded in `checkpoint_dir`, or None."""
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state and state.model_checkpoint_path:
        if checkpoint_exists(state.model_checkpoint_path):
            return state.model_checkpoint_path
        _log.error("Couldn't match files for checkpoint %s", state.model_checkpoint_path)
    return None
