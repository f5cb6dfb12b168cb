"""`%tg_board`'s view: events files written by tginteractive's FileWriter, read back by
TensorBoard's reader, compared with NumPy, with hand-computed smoothing and with what real
TensorBoard servers (its default data server and its Python loader) serve over HTTP."""
import base64
import io
import json
import math
import os
import re
import struct
import sys
import time
import urllib.parse
import urllib.request

import numpy as np
import pytest

import tginteractive as tf

pytest.importorskip("tensorboard", reason="needs the tensorboard package (test extra)")
pytest.importorskip("matplotlib", reason="needs matplotlib (notebook extra)")
from PIL import Image  # noqa: E402
from tensorboard.compat.proto import event_pb2  # noqa: E402

from tginteractive.notebook.widgets.board import Board, Kept, rebin, show_board  # noqa: E402
from tginteractive.summary import writer as writer_module  # noqa: E402

from ..tensorboard_helpers import tensorboard_server  # noqa: E402

START = event_pb2.SessionLog(status=event_pb2.SessionLog.START)
STEPS, SIZE = 20, 64


def feeds(seed, n=STEPS, size=SIZE):
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=size) * (1 + step / 10)).astype(np.float32) for step in range(n)]


def loss_of(values):
    return float(np.mean(values * values, dtype=np.float32))


