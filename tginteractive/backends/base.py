"""What the runtime needs from a device backend: an array module and host transfers."""


class Backend:
    """A device backend. `xp` is the array module kernels receive (numpy or cupy)."""

    name = "base"
    xp = None

    def quiet(self):
        """A context manager that silences floating-point warnings while a plan runs (TF
        reports NaN/Inf only through check_numerics, never as warnings)."""
        raise NotImplementedError

    def from_host(self, value):
        """Place a host (NumPy) value on this device."""
        raise NotImplementedError

    def fetch_result(self, value):
        """A device value as the NumPy array / NumPy scalar `Session.run` returns."""
        raise NotImplementedError

    def fetch_copy(self, value):
        """Like fetch_result, but never a view of session state or of a fed array."""
        raise NotImplementedError
