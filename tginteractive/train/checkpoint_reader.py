"""Reading checkpoint files back (the format is described in checkpoint_utils.py).

Reading never unpickles (`np.load(..., allow_pickle=False)`) and checks the sha256 and each
member's .npy header against the index first: any damage is a DataLossError naming the file.
"""
import hashlib
import io
import json
import math
import os
import re
import zipfile

import numpy as np

from ..framework import dtypes, errors

__all__ = ["NewCheckpointReader"]

FORMAT, VERSION = "tginteractive.checkpoint", 1


def data_path(prefix):
    return prefix + ".data-00000-of-00001"


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
