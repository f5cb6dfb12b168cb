"""Shared pytest configuration for tginteractive's tests."""
import os

import pytest
from hypothesis import settings

settings.register_profile("ci", max_examples=50, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _fresh_default_graph():
    """Every test starts on a fresh default graph and must leave no graph or session
    entered as default (a leak would silently change the next test's graph)."""
    from tginteractive.framework import context

    context.reset_default_graph()
    yield
    leaked = list(context._graph_stack), list(context._session_stack)
    context._graph_stack.clear()
    context._session_stack.clear()
    assert leaked == ([], []), f"test left default graphs/sessions entered: {leaked}"
