"""Names the classic (pre-1.0) tutorials use that TF removed: aliases with one warning each.

The summary functions of TF 0.11 (`tf.scalar_summary`, ...) keep their OLD semantics, which
differ from `tf.summary.*`: the tag is a free string (or, for scalar_summary, a string tensor
shaped like the values), not the op name, so name scopes do not reach it and two summaries
with one tag only fail when merged and run. `tf.train.SummaryWriter` is FileWriter under its
old name (a thin subclass made on first access, so summary/writer.py loads as usual).
"""
import functools
import warnings

from .framework import dtypes
from .framework.context import get_collection, name_scope
from .framework.graph import GraphKeys
from .framework.registry import convert_to_tensor
from .ops import summary_ops
from .summary import collect

_ALIASES = {  # old name -> (new name, note)
    "mul": "multiply", "sub": "subtract", "neg": "negative", "select": "where",
    "pack": "stack", "unpack": "unstack",
}


def _deprecated(old, new, fn, note=""):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not wrapper.warned:
            wrapper.warned = True
            warnings.warn(f"tf.{old} is deprecated (removed in TF 1.0); use tf.{new}.{note}",
                          DeprecationWarning, stacklevel=2)
        return fn(*args, **kwargs)
    wrapper.warned = False
    return wrapper


# ---- TF 0.11 summaries (tensorflow/python/ops/logging_ops.py of r0.11), old semantics --------
def _collect(value, collections):
    collect(value, collections, [GraphKeys.SUMMARIES])
    return value


def scalar_summary(tags, values, collections=None, name=None):
    with name_scope(name, "ScalarSummary", [tags, values]) as scope:
        return _collect(summary_ops.scalar_summary(tags, values, name=scope), collections)


def histogram_summary(tag, values, collections=None, name=None):
    with name_scope(name, "HistogramSummary", [tag, values]) as scope:
        return _collect(summary_ops.histogram_summary(tag, values, name=scope), collections)


def image_summary(tag, tensor, max_images=3, collections=None, name=None):
    with name_scope(name, "ImageSummary", [tag, tensor]) as scope:
        return _collect(summary_ops.image_summary(tag, tensor, max_images, name=scope),
                        collections)


def audio_summary(tag, tensor, sample_rate, max_outputs=3, collections=None, name=None):
    with name_scope(name, "AudioSummary", [tag, tensor]) as scope:
        rate = convert_to_tensor(sample_rate, dtype=dtypes.float32, name="sample_rate")
        return _collect(summary_ops.audio_summary_v2(tag, tensor, rate, max_outputs,
                                                     name=scope), collections)


def merge_summary(inputs, collections=None, name=None):
    with name_scope(name, "MergeSummary", inputs):
        value = summary_ops.merge_summary(inputs, name=name)
        collect(value, collections, [])
    return value


def merge_all_summaries(key=GraphKeys.SUMMARIES):
    summary_ops = get_collection(key)
    return merge_summary(summary_ops) if summary_ops else None


_OLD_TAGS = " Unlike it, the tag is a free string, not the op's name."
_SUMMARIES = {  # old name -> (function, new name, note)
    "scalar_summary": (scalar_summary, "summary.scalar",
                       _OLD_TAGS + " Tags and values may be tensors of one shape."),
    "histogram_summary": (histogram_summary, "summary.histogram", _OLD_TAGS),
    "image_summary": (image_summary, "summary.image", _OLD_TAGS + " max_images is now "
                      "max_outputs."),
    "audio_summary": (audio_summary, "summary.audio", _OLD_TAGS),
    "merge_summary": (merge_summary, "summary.merge", ""),
    "merge_all_summaries": (merge_all_summaries, "summary.merge_all", ""),
}


# ---- tf.train.SummaryWriter ------------------------------------------------------------------
def _summary_writer_class(file_writer):
    """`tf.train.SummaryWriter`: a subclass of tf.summary.FileWriter warning once when made."""
    class SummaryWriter(file_writer):
        __doc__ = ("Deprecated (TF 0.12) name of tf.summary.FileWriter, with the same "
                   "interface and behaviour.")
        warned = False

        def __init__(self, *args, **kwargs):
            if not SummaryWriter.warned:
                SummaryWriter.warned = True
                warnings.warn("tf.train.SummaryWriter is deprecated (removed in TF 1.0); "
                              "use tf.summary.FileWriter.", DeprecationWarning, stacklevel=2)
            super().__init__(*args, **kwargs)

    SummaryWriter.__module__ = "tginteractive.train"
    SummaryWriter.__qualname__ = "SummaryWriter"
    return SummaryWriter


def install(namespace):
    for old, new in _ALIASES.items():
        if new in namespace:
            namespace[old] = _deprecated(old, new, namespace[new])
    for old, (fn, new, note) in _SUMMARIES.items():
        namespace[old] = _deprecated(old, new, fn, note)
    train, summary = namespace["train"], namespace["summary"]
    train.SummaryWriter = _summary_writer_class(summary.FileWriter)
    train.summary_iterator = summary.summary_iterator  # TF1's spelling; train/ can't import it
