"""Device strings: parse, merge and canonicalise ('/gpu:0' → '/device:GPU:0')."""
import re

_FIELD = re.compile(r"^(job|replica|task|device|cpu|gpu):(.*)$", re.IGNORECASE)


class DeviceSpec:
    """A possibly partial device: job, replica, task, device_type, device_index (None = any)."""

    __slots__ = ("job", "replica", "task", "device_type", "device_index")

    def __init__(self, job=None, replica=None, task=None, device_type=None, device_index=None):
        self.job, self.replica, self.task = job, replica, task
        self.device_type = device_type.upper() if device_type else None
        self.device_index = device_index

    @classmethod
    def from_string(cls, spec):
        out = cls()
        for part in (p for p in (spec or "").split("/") if p):
            m = _FIELD.match(part)
            if m is None:
                out._parse_device(part, spec)
                continue
            key, val = m.group(1).lower(), m.group(2)
            if key == "job":
                out.job = val
            elif key in ("replica", "task"):
                setattr(out, key, _as_int(val, spec))
            elif key in ("cpu", "gpu"):
                out.device_type = key.upper()
                out.device_index = None if val == "*" else _as_int(val, spec)
            else:
                out._parse_device(val, spec)
        return out

    def _parse_device(self, text, spec):
        fields = text.split(":")
        if len(fields) > 2 or not fields[0]:
            raise ValueError(f"Unknown attribute: '{text}' in '{spec}'")
        self.device_type = fields[0].upper()
        if len(fields) == 2 and fields[1] != "*":
            self.device_index = _as_int(fields[1], spec)

    def merge_from(self, other):
        """Fields set in `other` override this spec's (TF's DeviceSpec.merge_from)."""
        merged = DeviceSpec(self.job, self.replica, self.task, self.device_type, self.device_index)
        for field in ("job", "replica", "task"):
            if getattr(other, field) is not None:
                setattr(merged, field, getattr(other, field))
        if other.device_type is not None:
            merged.device_type, merged.device_index = other.device_type, other.device_index
        return merged

    def to_string(self):
        out = ""
        if self.job is not None:
            out += f"/job:{self.job}"
        if self.replica is not None:
            out += f"/replica:{self.replica}"
        if self.task is not None:
            out += f"/task:{self.task}"
        if self.device_type is not None:
            index = "*" if self.device_index is None else self.device_index
            out += f"/device:{self.device_type}:{index}"
        return out

    def __repr__(self):
        return f"DeviceSpec({self.to_string()!r})"


def _as_int(text, spec):
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"Invalid device specification '{spec}': '{text}' is not an integer")


def canonical_name(spec):
    """The canonical string of a device spec ('' stays '')."""
    if isinstance(spec, DeviceSpec):
        return spec.to_string()
    return DeviceSpec.from_string(spec).to_string() if spec else ""


def merge_device(outer, inner):
    """The device an inner scope yields inside an outer one (partial specs merge)."""
    if not outer:
        return canonical_name(inner)
    return DeviceSpec.from_string(outer).merge_from(DeviceSpec.from_string(inner)).to_string()
