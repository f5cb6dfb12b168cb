"""Data-parallel "towers" (TF1's CIFAR-10 multi-GPU pattern): `average_gradients` is the
synchronisation step, `replicate_model` the whole pattern in one call.

Each tower runs the same model on an equal slice of the batch, with the variables shared
through `get_variable`; the towers' gradients are averaged and applied once. Because every
tower's loss is a mean over an equal-sized shard, the mean of the tower gradients *is* the
gradient of the full-batch mean loss, so training with towers follows the same trajectory
as training on one device (up to float rounding), whatever the placement.

Missing gradients: a variable whose gradient is None in some towers but not others (a
branch only some towers take) gets the sum of the gradients it has divided by the number
of *all* towers -- the missing towers contribute zero, as they do to the full-batch
gradient. Averaging over only the towers that have one would overweight those shards.
A variable with no gradient in any tower stays `(None, var)`, which `apply_gradients` skips.
(TF's own example crashes on None; its sparse IndexedSlices gradients do not arise here,
as `gather`'s gradient is dense.)
"""
import collections
import contextlib
import sys

from ..framework.context import device, name_scope
from ..framework.device_spec import DeviceSpec
from ..framework.registry import convert_to_tensor
from ..ops.manip_ops import split
from ..ops.math_ops import add_n
from ..ops.variable_scope import get_variable_scope, variable_scope

__all__ = ["average_gradients", "replicate_model", "ReplicatedModel"]

_VARIABLE_OPS = ("VariableV2", "Variable", "VarHandleOp")


def average_gradients(tower_grads, name="average_gradients"):
    """[(mean gradient, variable)] from one [(gradient, variable)] list per tower.

    The variables must line up across towers (same variables, same order). Each mean is
    built on its variable's device (or inside the current device scope when the variable
    requests none), the host-side synchronisation point of the CIFAR-10 example.
    """
    return _combine(tower_grads, name, mean=True)


def _combine(tower_grads, name, mean):
    """Per variable, the sum of the towers' gradients (over the number of towers if `mean`)."""
    tower_grads = [list(grads_and_vars) for grads_and_vars in tower_grads]
    if not tower_grads:
        raise ValueError("average_gradients needs at least one tower's [(gradient, variable)]")
    first = tower_grads[0]
    for i, grads_and_vars in enumerate(tower_grads[1:], 1):
        if len(grads_and_vars) != len(first):
            raise ValueError(f"Tower {i} has {len(grads_and_vars)} (gradient, variable) pairs but "
                             f"tower 0 has {len(first)}; compute every tower's gradients over "
                             "the same var_list.")
    averaged = []
    with name_scope(name):
        for k, pairs in enumerate(zip(*tower_grads)):
            var = pairs[0][1]
            for i, (_, other) in enumerate(pairs[1:], 1):
                if _var_op(other) is not _var_op(var):
                    raise ValueError(
                        f"Tower {i} pairs gradient #{k} with variable {_var_name(other)} but "
                        f"tower 0 with {_var_name(var)}; build every tower with the same shared "
                        "variables (tf.get_variable under a reused variable_scope) and the same "
                        "var_list.")
            averaged.append((_sum([g for g, _ in pairs], var, mean), var))
    return averaged


def _sum(grads, var, mean):
    """The present gradients' sum (over the number of towers if `mean`; missing ones are 0)."""
    present = [convert_to_tensor(g) for g in grads if g is not None]
    if not present:
        return None
    if len(grads) == 1:
        return present[0]
    where = getattr(var, "device", "")
    with device(where) if where else contextlib.nullcontext():
        total = present[0] if len(present) == 1 else add_n(present)
        return total / len(grads) if mean else total


def _var_op(var):
    return getattr(var, "op", var)


def _var_name(var):
    return repr(getattr(var, "name", var))


ReplicatedModel = collections.namedtuple(
    "ReplicatedModel", ["train_op", "loss", "tower_losses", "grads_and_vars", "devices"])
ReplicatedModel.__doc__ = """What `replicate_model` built: `train_op` (None without an
optimizer), `loss` (the mean of `tower_losses`), `grads_and_vars` (averaged; None without an
optimizer) and the tower `devices`."""


