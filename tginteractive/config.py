"""`tf.config`-style device discovery: side-effect free (no GPU memory is allocated)."""
from .runtime.devices import local_devices
from .runtime.session import DeviceAttributes


def list_devices(config=None):
    """DeviceAttributes (name, device_type, memory_limit_bytes, incarnation) of the devices a
    Session with `config` would use: virtual CPUs, real GPUs, or simulated GPUs."""
    return [DeviceAttributes(d.name, d.device_type, d.memory_limit_bytes, i)
            for i, d in enumerate(local_devices(config))]


def list_physical_devices(device_type=None):
    """Devices of the machine (with the default config), optionally of one type."""
    return [d for d in list_devices() if device_type in (None, d.device_type)]


def list_logical_devices(device_type=None):
    return list_physical_devices(device_type)


def is_gpu_simulated(config=None):
    """True when the GPUs a Session with `config` sees are simulated on the CPU."""
    return any(d.simulated for d in local_devices(config) if d.device_type == "GPU")
