"""`tf.summary.FileWriter`: TF1's writer of TensorBoard event files, on `tensorboard`'s own
EventFileWriter (its record format, its background thread flushing every `flush_secs`).

Each instance opens a NEW events file in `logdir`, named by tensorboard's writer
`events.out.tfevents.<time>.<host>.<pid>.<counter><filename_suffix>`, so two writers opened
in the same second (or a `reopen()`) never share a file. What TF1 does, this does: summaries
as bytes or protos, a graph as a GraphDef with `_output_shapes`, run metadata under a tag
(a tag twice in one writer is TF's ValueError), a closed writer warns and ignores writes
until `reopen()`. In addition, every live writer is flushed and closed at interpreter exit
and when garbage-collected (`weakref.finalize`: a weak registry, nothing keeps a writer
alive), and decoded summaries go to the in-process stream (summary/stream.py) when someone
listens there.
"""
import os
import time
import warnings
import weakref

import numpy as np

from ..framework import errors
from ..framework.context import add_reset_hook, get_default_graph
from ..framework.graph import Graph
from . import graph_def as _graph_def  # noqa: F401 - installs Graph.as_graph_def

_CLOSED = ("Attempting to use a closed FileWriter. The operation will be a noop unless the "
           "FileWriter is explicitly reopened.")
_OS_ERRORS = [(FileNotFoundError, errors.NotFoundError),
              (NotADirectoryError, errors.FailedPreconditionError),
              (FileExistsError, errors.FailedPreconditionError),
              (PermissionError, errors.PermissionDeniedError)]


def _pb():
    from tensorboard.compat.proto import event_pb2, graph_pb2, summary_pb2
    return event_pb2, graph_pb2, summary_pb2


def _make_logdir(logdir):
    """Create `logdir` (local paths; URLs are left to tensorboard); OpErrors name the path."""
    if "://" in logdir:
        return
    try:
        os.makedirs(logdir, exist_ok=True)
    except OSError as e:
        cls = next((tf_cls for os_cls, tf_cls in _OS_ERRORS if isinstance(e, os_cls)),
                   errors.UnknownError)
        raise cls(None, None, f"FileWriter cannot create the log directory '{logdir}': "
                              f"{e.strerror or e} ('{e.filename or logdir}'). Pass a "
                              "directory you can write to.") from None


def _close_quietly(event_writer):
    """Finalizer of a FileWriter: flush and close its file (at exit, or once collected)."""
    try:
        event_writer.close()
    except Exception as e:  # noqa: BLE001 - nobody is left to raise to
        warnings.warn(f"Closing the events file {event_writer._file_name} failed: {e}")


_OPEN = weakref.WeakSet()  # open writers, flushed when the default graph is reset


def _flush_open_writers(old_graph):
    for writer in list(_OPEN):
        try:
            writer.flush()
        except Exception as e:  # a broken writer must not break the reset
            warnings.warn(f"Flushing FileWriter({writer.get_logdir()!r}) on graph reset "
                          f"failed: {e}")


add_reset_hook(_flush_open_writers)
# Notebook policy (set by the notebook layer; scripts keep TF1's behaviour): a new writer on a
# logdir replaces (flushes and closes) this process's open writers on it, and marks its first
# step with SessionLog.START so TensorBoard drops the older files' points from that step on:
# re-run cells and restarted kernels never draw overlapping curves within one run.
one_writer_per_logdir = [False]


def _close_writers_on(logdir):
    """Close this process's open writers on `logdir`; returns how many there were."""
    same = [w for w in list(_OPEN) if os.path.realpath(w._logdir) == os.path.realpath(logdir)]
    for writer in same:
        writer.close()
    return len(same)


