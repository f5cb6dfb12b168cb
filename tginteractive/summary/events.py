"""Reading events files: `summary_iterator(path)` (TF1's `tf.train.summary_iterator`).

Records are read by tensorboard's own loader (its TFRecord reader, CRC-checked), so what a
FileWriter wrote and what TensorBoard reads agree. As in TF, a bad record stops the
iteration with a DataLossError, after every good event before it has been yielded; that is
also what a file cut short by a crash looks like (everything flushed before is readable).
"""
import os

from ..framework import errors

_RECORD_OVERHEAD = 16  # length (8) + length CRC (4) + data CRC (4) around each record


def summary_iterator(path):
    """Yield every `event_pb2.Event` of the events file at `path`, in file order.

        for event in tf.train.summary_iterator(path):
            for value in event.summary.value:
                print(event.step, value.tag, value.simple_value)
    """
    from tensorboard.backend.event_processing import event_file_loader
    from tensorboard.compat.proto import event_pb2
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise errors.NotFoundError(None, None, f"{path}: no such events file (pass the path "
                                               "of an events.out.tfevents.* file, not a dir)")
    loader = event_file_loader.RawEventFileLoader(path)
    consumed, count = 0, 0
    while True:  # Load() stops at the end of what is there (or at a bad record); go on
        before = consumed  # while a live writer appends whole records
        for record in loader.Load():
            consumed += len(record) + _RECORD_OVERHEAD
            count += 1
            yield event_pb2.Event.FromString(record)
        size = os.path.getsize(path)
        if consumed >= size:
            return
        if consumed == before:
            raise errors.DataLossError(
                None, None, f"{path}: truncated or corrupted record at byte {consumed} of "
                            f"{size}; the {count} events before it were read.")
