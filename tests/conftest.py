"""Shared pytest configuration for tginteractive's tests."""
import os

import pytest
from hypothesis import settings

settings.register_profile("ci", max_examples=50, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _fresh_default_graph():
    """Give every test a fresh default graph.

    tginteractive is imported lazily so that collecting tests never depends on
    the package importing cleanly. If a test (or a leaked context) left the
    default-graph stack nested, reset_default_graph() refuses with an
    AssertionError, as in TF1; the stack is then left alone.
    """
    import tginteractive

    try:
        tginteractive.reset_default_graph()
    except AssertionError:
        pass
    yield