class FileWriter:
    """Writes Summary protocol buffers and graphs to an events file in `logdir` (TF1's API)."""

    def __init__(self, logdir, graph=None, max_queue=10, flush_secs=120, graph_def=None,
                 filename_suffix=None, session=None):
        if session is not None:
            raise NotImplementedError(
                "FileWriter(session=...) (TF's writer built from summary ops in a session) "
                "is not supported; use FileWriter(logdir, graph=sess.graph).")
        self._logdir = os.fspath(logdir)
        self._options = (max_queue, flush_secs, filename_suffix or "")
        self._graph, self._run_metadata_tags = None, set()
        self._start_pending = one_writer_per_logdir[0]
        if self._start_pending:
            self.replaced = _close_writers_on(self._logdir)
        self._open()
        if graph is not None or graph_def is not None:
            self.add_graph(graph, graph_def=graph_def)

    def _open(self):
        _graph_def.protos()  # no tensorboard: ImportError saying what to pip install
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
        _make_logdir(self._logdir)
        max_queue, flush_secs, suffix = self._options
        self._writer = EventFileWriter(self._logdir, max_queue, flush_secs, suffix)
        self._finalizer = weakref.finalize(self, _close_quietly, self._writer)
        self._closed = False
        _OPEN.add(self)
        self._seen_summary_tags = set()  # per file, so each file carries its own metadata

    # ---- state --------------------------------------------------------------------------------
    def get_logdir(self):
        """The directory this writer writes events files into."""
        return self._logdir

    @property
    def filename(self):
        """The path of the events file currently written (a new one after `reopen()`)."""
        return self._writer._file_name

    def flush(self):
        """Write every pending event to disk (blocks until it is there)."""
        if self._closed:
            warnings.warn(_CLOSED)
            return
        self._writer.flush()

    def close(self):
        """Flush and close the events file. Closing twice is harmless."""
        if not self._closed:
            self._closed = True
            _OPEN.discard(self)
            self._finalizer.detach()  # closing now, raising what goes wrong to the caller
            self._writer.close()

    def reopen(self):
        """After `close()`: open a new events file in the same logdir (no-op while open)."""
        if self._closed:
            self._open()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        state = "closed" if self._closed else "open"
        return f"<FileWriter {state} '{self.filename}'>"

    # ---- events -------------------------------------------------------------------------------
    def add_event(self, event):
        """Write an `event_pb2.Event` as it is."""
        event_pb2 = _pb()[0]
        if not isinstance(event, event_pb2.Event):
            raise TypeError(f"add_event() takes an event_pb2.Event, not a "
                            f"{type(event).__module__}.{type(event).__qualname__}.")
        if self._closed:
            warnings.warn(_CLOSED)
            return
        self._writer.add_event(event)

    def _add(self, step, wall_time=None, **fields):
        if self._start_pending and step is not None:
            self._start_pending = False
            start = _pb()[0].SessionLog(status=_pb()[0].SessionLog.START)
            self._add(step, wall_time, session_log=start)
        event = _pb()[0].Event(wall_time=wall_time or time.time(), **fields)
        if step is not None:
            event.step = int(step)
        self.add_event(event)

    def add_summary(self, summary, global_step=None):
        """Write a summary: the bytes a summary op returns (`sess.run(merged)`) or a Summary."""
        summary = _as_summary(summary)
        if self._closed:
            warnings.warn(_CLOSED)
            return
        wall_time = time.time()
        _publish(summary, global_step, wall_time)
        self._add(global_step, wall_time, summary=self._strip_seen_metadata(summary))

    def _strip_seen_metadata(self, summary):
        """As TF, a tag's metadata goes into the file with its first value only (changing a
        copy, never the caller's proto)."""
        strip = []
        for i, value in enumerate(summary.value):
            if value.HasField("metadata"):
                if value.tag in self._seen_summary_tags:
                    strip.append(i)
                self._seen_summary_tags.add(value.tag)
        if not strip:
            return summary
        copy = type(summary)()
        copy.CopyFrom(summary)
        for i in strip:
            copy.value[i].ClearField("metadata")
        return copy

    def add_session_log(self, session_log, global_step=None):
        """Write an `event_pb2.SessionLog` (START / STOP / CHECKPOINT)."""
        if not isinstance(session_log, _pb()[0].SessionLog):
            raise TypeError(f"add_session_log() takes an event_pb2.SessionLog, not a "
                            f"{type(session_log).__qualname__}.")
        self._add(global_step, session_log=session_log)

    def add_graph(self, graph, global_step=None, graph_def=None):
        """Write a Graph (as a GraphDef with `_output_shapes`, so TensorBoard draws shapes)
        or, deprecated as in TF, a GraphDef proto."""
        if graph is not None and graph_def is not None:
            raise ValueError("Please pass only graph, or graph_def (deprecated), but not both.")
        graph = graph if graph is not None else graph_def
        graph_pb2 = _pb()[1]
        if isinstance(graph, Graph):
            self._graph = graph
            proto = graph.as_graph_def(add_shapes=True)
        elif isinstance(graph, graph_pb2.GraphDef):
            proto = graph
        else:
            raise TypeError(f"The passed graph must be a tf.Graph (e.g. sess.graph) or a "
                            f"GraphDef, not a {type(graph).__qualname__}.")
        self._add(global_step, graph_def=proto.SerializeToString())

    def add_run_metadata(self, run_metadata, tag, global_step=None):
        """Write the RunMetadata of a traced `Session.run` under `tag` (TensorBoard's graph
        dashboard, "Session runs": compute time and memory per op). One writer takes each
        tag once (TF's ValueError); TensorBoard keeps the newest event of a tag per run."""
        if tag in self._run_metadata_tags:
            raise ValueError(f"The provided tag was already used for this event type: "
                             f"'{tag}'. Use a new tag per run, e.g. 'step{global_step}'.")
        proto = run_metadata_proto(run_metadata, self._graph)
        self._run_metadata_tags.add(tag)
        tagged = _pb()[0].TaggedRunMetadata(tag=tag, run_metadata=proto.SerializeToString())
        self._add(global_step, tagged_run_metadata=tagged)


