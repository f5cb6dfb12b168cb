"""Graph construction: graphs, ops, tensors, dtypes, shapes, devices, errors (stdlib + numpy)."""
