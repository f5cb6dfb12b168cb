"""The devices a session runs on: `/cpu:N` on NumPy, `/gpu:N` on CuPy or simulated.

`ConfigProto(device_count={'CPU': 4})` gives four virtual CPU devices (NumPy, one worker
thread each). GPUs are the CUDA devices CuPy sees; on a machine without any, GPUs can be
*simulated* on the CPU, `ConfigProto(device_count={'GPU': 2}, simulate_gpus=True)` or the
environment variable TGINTERACTIVE_SIMULATE_GPUS=2, so GPU-placed code runs unchanged and
placement reports say the GPU is simulated. Discovery never allocates GPU memory.
"""
import os

from .. import backends
from ..framework.device_spec import DeviceSpec

LOCAL_TASK = "/job:localhost/replica:0/task:0"
SIMULATE_ENV = "TGINTERACTIVE_SIMULATE_GPUS"


class Device:
    """One local device: its full TF1 name, type, index and the backend running its ops."""

    __slots__ = ("device_type", "index", "backend", "simulated", "name", "short_name")

    def __init__(self, device_type, index, backend, simulated=False):
        self.device_type, self.index, self.backend = device_type, index, backend
        self.simulated = simulated
        self.short_name = f"/device:{device_type}:{index}"
        self.name = LOCAL_TASK + self.short_name

    @property
    def memory_limit_bytes(self):
        return self.backend.memory_limit_bytes

    def describe(self):
        return self.name + (" (simulated on the CPU)" if self.simulated else "")

    def __repr__(self):
        return f"<Device {self.describe()}>"


def _count(config, kind, default):
    value = (config.device_count if config is not None else {}).get(kind, default)
    if not isinstance(value, int) or value < 0:
        raise ValueError(f"device_count[{kind!r}] must be a non-negative int, got {value!r}")
    return value


def local_devices(config=None):
    """The devices a session with `config` uses: CPUs first, then GPUs (real or simulated)."""
    cpus = max(1, _count(config, "CPU", 1))
    devices = [Device("CPU", i, backends.NUMPY) for i in range(cpus)]
    real = backends.gpu_count()
    if real:
        wanted = min(real, _count(config, "GPU", real))
        devices += [Device("GPU", i, backends.gpu_backend(i)) for i in range(wanted)]
        return devices
    simulate = getattr(config, "simulate_gpus", False)
    env = os.environ.get(SIMULATE_ENV, "")
    if simulate or env:
        default = int(env) if env.isdigit() else 1
        count = _count(config, "GPU", default) if simulate else default
        devices += [Device("GPU", i, backends.NUMPY, simulated=True) for i in range(count)]
    return devices


def find(devices, spec):
    """The device matching a (possibly partial) DeviceSpec, or None."""
    for device in devices:
        if spec.device_type in (None, device.device_type) and \
                spec.device_index in (None, device.index):
            return device
    return None


def is_local(spec):
    return spec.job in (None, "localhost") and spec.replica in (None, 0) and \
        spec.task in (None, 0)


def parse(device_string):
    return DeviceSpec.from_string(device_string)
