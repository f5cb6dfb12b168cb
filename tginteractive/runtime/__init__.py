"""Execution: planning, compiled executables and sessions. Never mutates the graph."""
