"""The op library. Each op is defined once: shape rule, `xp` kernel and gradient, adjacent."""
from . import (array_ops, clip_ops, cond_ops, control_flow_ops, conv_ops,  # noqa: F401
               indexing_ops, init_ops, linalg_ops, loss_ops, manip_ops, math_ops, nn_ops,
               pad_ops, random_ops, reduction_ops, scan_ops, sequence_ops, training_ops,
               variable_scope, variables, while_ops)
