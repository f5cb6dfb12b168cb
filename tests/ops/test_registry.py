"""Every registered op type must be exercised by at least one Spec in tests/ops/test_*.py."""
import importlib
import pathlib

import tginteractive as tf

# Op types that cannot be run standalone through a Spec, each with where it is tested instead.
EXEMPT = {
    "Placeholder": "fed in every spec; unfed errors in tests/runtime/test_errors.py",
    "VariableV2": "tests/ops/test_variables.py",
    "Assign": "tests/ops/test_variables.py",
    "AssignAdd": "tests/ops/test_variables.py",
    "AssignSub": "tests/ops/test_variables.py",
    "IsVariableInitialized": "tests/ops/test_variables.py",
    "ReportUninitializedVariables": "tests/ops/test_variables.py",
    "InitializedValue": "tests/ops/test_variables.py",
    "ApplyGradientDescent": "tests/train/test_gradient_descent.py",
    "NoOp": "tests/ops/test_control_flow.py",
    "Assert": "tests/ops/test_control_flow.py",
    "Print": "tests/ops/test_control_flow.py",
}


def all_specs():
    specs = []
    for path in sorted(pathlib.Path(__file__).parent.glob("test_*.py")):
        module = importlib.import_module(f"tests.ops.{path.stem}")
        specs.extend(getattr(module, "SPECS", []))
    return specs


def test_every_registered_op_has_a_spec():
    covered = {spec.op_type for spec in all_specs()}
    missing = set(tf.framework.registry.OPS) - covered - set(EXEMPT)
    assert not missing, f"ops without a Spec in tests/ops: {sorted(missing)}"


def test_exemptions_name_real_ops():
    assert set(EXEMPT) <= set(tf.framework.registry.OPS)
