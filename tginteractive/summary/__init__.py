"""`tf.summary`: TF1's summary ops and the event-file writer.

The tag of a summary is the name of its op: it inherits the enclosing name scopes and the
graph's de-duplication (`loss`, `loss_1`, `train/loss`); characters outside `[-/\\w.]`
become `_` (with a warning) and leading slashes go. `family` prefixes both the op's scope and
the tag (`family/family/name`, as TF1). Each summary joins `collections` (default
[GraphKeys.SUMMARIES]); `merge_all` merges a collection into one `Merge/MergeSummary`, or
returns None when it is empty. Merged summaries with a tag in common fail when run.
"""
import contextlib
import os
import re
import sys
import warnings

from ..framework import dtypes
from ..framework.context import get_collection, name_scope
from ..framework.graph import GraphKeys
from ..framework.registry import convert_to_tensor
from ..ops import summary_ops as _ops
from . import stream  # noqa: F401 - tf.summary.stream

__all__ = ["scalar", "histogram", "image", "audio", "text", "tensor_summary", "merge",
           "merge_all", "clean_tag", "summary_scope", "SummaryMetadata", "stream"]

_INVALID_TAG_CHARACTERS = re.compile(r"[^-/\w.]")
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _user_stacklevel():
    """The warnings stacklevel of the innermost caller outside this package and contextlib."""
    frame, level = sys._getframe(1), 1
    while frame is not None and (frame.f_code.co_filename.startswith(_PACKAGE_DIR)
                                 or frame.f_code.co_filename == contextlib.__file__):
        frame, level = frame.f_back, level + 1
    return level


def clean_tag(name):
    """`name` with characters TensorBoard tags may not hold replaced by '_' (and leading '/'
    removed), warning when it changes, as TF1's summary_op_util.clean_tag."""
    if name is not None:
        new_name = _INVALID_TAG_CHARACTERS.sub("_", name).lstrip("/")
        if new_name != name:
            warnings.warn(f"Summary name {name} is illegal; using {new_name} instead.",
                          stacklevel=_user_stacklevel())
            name = new_name
    return name


@contextlib.contextmanager
def summary_scope(name, family=None, default_name=None, values=None):
    """Yields (tag, scope): the op's name scope, and its tag (the scope, family-prefixed)."""
    name, family = clean_tag(name), clean_tag(family)
    base = name if family is None else f"{family}/{name}"
    with name_scope(base, default_name, values=values) as scope:
        tag = scope.rstrip("/") if family is None else f"{family}/{scope.rstrip('/')}"
        yield tag, scope


def collect(value, collections, default_collections):
    """Add `value` to `collections` (None: `default_collections`) of its own graph."""
    for key in default_collections if collections is None else collections:
        value.graph.add_to_collection(key, value)


def _summary(build, name, tensor, collections, family):
    _ops.protos()  # fail now, naming the package to install, rather than at Session.run
    with summary_scope(name, family, values=[tensor]) as (tag, scope):
        value = build(tag, scope)
        collect(value, collections, [GraphKeys.SUMMARIES])
    return value


def scalar(name, tensor, collections=None, family=None):
    """A summary with one float: `tensor` must hold one real number (checked when run)."""
    return _summary(lambda tag, scope: _ops.scalar_summary(tag, tensor, name=scope),
                    name, tensor, collections, family)


def histogram(name, values, collections=None, family=None):
    """A histogram of every value of `values` (TF1's buckets; NaN or Inf fail when run)."""
    return _summary(lambda tag, scope: _ops.histogram_summary(tag, values, name=scope),
                    name, values, collections, family)


def image(name, tensor, max_outputs=3, collections=None, family=None):
    """Up to `max_outputs` PNG images of a [batch, height, width, 1|3|4] tensor, tagged
    `name/image/i` (`name/image` when max_outputs is 1). uint8 is kept; floats are
    rescaled per image (all ≥ 0: largest → 255; else 0 → 128, largest |x| → 255 or 1)."""
    return _summary(lambda tag, scope: _ops.image_summary(tag, tensor, max_outputs,
                                                          name=scope),
                    name, tensor, collections, family)