def write(logdir, values, first=0, start=None, tags=("loss", "weights")):
    """One new FileWriter on `logdir` writing values[i] at step first + i: `loss` (the mean
    square) and `weights` (a histogram) summaries; `start`: a SessionLog.START step first."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None], name="x")
        if "loss" in tags:
            tf.summary.scalar("loss", tf.reduce_mean(x * x))
        if "weights" in tags:
            tf.summary.histogram("weights", x)
        if "acc" in tags:
            tf.summary.scalar("acc", tf.reduce_max(x))
        merged = tf.summary.merge_all()
    with tf.Session(graph=graph) as sess:
        writer = tf.summary.FileWriter(str(logdir))
        if start is not None:
            writer.add_session_log(START, start)
        for step, v in enumerate(values, first):
            writer.add_summary(sess.run(merged, {x: v}), step)
        writer.close()


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    """logs/run1, logs/run2: 20 steps each; returns (logdir, {run: fed values})."""
    logdir = tmp_path_factory.mktemp("board") / "logs"
    fed = {"run1": feeds(1), "run2": feeds(2)}
    for run, values in fed.items():
        write(logdir / run, values)
    return str(logdir), fed


def png_size(png):
    image = Image.open(io.BytesIO(png))
    image.load()
    return image.size


def events_files(path):
    return sorted(os.path.join(path, f) for f in os.listdir(path) if "tfevents" in f)


# ---- data ---------------------------------------------------------------------------------------
def test_scalars_are_the_values_written(logs):
    logdir, fed = logs
    board = Board(logdir)
    assert board.runs == ["run1", "run2"] and list(board.scalars) == ["loss"]
    for run, values in fed.items():
        series = board.scalars["loss"][run]
        np.testing.assert_array_equal(series.steps, np.arange(STEPS))
        np.testing.assert_allclose(series.values, [loss_of(v) for v in values], rtol=1e-6)


def test_histograms_hold_the_values_written(logs):
    logdir, fed = logs
    board = Board(logdir)
    for run, values in fed.items():
        series = board.histograms["weights"][run]
        np.testing.assert_array_equal(series.steps, np.arange(STEPS))
        for v, buckets in zip(values, series.buckets):
            left, right, count = buckets.T
            assert count.sum() == SIZE
            assert (left[0], right[-1]) == (float(v.min()), float(v.max()))
            edges = np.append(left, right[-1])
            np.testing.assert_array_equal(np.histogram(v, bins=edges)[0], count)


def test_text_plain_is_exact(logs):
    logdir, fed = logs
    last = {run: values[-1] for run, values in fed.items()}
    expected = "\n".join(
        [f"Board {logdir!r}: 2 runs (run1, run2)", "  scalar loss"]
        + [f"    {run}: 20 points, last {loss_of(v):.4g} at step 19" for run, v in last.items()]
        + ["  histogram weights"]
        + [f"    {run}: 20 steps, last at step 19: 64 values in [{v.min():.4g}, {v.max():.4g}]"
           for run, v in last.items()])
    board = show_board(logdir)
    assert repr(board) == expected
    assert board._repr_mimebundle_()["text/plain"] == expected


def test_png_is_one_figure_of_panels_of_240_by_200_pixels(logs):
    logdir, _ = logs
    board = Board(logdir)
    bundle = board._repr_mimebundle_()
    png = base64.b64decode(bundle["image/png"])
    assert png == board.png and png_size(png) == (720, 400)  # loss; weights of run1, run2
    assert png_size(Board(logdir, tags="loss").png) == (720, 200)
    assert png_size(Board(logdir, histograms="distribution").png) == (720, 400)
    assert png_size(Board(logdir, smoothing=0).png) == (720, 400)


def test_smoothing_is_tensorboards_debiased_ema(logs):
    logdir, fed = logs
    board = Board(logdir, smoothing=0.8)
    last, expected = 0.0, []
    for i, value in enumerate(loss_of(v) for v in fed["run2"]):
        last = 0.8 * last + 0.2 * value
        expected.append(last / (1 - 0.8 ** (i + 1)))
    np.testing.assert_allclose(board.smoothed("loss", "run2"), expected, rtol=1e-12)
    np.testing.assert_allclose(Board(logdir, smoothing=0).smoothed("loss", "run2"),
                               board.scalars["loss"]["run2"].values)
    with pytest.raises(ValueError, match="smoothing"):
        Board(logdir, smoothing=1.0)


def test_tags_filter_by_regular_expression_or_names(logs):
    logdir, _ = logs
    assert list(Board(logdir, tags="^lo").scalars) == ["loss"]
    assert Board(logdir, tags="^lo").histograms == {}
    only = Board(logdir, tags=["weights"])
    assert (list(only.scalars), list(only.histograms)) == ([], ["weights"])
    for tags in ("nothing", "loss("):  # an invalid expression is matched literally
        board = Board(logdir, tags=tags)
        assert repr(board).splitlines()[1:] == [
            f"  no tags match {tags!r}; tags: loss, weights"]
        assert board.png == b"" and "image/png" not in board._repr_mimebundle_()


# ---- what TensorBoard keeps ---------------------------------------------------------------------
def test_a_restart_replaces_its_steps(tmp_path):
    """Steps 0..9 by writer A, then a new writer with SessionLog.START at 5 and steps 5..9:
    A's 0..4 and B's 5..9, nothing else (as TensorBoard shows it)."""
    a, b = feeds(3, 10), feeds(4, 10)
    write(tmp_path / "run", a)
    write(tmp_path / "run", b[5:], first=5, start=5)
    board = Board(tmp_path)
    expected = a[:5] + b[5:]
    scalars, histograms = board.scalars["loss"]["run"], board.histograms["weights"]["run"]
    np.testing.assert_array_equal(scalars.steps, np.arange(10))
    np.testing.assert_allclose(scalars.values, [loss_of(v) for v in expected], rtol=1e-6)
    np.testing.assert_array_equal(histograms.steps, np.arange(10))
    assert [(h[0, 0], h[-1, 1]) for h in histograms.buckets] == [
        (float(v.min()), float(v.max())) for v in expected]


def test_under_the_notebook_policy_a_rerun_cell_replaces_its_steps(tmp_path, monkeypatch):
    monkeypatch.setattr(writer_module, "one_writer_per_logdir", [True])
    first, rerun = feeds(5, 10), feeds(6, 4)
    write(tmp_path / "run", first)
    write(tmp_path / "run", rerun)  # the re-run cell starts again at step 0
    series = Board(tmp_path).scalars["loss"]["run"]
    np.testing.assert_array_equal(series.steps, np.arange(4))
    np.testing.assert_allclose(series.values, [loss_of(v) for v in rerun], rtol=1e-6)


def test_kept_points_follow_tensorboards_reservoir():
    kept = Kept(math.inf)
    for step in [0, 1, 2, 3, 1, 2, 2]:  # a point at step s replaces those at steps >= s
        kept.offer(step, f"v{step}")
    assert kept.steps == [0, 1, 2] and kept.values == ["v0", "v1", "v2"]
    sampled = Kept(5)
    for step in range(100):
        sampled.offer(step, step)
    assert len(sampled.steps) == 5 and sampled.steps[-1] == 99 and sampled.seen == 100
    assert sampled.steps == sorted(sampled.steps)
    before = [s for s in sampled.steps if s < 50]
    sampled.offer(50, 50)  # a restart: the estimate of points seen shrinks in proportion
    assert sampled.steps[-1] == 50 and set(sampled.steps[:-1]) <= set(before)
    assert sampled.seen == 100 * len(before) // 5 + 1


def test_rebin_spreads_counts_in_proportion_to_overlap():
    edges = np.array([0.0, 1.0, 2.0, 3.0])
    np.testing.assert_allclose(rebin(np.array([[0, 1, 2], [1, 3, 4]]), edges), [2, 2, 2])
    np.testing.assert_allclose(rebin(np.array([[2, 2, 5]]), edges), [0, 0, 5])
    np.testing.assert_allclose(rebin(np.zeros((0, 3)), edges), [0, 0, 0])
    rng = np.random.default_rng(0)
    limits = np.sort(rng.uniform(0, 3, 12))
    buckets = np.stack([limits[:-1], limits[1:], rng.integers(0, 9, 11)], axis=1)
    assert rebin(buckets, np.linspace(limits[0], limits[-1], 31)).sum() == pytest.approx(
        buckets[:, 2].sum())


# ---- real TensorBoard servers -------------------------------------------------------------------
def served(base, plugin, run, tag):
    """[(step, value or buckets)] of one time series from TensorBoard's HTTP API."""
    route = "scalars/scalars" if plugin == "scalars" else "histograms/histograms"
    query = urllib.parse.urlencode({"run": run, "tag": tag})
    try:
        with urllib.request.urlopen(f"{base}/data/plugin/{route}?{query}", timeout=5) as r:
            return [(step, data) for _, step, data in json.loads(r.read())]
    except (OSError, ValueError) as e:  # not up, or not loaded yet
        return repr(e)


