"""The file-list workflow on an on-disk dataset written here: PNG and JPEG images, a list
file of `path label` lines (relative and absolute paths, comments, blank lines), a tiny
classifier trained from it, and bad lists / bad images with and without skip_bad_records."""
import numpy as np
import pytest
from PIL import Image

import tginteractive as tf
from tginteractive.data.file_lists import BadRecordError, labeled_image_dataset, read_image_list


def _write_images(root, n=8):
    """Class 0 dark, class 1 bright; alternating PNG/JPEG; sizes differ (resizing needed)."""
    rng = np.random.RandomState(0)
    (root / "img").mkdir()
    lines = ["# path label", ""]
    for i in range(n):
        label = i % 2
        pixels = rng.randint(0, 60, size=(6 + i % 3, 5, 3)) + 180 * label
        name = f"img/{i}.{'png' if i % 4 < 2 else 'jpg'}"
        Image.fromarray(pixels.astype(np.uint8)).save(root / name)
        path = str(root / name) if i == 3 else name  # one absolute path
        lines.append(f"{path} {label}   # image {i}" if i == 5 else f"{path} {label}")
    return lines


@pytest.fixture
def image_list(tmp_path):
    lines = _write_images(tmp_path)
    list_file = tmp_path / "train.txt"
    list_file.write_text("\n".join(lines) + "\n")
    return list_file


def _collect(dataset, count):
    nxt = dataset.make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        return [sess.run(nxt) for _ in range(count)]


def test_list_is_parsed_with_relative_and_absolute_paths(image_list):
    records = read_image_list(image_list)
    assert [label for _, label in records] == [0, 1] * 4
    assert all(p.startswith(str(image_list.parent)) for p, _ in records)
    elements = _collect(labeled_image_dataset(image_list, shuffle=False), 8)
    image, label = elements[2]
    assert image.dtype == np.float32 and image.shape == (8, 5, 3) and label == 0
    assert label.dtype == np.int64 and 0 <= image.min() and image.max() <= 1


def test_shuffle_is_seeded_and_batches_are_resized(image_list):
    def labels(seed):
        ds = labeled_image_dataset(image_list, image_size=[4, 4], seed=seed, batch_size=8)
        images, batch_labels = _collect(ds, 1)[0]
        assert images.shape == (8, 4, 4, 3) and images.dtype == np.float32
        return batch_labels.tolist()
    assert labels(7) == labels(7)
    assert sorted(labels(7)) == [0] * 4 + [1] * 4


def test_tiny_classifier_trains_from_the_list(image_list):
    ds = labeled_image_dataset(image_list, image_size=[4, 4], seed=1, batch_size=4).repeat()
    images, labels = ds.make_one_shot_iterator().get_next()
    flat = tf.reshape(images, [-1, 4 * 4 * 3])
    w = tf.Variable(tf.zeros([48, 2]))
    b = tf.Variable(tf.zeros([2]))
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=labels, logits=tf.matmul(flat, w) + b))
    train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        losses = [sess.run([train, loss])[1] for _ in range(12)]
    assert losses[0] == pytest.approx(np.log(2), rel=1e-5)
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.parametrize("line, match", [
    ("img/0.png", r"train.txt, line 3: expected 'path label'"),
    ("img/0.png one", r"train.txt, line 3: label 'one' is not an integer"),
    ("img/missing.png 1", r"train.txt, line 3: image file '.*missing.png' not found"),
])
def test_bad_lines_fail_at_once_naming_the_line(tmp_path, line, match):
    _write_images(tmp_path, n=2)
    list_file = tmp_path / "train.txt"
    list_file.write_text(f"img/0.png 0\n\n{line}\nimg/1.png 1\n")
    with pytest.raises(BadRecordError, match=match):
        labeled_image_dataset(list_file)
    reported = []
    ds = labeled_image_dataset(list_file, shuffle=False, skip_bad_records=True,
                               on_bad_record=reported.append)
    assert len(reported) == 1 and "line 3" in reported[0]
    assert [int(label) for _, label in _collect(ds, 2)] == [0, 1]
    with pytest.warns(UserWarning, match="skipping bad record.*line 3"):
        labeled_image_dataset(list_file, skip_bad_records=True)


def _list_with_bad_image(tmp_path):
    _write_images(tmp_path, n=2)
    (tmp_path / "img" / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    list_file = tmp_path / "train.txt"
    list_file.write_text("img/0.png 0\nimg/broken.jpg 1\nimg/1.png 1\n")
    return list_file


def test_undecodable_image_fails_at_run_time_naming_the_file(tmp_path):
    ds = labeled_image_dataset(_list_with_bad_image(tmp_path), image_size=[3, 3],
                               shuffle=False)
    nxt = ds.make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        sess.run(nxt)
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"broken\.jpg"):
            sess.run(nxt)


def test_undecodable_image_is_skipped_with_skip_bad_records(tmp_path):
    reported = []
    ds = labeled_image_dataset(_list_with_bad_image(tmp_path), image_size=[3, 3],
                               shuffle=False, skip_bad_records=True,
                               on_bad_record=reported.append)
    assert len(reported) == 1 and "broken.jpg" in reported[0] and "line 2" in reported[0]
    nxt = ds.make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        assert [int(sess.run(nxt)[1]) for _ in range(2)] == [0, 1]
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(nxt)


def test_empty_list_is_an_error(tmp_path):
    list_file = tmp_path / "empty.txt"
    list_file.write_text("# nothing here\n\n")
    with pytest.raises(BadRecordError, match="no usable"):
        labeled_image_dataset(list_file)
