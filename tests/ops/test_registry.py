"""Every registered op type must be exercised by a Spec, or be exempted with the test that
covers it instead. Any test module under tests/ may define `SPECS` (a list of Specs) and
`EXEMPT` ({op type: "where it is tested"}); this test collects them all."""
import importlib
import pathlib

import tginteractive as tf

TESTS = pathlib.Path(__file__).resolve().parents[1]

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


def _modules():
    for path in sorted(TESTS.rglob("test_*.py")):
        parts = path.relative_to(TESTS.parent).with_suffix("").parts
        yield importlib.import_module(".".join(parts))


def collected():
    specs, exempt = [], {}
    for module in _modules():
        specs.extend(getattr(module, "SPECS", []))
        exempt.update(getattr(module, "EXEMPT", {}))
    return specs, exempt


def test_every_registered_op_has_a_spec():
    specs, exempt = collected()
    covered = {spec.op_type for spec in specs}
    missing = set(tf.framework.registry.OPS) - covered - set(exempt)
    assert not missing, f"ops without a Spec (or an EXEMPT entry) in tests/: {sorted(missing)}"


def test_exemptions_name_real_ops_and_real_test_files():
    _, exempt = collected()
    assert set(exempt) <= set(tf.framework.registry.OPS), set(exempt) - set(tf.framework.registry.OPS)
    for where in exempt.values():
        path = where.split(";")[-1].split()[-1].split("::")[0]
        assert (TESTS.parent / path).exists(), where
