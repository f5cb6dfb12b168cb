"""Names the classic (pre-1.0) tutorials use that TF removed: aliases with one warning each."""
import functools
import warnings

_ALIASES = {  # old name -> (new name, note)
    "mul": "multiply", "sub": "subtract", "neg": "negative", "select": "where",
    "pack": "stack", "unpack": "unstack",
}


def _deprecated(old, new, fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not wrapper.warned:
            wrapper.warned = True
            warnings.warn(f"tf.{old} is deprecated (removed in TF 1.0); use tf.{new}.",
                          DeprecationWarning, stacklevel=2)
        return fn(*args, **kwargs)
    wrapper.warned = False
    return wrapper


def install(namespace):
    for old, new in _ALIASES.items():
        if new in namespace:
            namespace[old] = _deprecated(old, new, namespace[new])
