"""`ConfigProto(intra_op_parallelism_threads=N)`: each op uses at most N threads.

NumPy's kernels run on one thread except BLAS (matmul and friends), which by default spreads
every call over all cores. With N set, a session's runs cap BLAS at N threads through
threadpoolctl, and restore the previous setting when the run ends. The cap is process-wide
while a run lasts (BLAS has one setting per process), which is what a notebook running one
session at a time wants. (`inter_op_parallelism_threads` is runtime/dispatch.py's.)
"""
import warnings

_controller = []  # threadpoolctl's ThreadpoolController, made once (it scans loaded libraries)


def _blas_controller():
    if not _controller:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            warnings.warn("ConfigProto(intra_op_parallelism_threads=...) needs the threadpoolctl "
                          "package to limit BLAS threads (pip install threadpoolctl); running "
                          "with the BLAS library's default thread count instead.", stacklevel=4)
            _controller.append(None)
        else:
            _controller.append(ThreadpoolController())
    return _controller[0]


class ThreadLimited:
    """An executable whose runs use at most `threads` BLAS threads per op; everything else
    (plan, records, close, ...) is the wrapped executable's."""

    def __init__(self, executable, threads):
        self.executable, self.threads = executable, threads
        self._controller = _blas_controller()

    def __getattr__(self, name):
        return getattr(self.executable, name)

    def __call__(self, feed_values):
        if self._controller is None:
            return self.executable(feed_values)
        with self._controller.limit(limits=self.threads, user_api="blas"):
            return self.executable(feed_values)


def requested_threads(config):
    """`config.intra_op_parallelism_threads`, checked: 0 (the library default) or more."""
    threads = getattr(config, "intra_op_parallelism_threads", 0) or 0
    if not isinstance(threads, int) or threads < 0:
        raise ValueError("ConfigProto.intra_op_parallelism_threads must be a non-negative int "
                         f"(0: the library default), got {threads!r}")
    return threads


def limit_threads(executable, threads):
    """`executable`, its runs capped at `threads` BLAS threads when that is set (> 0)."""
    return ThreadLimited(executable, threads) if threads else executable