def _as_summary(value):
    """A Summary proto from what `add_summary` accepts; TypeError naming anything else."""
    summary_pb2 = _pb()[2]
    if isinstance(value, summary_pb2.Summary):
        return value
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, (bytes, np.bytes_)):
        summary = summary_pb2.Summary()
        try:
            summary.ParseFromString(bytes(value))
        except Exception as e:  # noqa: BLE001 - protobuf's DecodeError
            raise ValueError(f"add_summary() got {len(value)} bytes that are not a serialized "
                             f"Summary ({e}); pass what a summary op returns.") from None
        return summary
    kind = type(value).__qualname__ + (f" of shape {value.shape}"
                                       if isinstance(value, np.ndarray) else "")
    raise TypeError(f"add_summary() takes a Summary proto or the serialized bytes a summary "
                    f"op returns (e.g. sess.run(tf.summary.merge_all())), not a {kind}.")


def _publish(summary, step, wall_time):
    """Hand decoded values to the in-process stream, if that module exists and is listened to."""
    try:
        from . import stream
    except ImportError:
        return
    if stream.has_subscribers():
        stream.publish(stream.decode_summary(summary, step=step, wall_time=wall_time))


# ---- run metadata ------------------------------------------------------------------------------
def run_metadata_proto(run_metadata, graph=None):
    """`config_pb2.RunMetadata` of tginteractive's RunMetadata (a proto passes through).

    Per device and op: start, duration (`all_end_rel_micros` = `op_end_rel_micros`), output
    bytes as one allocator's `memory` record, and, where `graph` knows the op and all its
    outputs have fully defined static shapes, one `output` record per output (dtype, shape;
    the bytes on output 0)."""
    from tensorboard.compat.proto import config_pb2
    if isinstance(run_metadata, config_pb2.RunMetadata):
        return run_metadata
    step_stats = getattr(run_metadata, "step_stats", None)
    if step_stats is None or not hasattr(step_stats, "dev_stats"):
        raise TypeError(f"add_run_metadata() takes a tf.RunMetadata (filled by a traced "
                        f"sess.run), not a {type(run_metadata).__qualname__}.")
    out = config_pb2.RunMetadata()
    for dev in step_stats.dev_stats:
        dev_proto = out.step_stats.dev_stats.add(device=dev.device)
        for stats in dev.node_stats:
            dev_proto.node_stats.append(_node_stats(stats, dev.device, graph))
    return out


def _allocator(device):
    kind, _, index = device.rpartition("device:")[2].partition(":")
    return "cpu" if kind.upper() == "CPU" else f"{kind.upper()}_{index or 0}_bfc"


def _node_stats(stats, device, graph):
    from tensorboard.compat.proto import step_stats_pb2
    start, duration = int(stats.all_start_micros), int(stats.all_end_rel_micros)
    proto = step_stats_pb2.NodeExecStats(
        node_name=stats.node_name, all_start_micros=start, op_start_rel_micros=0,
        op_end_rel_micros=duration, all_end_rel_micros=duration,
        all_start_nanos=start * 1000, op_end_rel_nanos=duration * 1000,
        all_end_rel_nanos=duration * 1000,
        timeline_label=f"{stats.node_name} = {stats.op_type}()")
    size, allocator = int(stats.output_bytes or 0), _allocator(device)
    if size:
        proto.memory.add(allocator_name=allocator, total_bytes=size, peak_bytes=size)
    for slot, description in enumerate(_output_descriptions(graph, stats.node_name)):
        if slot == 0 and size:
            description.allocation_description.requested_bytes = size
            description.allocation_description.allocated_bytes = size
            description.allocation_description.allocator_name = allocator
        proto.output.add(slot=slot, tensor_description=description)
    return proto


def _output_descriptions(graph, name):
    """TensorDescriptions of op `name`'s outputs from static shapes; [] if any is unknown."""
    from tensorboard.compat.proto import tensor_description_pb2
    try:
        op = graph.get_operation_by_name(name) if graph is not None else None
    except KeyError:  # run metadata of another graph than the one this writer wrote
        op = None
    if op is None or not all(t.shape.is_fully_defined() for t in op.outputs):
        return []
    return [tensor_description_pb2.TensorDescription(
        dtype=_graph_def.dtype_enum(t.dtype) or 0, shape=_graph_def.shape_proto(t.shape))
        for t in op.outputs]


class FileWriterCache:
    """One FileWriter per logdir, made on first use with the default graph (TF1's cache)."""

    _writers = {}

    @staticmethod
    def get(logdir):
        writer = FileWriterCache._writers.get(logdir)
        if writer is None:
            writer = FileWriterCache._writers[logdir] = FileWriter(logdir,
                                                                  graph=get_default_graph())
        return writer

    @staticmethod
    def clear():
        """Close and forget every cached writer."""
        writers, FileWriterCache._writers = FileWriterCache._writers, {}
        for writer in writers.values():
            writer.close()
