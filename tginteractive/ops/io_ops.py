"""File and string parsing ops for input pipelines: ReadFile, WriteFile, DecodeCSV, StringSplit.

All are host-only (strings live on the CPU) and not differentiable. Strings are NumPy object
arrays of bytes, as everywhere in this library. `decode_csv` follows TF1: each entry of
`record_defaults` gives a column's dtype and its default; an empty default list makes the
column required, and a record missing it fails naming the record.
"""
import csv
import io
import os

import numpy as np

from ..framework import dtypes, errors
from ..framework.registry import convert_to_tensor, defop
from ..framework.shapes import TensorShape

__all__ = ["read_file", "write_file", "decode_csv", "string_split"]

_HOST = dict(host_only=True, differentiable=False)


def _text(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _scalar_bytes(value):
    item = np.asarray(value, dtype=object).reshape(-1)[0] if np.size(value) else b""
    return item.encode() if isinstance(item, str) else item


# ---- ReadFile / WriteFile ------------------------------------------------------------------
def _read_file(xp, filename):
    name = _text(_scalar_bytes(filename))
    try:
        with open(name, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise errors.NotFoundError(None, None, f"{name}; No such file or directory") from None
    except IsADirectoryError:
        raise errors.InvalidArgumentError(None, None, f"{name} is a directory, not a file.") \
            from None
    out = np.empty((), dtype=object)
    out[()] = data
    return out


ReadFile = defop("ReadFile", shape=lambda op: TensorShape([]), dtype=dtypes.string,
                 kernel=_read_file, stateful=True, **_HOST)


def read_file(filename, name=None):
    """The whole contents of the file `filename` as a scalar string (NotFoundError if absent)."""
    return ReadFile(convert_to_tensor(filename, dtype=dtypes.string), name=name or "ReadFile")


def _write_file(xp, filename, contents):
    name = _text(_scalar_bytes(filename))
    directory = os.path.dirname(name)
    if directory and not os.path.isdir(directory):
        raise errors.NotFoundError(None, None, f"{directory}; No such file or directory")
    with open(name, "wb") as f:
        f.write(_scalar_bytes(contents))
    return np.asarray(True)


WriteFile = defop("WriteFile", shape=lambda op: TensorShape([]), dtype=dtypes.bool,
                  kernel=_write_file, stateful=True, **_HOST)


def write_file(filename, contents, name=None):
    """Write the scalar string `contents` to `filename`; run the returned op (a bool tensor)."""
    return WriteFile(convert_to_tensor(filename, dtype=dtypes.string),
                     convert_to_tensor(contents, dtype=dtypes.string), name=name or "WriteFile")


# ---- DecodeCSV -----------------------------------------------------------------------------
def _split_record(record, field_delim, use_quote_delim):
    text = _text(record)
    if not use_quote_delim:
        return text.split(field_delim)
    rows = list(csv.reader(io.StringIO(text), delimiter=field_delim, quotechar='"',
                           strict=True))
    return rows[0] if rows else [""]


def _parse_field(field, default, na_value, record, column):
    if field == "" or field == na_value:
        if default.size == 0:
            raise errors.InvalidArgumentError(
                None, None, f"Field {column} is required but missing in record "
                f"'{_text(record)}'; give it a default in record_defaults.")
        return default.reshape(-1)[0]
    kind = default.dtype.kind
    try:
        if kind == "O":
            return field.encode()
        return default.dtype.type(int(field) if kind in "iu" else float(field))
    except ValueError:
        raise errors.InvalidArgumentError(
            None, None, f"Field {column} in record '{_text(record)}' is not a valid "
            f"{default.dtype.name}: '{field}'") from None


def _decode_csv(xp, records, *defaults, field_delim, use_quote_delim, na_value):
    flat = records.reshape(-1)
    columns = [np.empty(flat.shape, dtype=d.dtype) for d in defaults]
    for i, record in enumerate(flat):
        try:
            fields = _split_record(record, field_delim, use_quote_delim)
        except csv.Error as e:
            raise errors.InvalidArgumentError(
                None, None, f"Unquoted or badly quoted field in record '{_text(record)}': {e}") \
                from None
        if len(fields) != len(defaults):
            raise errors.InvalidArgumentError(
                None, None, f"Expect {len(defaults)} fields but have {len(fields)} in record "
                f"'{_text(record)}'")
        for c, (field, default) in enumerate(zip(fields, defaults)):
            columns[c][i] = _parse_field(field, default, na_value, record, c)
    outs = tuple(col.reshape(records.shape) for col in columns)
    return outs if len(outs) > 1 else outs[0]


def _csv_shape(op):
    return [op.inputs[0].shape] * (len(op.inputs) - 1)


DecodeCSV = defop("DecodeCSV", shape=_csv_shape,
                  dtype=lambda op: [t.dtype for t in op.inputs[1:]], kernel=_decode_csv, **_HOST)

_CSV_DTYPES = (dtypes.float32, dtypes.float64, dtypes.int32, dtypes.int64, dtypes.string)


def decode_csv(records, record_defaults, field_delim=",", use_quote_delim=True, name=None,
               na_value="", select_cols=None):
    """Parse CSV `records` into one tensor per column; `record_defaults[i]` ([] or [value])
    gives column i's dtype and default (an empty tensor, e.g. `tf.constant([], tf.int32)`,
    marks a required column)."""
    if select_cols is not None:
        raise NotImplementedError("decode_csv: select_cols is not supported.")
    if len(field_delim) != 1:
        raise ValueError(f"field_delim must be one character, got {field_delim!r}")
    if not record_defaults:
        raise ValueError("decode_csv needs at least one entry in record_defaults.")
    records = convert_to_tensor(records, dtype=dtypes.string)
    defaults = [_default_tensor(d, i) for i, d in enumerate(record_defaults)]
    outs = DecodeCSV(records, *defaults, field_delim=field_delim,
                     use_quote_delim=bool(use_quote_delim), na_value=na_value,
                     name=name or "DecodeCSV")
    return list(outs) if isinstance(outs, tuple) else [outs]


def _default_tensor(default, column):
    if isinstance(default, (list, tuple)) and len(default) == 0:
        raise ValueError(f"record_defaults[{column}] is an empty list; give its dtype with "
                         f"tf.constant([], dtype=...) to make the column required.")
    t = convert_to_tensor(default)
    if t.dtype not in _CSV_DTYPES:
        raise TypeError(f"record_defaults[{column}] has dtype {t.dtype.name}; decode_csv takes "
                        "float32, float64, int32, int64 or string.")
    if t.shape.ndims is not None and t.shape.ndims > 1:
        raise ValueError(f"record_defaults[{column}] must have at most one element.")
    return t


# ---- StringSplit ---------------------------------------------------------------------------
def _string_split(xp, source, delimiter, skip_empty):
    delim = _text(_scalar_bytes(delimiter))
    indices, values, width = [], [], 0
    for row, item in enumerate(source.reshape(-1)):
        text = _text(item)
        parts = _split_text(text, delim)
        if skip_empty:
            parts = [p for p in parts if p]
        for col, part in enumerate(parts):
            indices.append((row, col))
            values.append(part.encode())
        width = max(width, len(parts))
    idx = np.asarray(indices, dtype=np.int64).reshape(-1, 2)
    vals = np.empty(len(values), dtype=object)
    vals[:] = values
    return idx, vals, np.asarray([source.size, width], dtype=np.int64)


def _split_text(text, delim):
    if delim == "":  # TF: an empty delimiter splits into characters
        return list(text)
    if len(delim) == 1:
        return text.split(delim)
    pieces = [text]  # TF1: every character of the delimiter is a delimiter
    for ch in delim:
        pieces = [p for piece in pieces for p in piece.split(ch)]
    return pieces


StringSplit = defop("StringSplit",
                    shape=lambda op: [TensorShape([None, 2]), TensorShape([None]),
                                      TensorShape([2])],
                    dtype=[dtypes.int64, dtypes.string, dtypes.int64], kernel=_string_split,
                    **_HOST)


class SparseStrings:
    """The result of `string_split`: SparseTensor-like `indices`, `values`, `dense_shape`."""

    def __init__(self, indices, values, dense_shape):
        self.indices, self.values, self.dense_shape = indices, values, dense_shape

    def __repr__(self):
        return (f"SparseTensor(indices={self.indices!r}, values={self.values!r}, "
                f"dense_shape={self.dense_shape!r})")


def string_split(source, delimiter=" ", skip_empty=True, name=None):
    """Split each string of the 1-D `source` at `delimiter` (each of its characters, as in
    TF1); returns a SparseTensor-like object of int64 indices, string values, dense_shape."""
    source = convert_to_tensor(source, dtype=dtypes.string)
    if source.shape.ndims is not None and source.shape.ndims != 1:
        raise ValueError(f"string_split: source must be 1-D, got shape {source.shape}.")
    delimiter = convert_to_tensor(delimiter, dtype=dtypes.string)
    return SparseStrings(*StringSplit(source, delimiter, skip_empty=bool(skip_empty),
                                      name=name or "StringSplit"))
