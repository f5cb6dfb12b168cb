"""The notebook front end: IPython extension, magics, per-cell graph ownership and views.

The only package that imports IPython, ipywidgets, matplotlib or graphviz; nothing in the
engine imports it. `%load_ext tginteractive` loads it (see extension.py).
"""
from .extension import enable, keep_values  # noqa: F401,E402