def audio(name, tensor, sample_rate, max_outputs=3, collections=None, family=None):
    """Up to `max_outputs` 16-bit WAV clips of a float32 [batch, frames(, channels)] tensor
    with values in [-1, 1], tagged `name/audio/i` (`name/audio` when max_outputs is 1)."""
    def build(tag, scope):
        rate = convert_to_tensor(sample_rate, dtype=dtypes.float32, name="sample_rate")
        return _ops.audio_summary_v2(tag, tensor, rate, max_outputs, name=scope)
    return _summary(build, name, tensor, collections, family)


def SummaryMetadata(**fields):  # noqa: N802 - the proto's name, as tf.SummaryMetadata
    """A `SummaryMetadata` proto (from tensorboard's protos)."""
    return _ops.protos()[0].SummaryMetadata(**fields)


def tensor_summary(name, tensor, summary_description=None, collections=None,
                   summary_metadata=None, family=None, display_name=None):
    """A summary holding the whole tensor (TensorSummaryV2) with its SummaryMetadata."""
    metadata = SummaryMetadata()
    if summary_metadata is not None:
        metadata.CopyFrom(summary_metadata)
    if summary_description is not None:
        metadata.summary_description = summary_description
    if display_name is not None:
        metadata.display_name = display_name
    serialized = metadata.SerializeToString()
    return _summary(lambda tag, scope: _ops.tensor_summary_v2(tag, tensor, serialized,
                                                              name=scope),
                    name, tensor, collections, family)


def text(name, tensor, collections=None):
    """A text summary of a string tensor (TensorBoard's text plugin renders it as Markdown)."""
    tensor = convert_to_tensor(tensor)
    if tensor.dtype is not dtypes.string:
        raise ValueError(f"Expected tensor {tensor.name} to have dtype string, got "
                         f"{tensor.dtype!r}")
    plugin = _ops.protos()[0].SummaryMetadata.PluginData(plugin_name="text")
    return tensor_summary(name, tensor, collections=collections,
                          summary_metadata=SummaryMetadata(plugin_data=plugin))


def merge(inputs, collections=None, name=None):
    """One summary holding every value of `inputs` (scalar string tensors of summaries)."""
    name = clean_tag(name)
    with name_scope(name, "Merge", inputs):
        value = _ops.merge_summary(inputs, name=name)
        collect(value, collections, [])
    return value


def merge_all(key=GraphKeys.SUMMARIES, scope=None, name=None):
    """`merge` of every summary in collection `key` (matching `scope`), or None if none."""
    summary_ops = get_collection(key, scope=scope)
    if not summary_ops:
        return None
    return merge(summary_ops, name=name)


# ---- the writer side (importing writer also installs Graph.as_graph_def) ---------------------
from .events import summary_iterator  # noqa: F401,E402
from .writer import FileWriter, FileWriterCache  # noqa: F401,E402

__all__ += ["FileWriter", "FileWriterCache", "summary_iterator"]


_PROTOS = {"Summary": "summary_pb2", "SummaryDescription": "summary_pb2",
           "HistogramProto": "summary_pb2", "Event": "event_pb2", "SessionLog": "event_pb2",
           "TaggedRunMetadata": "event_pb2"}


def __getattr__(name):
    """TF1's protos (`tf.summary.Summary`, `tf.summary.SessionLog`, ...), from the tensorboard
    package, imported on first use."""
    if name not in _PROTOS:
        raise AttributeError(f"module 'tginteractive.summary' has no attribute '{name}'")
    module = _protos_module(_PROTOS[name])
    return getattr(module, name)


def _protos_module(name):
    _ops.protos()  # without tensorboard: an ImportError saying what to pip install
    import importlib
    return importlib.import_module(f"tensorboard.compat.proto.{name}")
