"""What the runtime needs from a device backend: an array module and transfers.

One Backend instance serves one device kind: NumPy serves every CPU (and simulated GPU)
device; CuPy gets one instance per GPU. Kernels only ever see `xp`.
"""
import contextlib


class Backend:
    """A device backend. `xp` is the array module kernels receive (numpy or cupy)."""

    name = "base"
    xp = None
    memory_limit_bytes = 268435456

    def quiet(self):
        """A context manager that silences floating-point warnings while a plan runs (TF
        reports NaN/Inf only through check_numerics, never as warnings)."""
        raise NotImplementedError

    def run_context(self):
        """A context manager making this device current for the kernels run inside it."""
        return contextlib.nullcontext()

    def from_host(self, value):
        """Place a host (NumPy) value on this device."""
        raise NotImplementedError

    def to_host(self, value):
        """A device value as a NumPy array (or NumPy scalar); may share memory."""
        raise NotImplementedError

    def transfer(self, value, source):
        """`value`, living on backend `source`, placed on this device."""
        return self.from_host(source.to_host(value))

    def fetch_result(self, value):
        """A device value as the NumPy array / NumPy scalar `Session.run` returns."""
        raise NotImplementedError

    def fetch_copy(self, value):
        """Like fetch_result, but never a view of session state or of a fed array."""
        raise NotImplementedError