def nonempty(buckets):
    buckets = np.asarray(buckets, np.float64).reshape(-1, 3)
    return buckets[buckets[:, 2] > 0]


def same_series(board, plugin, tag, run, answer):
    """Whether TensorBoard's `answer` is the board's series: scalars exactly; histograms
    with the same counts and inner bucket edges (the data server keeps TF's raw edges and
    empty buckets where the Python loader clamps to min/max and drops empty edge buckets)."""
    mine = getattr(board, plugin)[tag][run]
    if not isinstance(answer, list) or [s for s, _ in answer] != mine.steps.tolist():
        return False
    if plugin == "scalars":
        return np.allclose([v for _, v in answer], mine.values, rtol=1e-7, atol=0)
    for (_, theirs), ours in zip(answer, mine.buckets):
        theirs, ours = nonempty(theirs), nonempty(ours)
        if theirs.shape != ours.shape or not np.array_equal(theirs[:, 2], ours[:, 2]) or \
                not np.allclose(theirs[:-1, 1], ours[:-1, 1], rtol=1e-6):
            return False
    return True


def eventually(fetch, check, timeout=60):
    """The first answer of `fetch()` that passes `check`, else the last one."""
    deadline = time.monotonic() + timeout
    while True:
        answer = fetch()
        if check(answer) or time.monotonic() > deadline:
            return answer
        time.sleep(0.5)


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory):
    """Runs where restarts happen: 'restart' (the case above), 'policy' (re-run cells under
    the notebook writer policy), 'retag' (a re-run cell logging another tag, under the
    policy) and 'backwards' (one writer whose steps go back)."""
    root = tmp_path_factory.mktemp("scenarios")
    logdir = root / "logs"
    write(logdir / "restart", feeds(7, 10))
    write(logdir / "restart", feeds(8, 5), first=5, start=5)
    write(logdir / "backwards", feeds(9, 4) + feeds(10, 2), tags=("loss",))
    write(logdir / "backwards", feeds(11, 2), first=1, tags=("loss",))
    writer_module.one_writer_per_logdir[0], policy = True, writer_module.one_writer_per_logdir[0]
    try:
        write(logdir / "policy", feeds(12, 10))
        write(logdir / "policy", feeds(13, 5), first=5)
        write(logdir / "retag", feeds(14, 10))
        write(logdir / "retag", feeds(15, 5), first=5, tags=("acc",))
    finally:
        writer_module.one_writer_per_logdir[0] = policy
    return root, Board(logdir)


