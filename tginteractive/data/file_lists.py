"""The file-list workflow: a text file of `path label` lines → a dataset of (image, label).

    ds = labeled_image_dataset("train/list.txt", image_size=[32, 32], batch_size=16, seed=1)
    images, labels = ds.make_one_shot_iterator().get_next()

Paths are resolved relative to the list file (absolute paths are kept); blank lines and
`#` comments are skipped. The list is checked when the helper is called: a malformed line or
a missing image fails at once naming the list file and line number. Decoding happens at run
time, with the image's path passed to the decoder, so an undecodable image fails naming its
file. With `skip_bad_records=True` the bad lines, missing files and (checked eagerly, as the
graph cannot drop an element whose decode failed) undecodable images are reported through
`on_bad_record(message)` (default: `warnings.warn`) and left out instead.
"""
import os
import warnings

import numpy as np

from ..framework import dtypes

__all__ = ["labeled_image_dataset", "read_image_list", "BadRecordError"]


class BadRecordError(ValueError):
    """A malformed line, missing file or undecodable image in an image list."""


def _parse_line(line, number, list_file):
    parts = line.split()
    if len(parts) != 2:
        raise BadRecordError(f"{list_file}, line {number}: expected 'path label', got "
                             f"{line.strip()!r}.")
    try:
        label = int(parts[1])
    except ValueError:
        raise BadRecordError(f"{list_file}, line {number}: label {parts[1]!r} is not an "
                             f"integer.") from None
    return parts[0], label


def _check_image(path):
    from PIL import Image
    try:
        with Image.open(path) as image:
            image.load()
    except Exception as e:  # Pillow raises many types for corrupt data
        return f"cannot decode image file '{path}' ({type(e).__name__}: {e})"
    return None


def read_image_list(list_file, skip_bad_records=False, on_bad_record=None,
                    check_images=False):
    """[(absolute path, label)] from `list_file`; bad records raise BadRecordError (or are
    reported through `on_bad_record` and dropped when `skip_bad_records`)."""
    list_file = os.fspath(list_file)
    report = on_bad_record or (lambda message: warnings.warn(message, stacklevel=3))
    base = os.path.dirname(os.path.abspath(list_file))
    with open(list_file, encoding="utf-8") as f:
        lines = f.read().splitlines()
    records = []
    for number, line in enumerate(lines, start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            records.append(_check_record(text, number, list_file, base, check_images))
        except BadRecordError as e:
            if not skip_bad_records:
                raise
            report(f"skipping bad record: {e}")
    return records


def _check_record(text, number, list_file, base, check_images):
    path, label = _parse_line(text, number, list_file)
    path = os.path.normpath(os.path.join(base, os.path.expanduser(path)))
    if not os.path.isfile(path):
        raise BadRecordError(f"{list_file}, line {number}: image file '{path}' not found.")
    problem = _check_image(path) if check_images else None
    if problem:
        raise BadRecordError(f"{list_file}, line {number}: {problem}.")
    return path, label


def _decode_fn(image_size, channels):
    from ..ops.image_ops import convert_image_dtype, decode_image, resize_images
    from ..ops.io_ops import read_file

    def decode(path, label):
        image = decode_image(read_file(path), channels=channels, expand_animations=False,
                             filename=path)
        image = convert_image_dtype(image, dtypes.float32)
        if image_size is not None:
            image = resize_images(image, list(image_size))
        return image, label
    return decode


def labeled_image_dataset(list_file, image_size=None, channels=3, shuffle=True, seed=None,
                          batch_size=None, skip_bad_records=False, on_bad_record=None):
    """A dataset of (float32 image in [0, 1], int64 label) from a `path label` list file.

    `image_size` ([height, width]) resizes bilinearly (needed to batch images of different
    sizes); `shuffle` shuffles the whole list (seeded by `seed`); `batch_size` batches."""
    from .dataset import Dataset
    records = read_image_list(list_file, skip_bad_records, on_bad_record,
                              check_images=skip_bad_records)
    if not records:
        raise BadRecordError(f"{os.fspath(list_file)}: no usable 'path label' lines.")
    paths = np.asarray([p for p, _ in records], dtype=object)
    labels = np.asarray([label for _, label in records], dtype=np.int64)
    dataset = Dataset.from_tensor_slices((paths, labels))
    if shuffle:
        dataset = dataset.shuffle(len(records), seed=seed)
    dataset = dataset.map(_decode_fn(image_size, channels))
    return dataset.batch(batch_size) if batch_size else dataset
