"""Reading a logdir for the board: TensorBoard's own reader, points kept as a default
`tensorboard --logdir` keeps them (see board.py), damaged files reported, not fatal."""
import collections
import math
import os
import random
import re
import warnings

import numpy as np

CAPACITY = {"scalars": math.inf, "histograms": 500}  # per tag and run: every scalar point
Scalars = collections.namedtuple("Scalars", "steps values")
Histograms = collections.namedtuple("Histograms", "steps buckets")  # buckets: (k, 3) arrays
# of rows (left, right, count), as TensorBoard's histogram plugin holds them


def read_events(logdir):
    """(runs, scalars, histograms, problems) of every run under `logdir` as TensorBoard
    shows them; runs and tags sorted."""
    from tensorboard.backend.event_processing import io_wrapper
    runs, problems, data = [], [], {"scalars": {}, "histograms": {}}
    root = os.path.expanduser(logdir)
    for path in io_wrapper.GetLogdirSubdirectories(root):
        runs.append(os.path.relpath(path, root))
        for plugin, tag, series in _read_run(path, runs[-1], problems):
            data[plugin].setdefault(tag, {})[runs[-1]] = series
    ordered = [{tag: dict(sorted(by[tag].items())) for tag in sorted(by)} for by in
               data.values()]
    return sorted(runs), ordered[0], ordered[1], sorted(problems)


def _read_run(path, run, problems):
    """(plugin, tag, Scalars or Histograms) of one run, its events files read in name order
    (as TensorBoard reads them); a tag's plugin is the one its first metadata names."""
    from tensorboard.backend.event_processing import io_wrapper
    kept, plugins, metadata = {}, {}, {}
    for name in sorted(os.listdir(path)):
        file = os.path.join(path, name)
        if not (io_wrapper.IsSummaryEventsFile(file) and os.path.isfile(file)):
            continue
        for event in _events(file, run, metadata, problems):
            for value in event.summary.value:
                if value.HasField("metadata"):
                    plugins.setdefault(value.tag, value.metadata.plugin_data.plugin_name)
                capacity = CAPACITY.get(plugins.get(value.tag))
                if capacity and value.HasField("tensor"):
                    kept.setdefault(value.tag, Kept(capacity)).offer(event.step, value.tensor)
    for tag, points in kept.items():
        yield plugins[tag], tag, points.series(plugins[tag])


def _events(file, run, initial_metadata, problems):
    """The events of `file` through TensorBoard's reader and compat layers (what its
    EventFileLoader does), counting the bytes read: a bad record (cut short, corrupt) stops
    TensorBoard's reading of a file silently; this warns, and the board shows what was read."""
    from tensorboard import data_compat, dataclass_compat
    from tensorboard.backend.event_processing import event_file_loader
    from tensorboard.compat.proto import event_pb2
    size, read, count, error = os.path.getsize(file), 0, 0, None
    try:
        for record in event_file_loader.RawEventFileLoader(file).Load():
            read, count = read + len(record) + 16, count + 1  # + length, CRCs
            event = data_compat.migrate_event(event_pb2.Event.FromString(record))
            yield from dataclass_compat.migrate_event(event, initial_metadata)
    except Exception as e:  # noqa: BLE001 - unreadable: say so, show the rest
        error = f"{type(e).__name__}: {e}"
    if read < size or error:
        warnings.warn(f"Events file {file} is unreadable from byte {read} of {size} "
                      f"({error or 'truncated or corrupt'}); TensorBoard reads only the "
                      f"{count} events before it.", RuntimeWarning, stacklevel=2)
        problems.append(f"{run}: an events file stops after {count} events (truncated or "
                        "corrupt); showing what was read")


class Kept:
    """A tag's points as TensorBoard's data server keeps them: a point at step s first drops
    the points at steps >= s (a restart, a re-run cell), so steps always increase; past
    `capacity`, a seeded uniform sample that always keeps the last point (its reservoir)."""

    def __init__(self, capacity):
        self.capacity, self.seen, self.steps, self.values = capacity, 0, [], []
        self.random = random.Random(0)

    def offer(self, step, value):
        before = len(self.steps)
        while self.steps and self.steps[-1] >= step:
            del self.steps[-1], self.values[-1]
        if len(self.steps) < before:  # as many fewer seen, in proportion
            self.seen = self.seen * len(self.steps) // before
        self.seen += 1
        if self.seen > self.capacity:
            slot = self.random.randrange(self.seen)
            if slot >= self.capacity:  # not sampled: it only replaces the last point
                del self.steps[-1], self.values[-1]
            elif len(self.steps) >= self.capacity:
                del self.steps[slot], self.values[slot]
        self.steps.append(int(step))
        self.values.append(value)

    def series(self, plugin):
        from tensorboard.util import tensor_util
        steps = np.array(self.steps, np.int64)
        arrays = [np.asarray(tensor_util.make_ndarray(v), np.float64) for v in self.values]
        if plugin == "scalars":
            return Scalars(steps, np.array([a.reshape(-1)[0] for a in arrays], np.float64))
        return Histograms(steps, [a.reshape(-1, 3) for a in arrays])


def check_logdir(logdir):
    path = os.fspath(logdir)
    if not os.path.isdir(os.path.expanduser(path)):
        what = "is not a directory" if os.path.exists(os.path.expanduser(path)) else \
            "does not exist"
        raise ValueError(f"Log directory {path!r} {what}. Pass the directory given to "
                         "tf.summary.FileWriter (FileWriter('logs/run1') writes run 'run1' "
                         "of the log directory 'logs').")
    return path


def select(series, tags):
    """{tag: ...} of `series` kept by `tags`: None (all), a regular expression searched in
    each tag (TensorBoard's tag filter; an invalid one is matched literally) or names."""
    if tags is None:
        return dict(series)
    try:
        keep = re.compile(tags).search if isinstance(tags, str) else set(tags).__contains__
    except re.error:
        keep = re.compile(re.escape(tags)).search
    return {tag: s for tag, s in series.items() if keep(tag)}
