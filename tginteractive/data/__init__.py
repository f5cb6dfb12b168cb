"""`tf.data`: input pipelines (Dataset, TextLineDataset, Iterator) — see data/dataset.py."""
from .dataset import Dataset, TextLineDataset  # noqa: F401
from .file_lists import labeled_image_dataset, read_image_list  # noqa: F401
from .iterator import Iterator, make_initializable_iterator, make_one_shot_iterator  # noqa: F401

__all__ = ["Dataset", "Iterator", "TextLineDataset", "labeled_image_dataset",
           "make_initializable_iterator", "make_one_shot_iterator", "read_image_list"]
