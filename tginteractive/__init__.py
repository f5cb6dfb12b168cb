"""tginteractive: TensorFlow 1.x graph mode on NumPy. `import tginteractive as tf`."""
from .framework import errors  # noqa: F401
from .framework.context import (get_default_graph, reset_default_graph, name_scope, device,  # noqa: F401
                                control_dependencies, colocate_with, get_default_session,
                                get_collection, get_collection_ref, add_to_collection,
                                add_to_collections, set_random_seed)
from .framework.dtypes import *  # noqa
from .framework.graph import Graph, Operation, Tensor, GraphKeys  # noqa: F401
from .framework.shapes import TensorShape, Dimension  # noqa: F401
from .framework.registry import convert_to_tensor  # noqa: F401
from .ops.array_ops import *  # noqa
from .ops.math_ops import *  # noqa
from .ops.reduction_ops import *  # noqa
from .ops.linalg_ops import matmul  # noqa: F401
from .runtime.session import Session, InteractiveSession  # noqa: F401
from .runtime.config import ConfigProto, RunOptions, RunMetadata, GPUOptions  # noqa: F401
from .ops.control_flow_ops import group, tuple, with_dependencies, check_numerics, add_check_numerics_ops, Print, Assert  # noqa: F401,E501
from .ops.variables import *  # noqa
from .autodiff import gradients  # noqa: F401
from . import train  # noqa: F401
