"""How a multi-device plan runs: one thread per device, or every segment on the calling thread.

Device threads pay off when devices have real work to overlap (towers of big matmuls, GPUs);
for small graphs, the hand-offs between threads cost more than the work (a few tens of µs
each), and running the segments one after another in schedule order is several times
faster. Both give identical results: the schedule's segment order is a valid sequential
order. `ConfigProto(inter_op_parallelism_threads=...)` picks, with TF1's meaning of the
number: 1 runs one op at a time (the calling thread), 2 or more always uses device threads,
0 (the default) lets each compiled plan measure both ways and keep the faster, trying the
other way again now and then (after 50 runs, then 100, 200, ... up to every 1600) in case the
work changed, e.g. a bigger batch.
"""

import collections
import statistics

THREADS, INLINE = "threads", "inline"


def mode_for(config):
    """The fixed mode `config.inter_op_parallelism_threads` asks for, or None (measure)."""
    threads = getattr(config, "inter_op_parallelism_threads", 0) or 0
    if not isinstance(threads, int) or threads < 0:
        raise ValueError("ConfigProto.inter_op_parallelism_threads must be a non-negative int "
                         f"(0: choose per plan, 1: one op at a time), got {threads!r}")
    return None if threads == 0 else INLINE if threads == 1 else THREADS


class ModeChooser:
    """Picks THREADS or INLINE for each run from measured run times.

    The first run after a switch of mode is a warm-up (idle threads wake up, caches refill)
    and is not counted. To learn, each mode runs `samples` + 1 times in a row, and the one
    with the lower median time is preferred; after `probe_every` runs the other one is timed
    afresh the same way (its old timings dropped), and each probe that confirms the
    preference doubles that interval (up to `max_probe_every`). The preference changes only
    at the end of a probe, when the other mode's fresh median is at least `margin` faster
    than the preferred mode's median over its last `window` runs just before: both timed
    at nearly the same moment, so that a machine slowed down by something else (which slows
    both modes, at different times) does not switch modes back and forth."""

    def __init__(self, samples=3, probe_every=50, max_probe_every=1600, window=5,
                 margin=0.1):
        self.samples, self.margin = samples, margin
        self.first_probe, self.max_probe_every = probe_every, max_probe_every
        self.probe_every = probe_every
        self.recent = {THREADS: collections.deque(maxlen=window),
                       INLINE: collections.deque(maxlen=window)}
        self.preferred = None  # None while learning
        self.last, self.streak, self.needed = None, 0, 0
        self.since_probe = 0

    def estimate(self, mode):
        """The median of `mode`'s recent run times (seconds), None before any."""
        times = self.recent[mode]
        return statistics.median(times) if times else None

    def choose(self):
        if self.streak < self.needed and self.last is not None:  # (a failed run: no record)
            return self.last
        if self.preferred is None:  # learning: each mode samples + 1 times in a row
            mode = THREADS if len(self.recent[THREADS]) < self.samples else INLINE
            self.needed = self.samples + 1 if mode != self.last else 0
            return mode
        if self.since_probe >= self.probe_every:
            other = _other(self.preferred)
            self.recent[other].clear()
            self.since_probe, self.needed = 0, self.samples + 1
            self.probe_every = min(2 * self.probe_every, self.max_probe_every)
            return other
        self.needed = 0
        return self.preferred

    def record(self, mode, seconds):
        self.since_probe += 1
        if mode != self.last:  # the warm-up run of a switch
            self.last, self.streak = mode, 1
            return
        self.streak += 1
        self.recent[mode].append(seconds)
        if len(self.recent[THREADS]) < self.samples or len(self.recent[INLINE]) < self.samples:
            return
        if self.preferred is None:
            self.preferred = INLINE if self.estimate(INLINE) < self.estimate(THREADS) \
                else THREADS
            return
        other = _other(self.preferred)
        if mode == other and len(self.recent[other]) == self.samples and \
                self.estimate(other) < self.estimate(self.preferred) * (1 - self.margin):
            self.preferred, self.probe_every = other, self.first_probe


def _other(mode):
    return INLINE if mode == THREADS else THREADS
