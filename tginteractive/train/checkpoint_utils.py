"""Checkpoint files, the `checkpoint` state file, and reading checkpoints back.

A checkpoint `<prefix>` is two files (our own format, not TF's):
  <prefix>.index                JSON {"format": "tginteractive.checkpoint", "version": 1,
                                "data_sha256", "tensors": {name: {key, dtype, shape, encoding}}}
  <prefix>.data-00000-of-00001  uncompressed .npz, one .npy member per tensor ("t0", ...); a
                                string tensor is its bytes (uint8) plus "<key>_lengths" (int64)
Reading never unpickles (`np.load(..., allow_pickle=False)`) and checks the sha256 and each
member's .npy header against the index first: any damage is a DataLossError naming the file.
Each file is written to a temporary name beside it, fsynced, then `os.replace`d (data, index
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
import math
import os
import re
import uuid
import zipfile

import numpy as np

from ..framework import dtypes, errors

__all__ = ["NewCheckpointReader", "checkpoint_exists", "generate_checkpoint_state_proto",
           "get_checkpoint_mtimes", "get_checkpoint_state", "latest_checkpoint",
           "list_variables", "load_checkpoint", "load_variable", "remove_checkpoint",
           "update_checkpoint_state"]

FORMAT, VERSION = "tginteractive.checkpoint", 1
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
def data_path(prefix):
    return prefix + ".data-00000-of-00001"


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


class _Corrupt(Exception):
    pass


def _data_loss(path, reason):
    return errors.DataLossError(
        None, None, f"Unable to read checkpoint file {path}: Data loss: {reason}. The file is "
        "corrupted, truncated or not a tginteractive checkpoint; save it again or restore an "
        "earlier checkpoint.")


def read_index(prefix):
    path = prefix + ".index"
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise errors.NotFoundError(None, None, "Unsuccessful TensorSliceReader constructor: "
                                   f"Failed to find any matching files for {prefix}") from None
    try:
        index = json.loads(raw.decode("utf-8"))
        _check_index(index)
    except (ValueError, TypeError, KeyError, RecursionError, _Corrupt) as e:
        raise _data_loss(path, f"{type(e).__name__}: {e}") from None
    return index


def _check_index(index):
    if not isinstance(index, dict) or index.get("format") != FORMAT:
        raise _Corrupt(f"'format' is not {FORMAT!r}")
    if index.get("version") != VERSION:
        raise _Corrupt(f"unsupported version {index.get('version')!r:.20}")
    if not re.fullmatch(r"[0-9a-f]{64}", str(index["data_sha256"])):
        raise _Corrupt("bad data_sha256")
    if not isinstance(index["tensors"], dict):
        raise _Corrupt("'tensors' is not an object")
    keys = set()
    for name, entry in index["tensors"].items():
        dtype = dtypes.as_dtype(str(entry["dtype"]))
        shape = entry["shape"]
        if dtype.name != entry["dtype"] or not re.fullmatch(r"t\d+", str(entry["key"])) \
                or entry["key"] in keys or not isinstance(shape, list) \
                or any(type(d) is not int or d < 0 for d in shape) \
                or entry["encoding"] != ("strings" if dtype is dtypes.string else "array"):
            raise _Corrupt(f"bad entry for tensor '{name}'")
        keys.add(entry["key"])


def read_tensors(prefix, index, names):
    """{name: array} for `names` of checkpoint `prefix` whose parsed index is `index`."""
    path = data_path(prefix)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise _data_loss(path, "the data file is missing") from None
    if hashlib.sha256(data).hexdigest() != index["data_sha256"]:
        raise _data_loss(path, "its checksum does not match the one in the .index file")
    try:
        npz = np.load(io.BytesIO(data), allow_pickle=False)
        if not isinstance(npz, np.lib.npyio.NpzFile):
            raise _Corrupt("not an .npz archive")
        with npz:
            return {name: _read_entry(npz, index["tensors"][name]) for name in names}
    except (ValueError, TypeError, OSError, EOFError, KeyError, zipfile.BadZipFile,
            _Corrupt) as e:
        raise _data_loss(path, f"{type(e).__name__}: {e}") from None


def _read_entry(npz, entry):
    shape = tuple(entry["shape"])
    if entry["encoding"] == "array":
        return _member(npz, entry["key"], dtypes.as_dtype(entry["dtype"])._np, shape)
    lengths = _member(npz, entry["key"] + "_lengths", np.dtype(np.int64), (math.prod(shape),))
    if (lengths < 0).any():
        raise _Corrupt("negative string length")
    flat = _member(npz, entry["key"], np.dtype(np.uint8), (int(lengths.sum()),)).tobytes()
    ends = np.cumsum(lengths)
    out = np.empty(len(lengths), dtype=object)
    out[:] = [flat[e - n:e] for e, n in zip(ends.tolist(), lengths.tolist())]
    return out.reshape(shape)


def _member(npz, key, dtype, shape):
    """Member `key` after checking its .npy header (dtype, shape, size) against the index."""
    info = npz.zip.getinfo(key + ".npy")
    if info.compress_type != zipfile.ZIP_STORED:
        raise _Corrupt(f"member '{key}' is compressed")
    with npz.zip.open(info) as f:
        version = np.lib.format.read_magic(f)
        read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                       (2, 0): np.lib.format.read_array_header_2_0}.get(version)
        if read_header is None:
            raise _Corrupt(f"member '{key}' has .npy version {version}")
        got_shape, fortran, got_dtype = read_header(f)
        offset = f.tell()
    if got_shape != shape or got_dtype != dtype or \
            info.file_size != offset + math.prod(shape) * dtype.itemsize:
        raise _Corrupt(f"member '{key}' holds {got_dtype}{list(got_shape)}, the index says "
                       f"{dtype}{list(shape)}")
    return npz[key]


class CheckpointReader:
    """TF's `NewCheckpointReader(prefix)`: names, shapes and dtypes; values on demand."""

    def __init__(self, prefix):
        self._prefix = os.fspath(prefix)
        self._index = read_index(self._prefix)
        self._values = None

    def get_variable_to_shape_map(self):
        return {name: list(e["shape"]) for name, e in self._index["tensors"].items()}

    def get_variable_to_dtype_map(self):
        return {name: dtypes.as_dtype(e["dtype"]) for name, e in self._index["tensors"].items()}

    def has_tensor(self, name):
        return name in self._index["tensors"]

    def get_tensor(self, name):
        if not self.has_tensor(name):
            raise errors.NotFoundError(None, None, f"Key {name} not found in checkpoint")
        if self._values is None:
            self._values = read_tensors(self._prefix, self._index, list(self._index["tensors"]))
        return self._values[name].copy()

    def debug_string(self):
        lines = [f"{name} ({e['dtype']}) {e['shape']}"
                 for name, e in sorted(self._index["tensors"].items())]
        return ("\n".join(lines) + "\n").encode("utf-8")


def NewCheckpointReader(filepattern):  # noqa: N802 - TF's name
    return CheckpointReader(filepattern)


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
