"""The op library. Each op is defined once: shape rule, `xp` kernel and gradient, adjacent."""
from . import array_ops, math_ops, reduction_ops, linalg_ops, control_flow_ops, variables, training_ops  # noqa: F401,E501