def replicate_model(model_fn, inputs, num_towers=None, devices=None, optimizer=None,
                    global_step=None, variable_device="/cpu:0", name_scope="tower"):
    """Build `model_fn` once per device on equal slices of `inputs` and train it as one model.

    `inputs`: a tensor, a list/tuple or a dict of tensors, split along axis 0 (the batch size
    must divide evenly); `model_fn` gets one tower's slices in the same form (`model_fn(x)`,
    `model_fn(*xs)` or `model_fn(**xs)`), creates its variables with `tf.get_variable` and
    returns that tower's loss (a mean over its slice). Variables live on `variable_device`
    (None: on the first tower's device); the gradients are averaged there and applied once by
    `optimizer` (with `global_step` incremented, if given). Without an optimizer only the
    forward towers are built (evaluation). Devices default to every GPU, else `/cpu:0..K-1`;
    run the session with `allow_soft_placement=True` where a device may be missing.
    """
    devices = _tower_devices(num_towers, devices)
    shards = _split_inputs(inputs, len(devices))
    tower_losses, tower_grads = [], []
    with variable_scope(get_variable_scope()) as scope:
        for i, dev in enumerate(devices):
            with device(_tower_placement(dev, variable_device)), \
                    _name_scope(f"{name_scope}_{i}"):
                loss = model_fn(**shards[i]) if isinstance(shards[i], dict) else \
                    model_fn(*shards[i])
                if loss is None:
                    raise TypeError("model_fn must return the tower's loss tensor, got None")
                loss = convert_to_tensor(loss)
                tower_losses.append(loss)
                scope.reuse_variables()  # towers 1.. share tower 0's variables
                if optimizer is not None:  # gradients of loss / n: their sum is the mean
                    tower_grads.append(optimizer.compute_gradients(
                        loss / len(devices) if len(devices) > 1 else loss))
    with device(variable_device) if variable_device else contextlib.nullcontext():
        with _name_scope("average_loss"):
            loss = tower_losses[0] if len(devices) == 1 else \
                add_n(tower_losses) / len(devices)
        if optimizer is None:
            return ReplicatedModel(None, loss, tower_losses, None, devices)
        grads_and_vars = _combine(tower_grads, "average_gradients", mean=False)
        train_op = optimizer.apply_gradients(grads_and_vars, global_step=global_step)
    return ReplicatedModel(train_op, loss, tower_losses, grads_and_vars, devices)


_name_scope = name_scope  # the argument `name_scope` shadows it inside replicate_model


def _tower_placement(dev, variable_device):
    """The tower's device, with variable ops sent to `variable_device` (a device function,
    like TF's replica_device_setter)."""
    if not variable_device:
        return dev
    return lambda op: variable_device if op.type in _VARIABLE_OPS else dev


def _split_inputs(inputs, n):
    """One entry per tower: a tuple of slices (a dict of them for dict inputs)."""
    if isinstance(inputs, dict):
        names, items = [repr(k) for k in inputs], list(inputs.values())
    elif isinstance(inputs, (list, tuple)):
        names, items = [f"inputs[{j}]" for j in range(len(inputs))], list(inputs)
    else:
        names, items = ["inputs"], [inputs]
    with _name_scope("split_inputs"):
        per_item = [_split_one(x, n, name) for x, name in zip(items, names)]
    towers = list(zip(*per_item))
    return [dict(zip(inputs, t)) for t in towers] if isinstance(inputs, dict) else towers


def _split_one(x, n, what):
    x = convert_to_tensor(x)
    if x.shape.ndims == 0:
        raise ValueError(f"Input {what} ({x.name}) is a scalar; towers split inputs along "
                         "axis 0, so each input needs a batch dimension.")
    batch = x.shape.dims[0] if x.shape.dims is not None else None
    batch = getattr(batch, "value", batch)
    if batch is not None and batch % n:
        raise ValueError(f"Input {what} ({x.name}) has batch size {batch}, which does not "
                         f"split evenly into {n} towers; use a batch size divisible by {n}.")
    return [x] if n == 1 else split(x, n, axis=0)


def _tower_devices(num_towers, devices):
    if devices is not None:
        devices = list(devices)
        if not devices or (num_towers is not None and num_towers != len(devices)):
            raise ValueError(f"num_towers={num_towers} does not match devices={devices}; pass "
                             "a non-empty devices list, num_towers, or both agreeing.")
        return devices
    if num_towers is not None and num_towers < 1:
        raise ValueError(f"num_towers must be at least 1, got {num_towers}")
    known = _listed_devices()
    if known is None:  # devices unknown until the session: request GPUs, soft placement
        if num_towers is None:
            raise ValueError("Cannot tell how many devices there are: pass num_towers or "
                             "devices, e.g. devices=['/cpu:0', '/cpu:1'].")
        return [f"/gpu:{i}" for i in range(num_towers)]
    kind = "GPU" if "GPU" in known else "CPU"
    return [f"/{kind.lower()}:{i}" for i in range(num_towers or max(1, known.count(kind)))]


def _listed_devices():
    """Device types ('CPU', 'GPU', ...) listed by the public `tf.config` namespace, if the
    package offers one; None when it does not (devices are then only known to a session)."""
    config = getattr(sys.modules.get("tginteractive"), "config", None)
    for lister in ("list_devices", "list_logical_devices", "list_physical_devices"):
        if callable(getattr(config, lister, None)):
            return [_device_type(d) for d in getattr(config, lister)()]
    return None


def _device_type(d):
    if getattr(d, "device_type", None):
        return str(d.device_type).upper()
    name = d if isinstance(d, str) else d.name
    return DeviceSpec.from_string(name).device_type
