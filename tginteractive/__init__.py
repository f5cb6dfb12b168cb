"""tginteractive: TensorFlow 1.x graph mode on NumPy — `import tginteractive as tf`.

This module only re-exports the TF1 public namespace. It never imports the notebook layer,
IPython, ipywidgets, matplotlib, graphviz or cupy.
"""
from .framework import errors  # noqa: F401
from .framework.context import (  # noqa: F401
    add_to_collection, add_to_collections, colocate_with, control_dependencies, device,
    get_collection, get_collection_ref, get_default_graph, get_default_session, name_scope,
    reset_default_graph, set_random_seed)
from .framework.dtypes import (  # noqa: F401
    DType, as_dtype, bool, complex64, complex128, double, float16, float32, float64, half,
    int8, int16, int32, int64, string, uint8, uint16)
from .framework.device_spec import DeviceSpec  # noqa: F401
from .framework.graph import Graph, GraphKeys, Operation, Tensor  # noqa: F401
from .framework.registry import constant_value, convert_to_tensor  # noqa: F401
from .framework.shapes import Dimension, TensorShape  # noqa: F401
from .ops.array_ops import *  # noqa: F401,F403
from .ops.clip_ops import *  # noqa: F401,F403
from .ops.cond_ops import *  # noqa: F401,F403
from .ops.control_flow_ops import *  # noqa: F401,F403
from .ops.indexing_ops import *  # noqa: F401,F403
from .ops.io_ops import *  # noqa: F401,F403
from .ops.init_ops import *  # noqa: F401,F403
from .ops.linalg_ops import matmul  # noqa: F401
from .ops.manip_ops import *  # noqa: F401,F403
from .ops.math_ops import *  # noqa: F401,F403
from .ops.pad_ops import *  # noqa: F401,F403
from .ops.random_ops import *  # noqa: F401,F403
from .ops.reduction_ops import *  # noqa: F401,F403
from .ops.scan_ops import *  # noqa: F401,F403
from .ops.script_ops import *  # noqa: F401,F403
from .ops.sequence_ops import *  # noqa: F401,F403
from .ops.variable_scope import *  # noqa: F401,F403
from .ops.variables import *  # noqa: F401,F403
from .ops.while_ops import *  # noqa: F401,F403
from .autodiff import gradients  # noqa: F401
from .runtime.config import ConfigProto, GPUOptions, RunMetadata, RunOptions  # noqa: F401
from .runtime.session import InteractiveSession, Session  # noqa: F401
from . import config, data, image, initializers, io, layers, losses, math, metrics, nn, random, summary, train  # noqa: F401,E402
from . import legacy as _legacy  # noqa: E402

_legacy.install(globals())
del _legacy


def __getattr__(name):
    """TF1's top-level protos (`tf.Summary`, `tf.Event`, `tf.SessionLog`, `tf.HistogramProto`)
    come from the tensorboard package, imported on first use."""
    if name in ("Summary", "Event", "SessionLog", "HistogramProto"):
        return getattr(summary, name)
    raise AttributeError(f"module 'tginteractive' has no attribute '{name}'")


def load_ipython_extension(ipython):
    """`%load_ext tginteractive`: notebook-safe default graphs, magics and views."""
    from .notebook.extension import load_ipython_extension as load
    load(ipython)


def unload_ipython_extension(ipython):
    from .notebook.extension import unload_ipython_extension as unload
    unload(ipython)
