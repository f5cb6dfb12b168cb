"""ConfigProto, RunOptions and RunMetadata: plain objects with TF1's field names."""


class GPUOptions:
    def __init__(self, allow_growth=False, per_process_gpu_memory_fraction=0.0,
                 visible_device_list=""):
        self.allow_growth = allow_growth
        self.per_process_gpu_memory_fraction = per_process_gpu_memory_fraction
        self.visible_device_list = visible_device_list


class ConfigProto:
    """Session configuration: devices, placement rules and logging (TF1's field names)."""

    def __init__(self, device_count=None, allow_soft_placement=False,
                 log_device_placement=False, gpu_options=None, intra_op_parallelism_threads=0,
                 inter_op_parallelism_threads=0, operation_timeout_in_ms=0,
                 simulate_gpus=False, **unknown):
        if unknown:
            raise TypeError(f"ConfigProto got unknown field(s): {', '.join(sorted(unknown))}")
        self.device_count = dict(device_count or {})
        self.allow_soft_placement = allow_soft_placement
        self.log_device_placement = log_device_placement
        self.gpu_options = gpu_options or GPUOptions()
        self.intra_op_parallelism_threads = intra_op_parallelism_threads
        self.inter_op_parallelism_threads = inter_op_parallelism_threads
        self.operation_timeout_in_ms = operation_timeout_in_ms
        # tginteractive's extension: without a real GPU, simulate device_count['GPU'] GPUs
        # on the CPU (NumPy) so GPU-placed code runs unchanged; placement reports say so.
        self.simulate_gpus = simulate_gpus


class RunOptions:
    NO_TRACE, SOFTWARE_TRACE, HARDWARE_TRACE, FULL_TRACE = 0, 1, 2, 3

    def __init__(self, trace_level=0, timeout_in_ms=0, output_partition_graphs=False):
        self.trace_level = trace_level
        self.timeout_in_ms = timeout_in_ms
        self.output_partition_graphs = output_partition_graphs


class NodeExecStats:
    def __init__(self, node_name, op_type, all_start_micros, all_end_rel_micros, output_bytes):
        self.node_name, self.op_type = node_name, op_type
        self.all_start_micros, self.all_end_rel_micros = all_start_micros, all_end_rel_micros
        self.output_bytes = output_bytes

    def __repr__(self):
        return (f"NodeExecStats({self.node_name!r}, {self.op_type}, "
                f"{self.all_end_rel_micros}us, {self.output_bytes}B)")


class DeviceStepStats:
    def __init__(self, device):
        self.device = device
        self.node_stats = []


class StepStats:
    def __init__(self):
        self.dev_stats = []


class RunMetadata:
    """Filled by a traced `Session.run`: per-device, per-op start, duration and output bytes."""

    def __init__(self):
        self.step_stats = StepStats()
        self.partition_graphs = []

    def Clear(self):  # noqa: N802 - protobuf spelling
        self.__init__()
