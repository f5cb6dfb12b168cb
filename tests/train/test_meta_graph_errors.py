"""Meta graphs that cannot be written (unserialisable attrs, unknown collection items) and
documents that cannot be read (corrupted, hostile, unregistered ops, missing files)."""
import base64
import io
import json
import warnings

import numpy as np
import pytest

import tginteractive as tf
from tginteractive.framework import meta_graph, meta_graph_attrs
from tests.train.meta_graph_helpers import _same_value


def test_unserialisable_attr_raises_naming_the_op():
    y = tf.identity(tf.constant(1.0), name="hook")
    y.op.attrs["callback"] = print  # e.g. an op carrying a Python function
    with pytest.raises(meta_graph.UnserialisableGraphError,
                       match=r"'hook' \(Identity\).*attr 'callback' holds a builtins."):
        tf.train.export_meta_graph()



def test_unknown_collection_items_are_skipped_with_a_warning():
    tf.add_to_collection("things", object())
    tf.add_to_collection("things", "kept")
    with pytest.warns(UserWarning, match="Collection 'things': skipping object"):
        meta = tf.train.export_meta_graph()
    doc = json.loads(meta.to_bytes())
    doc["collection_def"]["things"].append({"gizmo": {"a": 1}})
    new = tf.Graph()
    with new.as_default(), pytest.warns(UserWarning, match="unknown kind 'gizmo'"):
        tf.train.import_meta_graph(meta_graph.MetaGraphDef(doc))
    assert new.get_collection("things") == ["kept"]


def _doc():
    tf.multiply(tf.constant([1.0, 2.0], name="c"), 2.0, name="m")
    return json.loads(tf.train.export_meta_graph().to_bytes())


def _hostile_array():
    """An .npy of a pickled object array (np.load must refuse it: allow_pickle=False)."""
    buf = io.BytesIO()
    np.save(buf, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    return base64.b64encode(buf.getvalue()).decode()


@pytest.mark.parametrize("damage", [
    lambda d: "{not json",
    lambda d: json.dumps(dict(d, format="other")),
    lambda d: json.dumps(dict(d, version=99)),
    lambda d: json.dumps(d)[:len(json.dumps(d)) // 2],
    lambda d: json.dumps(_set_attr(d, {"mystery": 1})),
    lambda d: json.dumps(_set_attr(d, {"ndarray": _hostile_array()})),
    lambda d: json.dumps(_set_attr(d, {"ndarray": "!!notbase64"})),
    lambda d: json.dumps(_set_input(d, "nowhere:0")),
    lambda d: "[" * 100000,
], ids=["bad-json", "format", "version", "truncated", "unknown-tag", "pickled-array",
        "bad-base64", "dangling-input", "deep-nesting"])
def test_corrupted_or_hostile_meta_files_give_data_loss_errors(tmp_path, damage):
    path = tmp_path / "bad.meta"
    path.write_text(damage(_doc()))
    new = tf.Graph()
    with new.as_default(), pytest.raises(tf.errors.DataLossError, match=str(path)):
        tf.train.import_meta_graph(str(path))


def _set_attr(doc, value):
    doc["graph_def"]["ops"][0]["attrs"]["value"] = value
    return doc


def _set_input(doc, name):
    doc["graph_def"]["ops"][-1]["inputs"][0] = name
    return doc


def test_bad_saver_def_gives_a_data_loss_error():
    tf.Variable(1.0, name="v")
    doc = json.loads(tf.train.Saver().export_meta_graph().to_bytes())
    doc["saver_def"]["entries"][0][1] = "ghost:0"
    tf.reset_default_graph()
    with pytest.raises(tf.errors.DataLossError, match="saver_def of meta graph .* unusable"):
        tf.train.import_meta_graph(meta_graph.MetaGraphDef(doc))


def test_unregistered_op_type_and_missing_file_errors(tmp_path):
    doc = _doc()
    doc["graph_def"]["ops"][-1]["type"] = "FancyOp"
    with pytest.raises(ValueError, match="No op named FancyOp in defined operations"):
        tf.train.import_meta_graph(meta_graph.MetaGraphDef(doc))
    with pytest.raises(OSError, match="File does not exist"):
        tf.train.import_meta_graph(str(tmp_path / "nope.meta"))


def test_attr_codec_round_trips_every_kind_of_value():
    values = [None, True, 3, -2.5, float("nan"), float("inf"), "s", b"\x00b", 1 + 2j,
              (1, (2, None)), [1, [2]], {"k": (1,)}, tf.float64, tf.TensorShape([None, 3]),
              tf.TensorShape(None), slice(1, None, -1), Ellipsis, np.float32(1.5),
              np.int64(7), np.array([[1, 2]], np.int16), np.array([b"a", b"bc"], dtype=object),
              np.array(3.0)]
    for value in values:
        encoded = json.loads(json.dumps(meta_graph_attrs.encode(value, None)))
        assert _same_value(meta_graph_attrs.decode(encoded, None), value), value
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TypeError):
            meta_graph_attrs.encode(lambda: 0, None)