def series_of(board):
    return [(plugin, tag, run) for plugin in ("scalars", "histograms")
            for tag, by_run in getattr(board, plugin).items() for run in by_run]


def test_the_board_shows_what_default_tensorboard_serves(scenarios):
    """`tensorboard --logdir` with its data server (`--load_fast=auto` picks it when
    installed, as pip installs it) serves every series exactly as the board holds it."""
    pytest.importorskip("tensorboard_data_server", reason="needs tensorboard-data-server")
    root, board = scenarios
    assert board.scalars["loss"]["restart"].steps.tolist() == list(range(10))
    assert board.scalars["loss"]["retag"].steps.tolist() == list(range(10))
    assert board.scalars["acc"]["retag"].steps.tolist() == [5, 6, 7, 8, 9]
    assert board.scalars["loss"]["backwards"].steps.tolist() == [0, 1, 2]
    with tensorboard_server(root / "logs", root, "true") as (base, _):
        for plugin, tag, run in series_of(board):
            answer = eventually(lambda: served(base, plugin, run, tag),
                                lambda a: same_series(board, plugin, tag, run, a))
            assert same_series(board, plugin, tag, run, answer), (plugin, tag, run, answer)


def test_tensorboards_python_loader_agrees_under_the_notebook_policy(scenarios):
    """`--load_fast=false` purges at a SessionLog.START but not at a run's first one: with
    every writer starting with one (the notebook policy) it shows what the board shows;
    'restart' (whose first writer wrote none) it shows with steps 5..9 twice."""
    root, board = scenarios
    with tensorboard_server(root / "logs", root, "false") as (base, _):
        for plugin, tag in (("scalars", "loss"), ("histograms", "weights")):
            answer = eventually(lambda: served(base, plugin, "policy", tag),
                                lambda a: same_series(board, plugin, tag, "policy", a))
            assert same_series(board, plugin, tag, "policy", answer), (plugin, answer)
        answer = eventually(lambda: served(base, "scalars", "restart", "loss"),
                            lambda a: isinstance(a, list) and len(a) == 15)
        assert [s for s, _ in answer] == list(range(10)) + list(range(5, 10))


# ---- edges: empty, missing, damaged -------------------------------------------------------------
def test_an_empty_logdir_says_so_and_draws_nothing(tmp_path):
    board = show_board(tmp_path)
    expected = (f"Board {str(tmp_path)!r}: no runs: no events files under {str(tmp_path)!r}. "
                f"Write some with tf.summary.FileWriter({str(tmp_path / 'run1')!r}).")
    assert repr(board) == expected
    assert board._repr_mimebundle_() == {"text/plain": expected}


def test_a_missing_logdir_is_a_value_error_naming_it(tmp_path):
    with pytest.raises(ValueError, match=r"Log directory '.*nowhere' does not exist\. Pass"):
        show_board(tmp_path / "nowhere")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match=r"Log directory '.*file' is not a directory"):
        show_board(str(tmp_path / "file"))


def test_a_home_relative_logdir_that_is_a_file_is_not_a_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match=r"Log directory '~/file' is not a directory"):
        show_board("~/file")


def copy_run(source, target):
    target.mkdir(parents=True)
    for path in events_files(source):
        (target / os.path.basename(path)).write_bytes(open(path, "rb").read())
    return events_files(target)[0]


def test_a_truncated_file_warns_and_shows_what_was_read(logs, tmp_path):
    logdir, fed = logs
    path = copy_run(os.path.join(logdir, "run1"), tmp_path / "run1")
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) - 7)  # the last record (step 19) cut short
    with pytest.warns(RuntimeWarning, match=r"is unreadable from byte \d+ of \d+ \(truncated"):
        board = Board(tmp_path)
    np.testing.assert_array_equal(board.scalars["loss"]["run1"].steps, np.arange(19))
    assert repr(board).splitlines()[-1] == ("  warning: run1: an events file stops after 20 "
                                            "events (truncated or corrupt); showing what was read")
    assert png_size(board.png) == (720, 400)


def record_offsets(path):
    """Where each record of an events file starts (length, length CRC, data, data CRC)."""
    data, offsets, at = open(path, "rb").read(), [], 0
    while at < len(data):
        offsets.append(at)
        at += 16 + struct.unpack("<Q", data[at:at + 8])[0]
    return offsets


def test_a_corrupt_record_warns_and_shows_the_records_before_it(logs, tmp_path):
    logdir, _ = logs
    path = copy_run(os.path.join(logdir, "run2"), tmp_path / "run2")
    at = record_offsets(path)[11] + 20  # in the data of record 11: step 10's summary
    data = bytearray(open(path, "rb").read())
    data[at] ^= 0xFF
    open(path, "wb").write(bytes(data))
    (tmp_path / "run2" / "events.out.tfevents.0.garbage").write_bytes(b"not an events file")
    with pytest.warns(RuntimeWarning, match="unreadable from byte") as caught:
        board = Board(tmp_path)
    assert len(caught) == 2
    np.testing.assert_array_equal(board.histograms["weights"]["run2"].steps, np.arange(10))
    assert repr(board).splitlines()[-2:] == [
        f"  warning: run2: an events file stops after {n} events (truncated or corrupt); "
        "showing what was read" for n in (0, 11)]


def test_rendering_never_raises(logs):
    board = Board(logs[0])
    board.mode = "no such mode"  # the figure cannot be drawn
    with pytest.warns(RuntimeWarning, match="Board could not draw"):
        bundle = board._repr_mimebundle_()
    assert set(bundle) == {"text/plain"} and bundle["text/plain"].startswith("Board ")


def test_missing_matplotlib_fails_on_first_use_with_the_install_hint(logs, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    with pytest.raises(ImportError, match=re.escape('pip install "tginteractive[notebook]"')):
        show_board(logs[0])


def test_reading_is_quiet(logs, capfd):
    Board(logs[0]).png
    assert capfd.readouterr() == ("", "")


# ---- the widget ---------------------------------------------------------------------------------
def test_the_widget_filters_tags_and_refreshes(logs, tmp_path):
    pytest.importorskip("ipywidgets")
    logdir = tmp_path / "logs"
    write(logdir / "run1", logs[1]["run1"][:5])
    view = show_board(logdir, interactive=True)
    assert view.filter.options == (("all tags", ""), ("loss", "loss"), ("weights", "weights"))
    shown = view.output.outputs[0]["data"]
    assert png_size(base64.b64decode(shown["image/png"])) == (720, 400)
    view.filter.value = "weights"
    shown = view.output.outputs[0]["data"]
    assert shown["text/plain"] == repr(view) and "scalar" not in repr(view)
    assert png_size(base64.b64decode(shown["image/png"])) == (720, 200)
    write(logdir / "run2", logs[1]["run2"][:3])
    view.button.click()
    assert view.filter.value == "weights" and "run2: 3 steps" in repr(view)
    bundle = view._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == repr(view) and "image/png" in bundle
