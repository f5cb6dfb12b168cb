"""tf.data: every source and transformation against plain Python, iterators, sessions,
prefetch threads, py_func, and a tiny model trained from get_next."""
import gc
import threading
import time

import numpy as np
import pytest

import tginteractive as tf

EXEMPT = {
    "MakeIterator": "tests/data/test_dataset.py",
    "IteratorGetNext": "tests/data/test_dataset.py",
    "PyFunc": "tests/data/test_dataset.py",
}


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def drain(ds, sess=None, feed=None):
    it = ds.make_initializable_iterator()
    nxt = it.get_next()
    out = []
    with tf.Session() as s:
        s.run(it.initializer, feed)
        while True:
            try:
                out.append(s.run(nxt))
            except tf.errors.OutOfRangeError:
                return out


def ints(values):
    return [int(v) for v in values]


# ---- sources ----------------------------------------------------------------------------------
def test_from_tensor_slices_arrays_tuples_dicts():
    a, b = np.arange(4), np.arange(4) * 10.0
    assert ints(drain(tf.data.Dataset.from_tensor_slices(a))) == [0, 1, 2, 3]
    out = drain(tf.data.Dataset.from_tensor_slices((a, b)))
    assert [(int(x), float(y)) for x, y in out] == [(i, i * 10.0) for i in range(4)]
    ds = tf.data.Dataset.from_tensor_slices({"a": a, "b": np.ones((4, 2), np.float32)})
    assert ds.output_types == {"a": tf.int64, "b": tf.float32}
    assert ds.output_shapes["b"].as_list() == [2]
    out = drain(ds)
    assert [int(e["a"]) for e in out] == [0, 1, 2, 3] and out[0]["b"].shape == (2,)
    lists = tf.data.Dataset.from_tensor_slices((["a", "bb"], [[1, 2], [3, 4]]))  # lists: tensors
    assert lists.output_types == (tf.string, tf.int32)
    assert lists.output_shapes[1].as_list() == [2]
    assert [(p, list(v)) for p, v in drain(lists)] == [(b"a", [1, 2]), (b"bb", [3, 4])]


def test_from_tensors_range_zip_and_static_structure():
    ds = tf.data.Dataset.from_tensors(np.arange(3))
    assert ds.output_shapes.as_list() == [3]
    assert [list(x) for x in drain(ds)] == [[0, 1, 2]]
    assert ints(drain(tf.data.Dataset.range(5))) == list(range(5))
    assert ints(drain(tf.data.Dataset.range(2, 10, 3))) == list(range(2, 10, 3))
    z = tf.data.Dataset.zip((tf.data.Dataset.range(3), tf.data.Dataset.range(10, 20)))
    assert z.output_types == (tf.int64, tf.int64)
    assert [(int(x), int(y)) for x, y in drain(z)] == [(0, 10), (1, 11), (2, 12)]
    assert tf.data.Dataset.range(3).output_classes is tf.Tensor


def test_from_generator_with_args_and_shapes():
    def gen(n):
        for i in range(int(n)):
            yield i, [float(i)] * i
    ds = tf.data.Dataset.from_generator(gen, (tf.int32, tf.float32), ([], [None]), args=(3,))
    assert ds.output_shapes[1].as_list() == [None]
    out = drain(ds)
    assert [int(x) for x, _ in out] == [0, 1, 2] and [len(y) for _, y in out] == [0, 1, 2]
    assert out[0][0].dtype == np.int32


def test_text_line_dataset_and_list_files(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"one\ntwo\r\nthree")
    (tmp_path / "b.txt").write_bytes(b"four\n")
    lines = drain(tf.data.TextLineDataset([str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]))
    assert lines == [b"one", b"two", b"three", b"four"]
    names = tf.placeholder(tf.string, [None])
    lines = drain(tf.data.TextLineDataset(names), feed={names: [str(tmp_path / "b.txt")]})
    assert lines == [b"four"]
    files = drain(tf.data.Dataset.list_files(str(tmp_path / "*.txt"), shuffle=False))
    assert files == [str(tmp_path / n).encode() for n in ("a.txt", "b.txt")]
    shuffled = drain(tf.data.Dataset.list_files(str(tmp_path / "*.txt"), seed=3))
    assert sorted(shuffled) == files
    assert drain(tf.data.Dataset.list_files(str(tmp_path / "*.txt"), seed=3)) == shuffled
    with pytest.raises(tf.errors.InvalidArgumentError, match="No files matched"):
        drain(tf.data.Dataset.list_files(str(tmp_path / "*.none")))


# ---- transformations --------------------------------------------------------------------------
def test_map_with_graph_functions_structures_and_captures():
    scale = tf.placeholder(tf.float32, [])
    ds = tf.data.Dataset.from_tensor_slices((np.arange(4, dtype=np.float32), np.arange(4)))
    ds = ds.map(lambda x, y: {"sq": x * x * scale, "y": tf.cast(y, tf.float32) + 1.0})
    assert ds.output_types == {"sq": tf.float32, "y": tf.float32}
    out = drain(ds, feed={scale: 2.0})
    assert [float(e["sq"]) for e in out] == [0.0, 2.0, 8.0, 18.0]
    assert [float(e["y"]) for e in out] == [1.0, 2.0, 3.0, 4.0]
    single = tf.data.Dataset.range(3).map(lambda x: x * 2, num_parallel_calls=4)
    assert ints(drain(single)) == [0, 2, 4]
    ident = tf.data.Dataset.range(3).map(lambda x: (x, x))
    assert [tuple(ints(e)) for e in drain(ident)] == [(0, 0), (1, 1), (2, 2)]


def test_map_reads_variables_and_py_func():
    v = tf.Variable(10, dtype=tf.int64, name="v")
    ds = tf.data.Dataset.range(3).map(lambda x: x + v)
    ds = ds.map(lambda x: tf.py_func(lambda a: a * 3, [x], tf.int64))
    it = ds.make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(it.initializer)
        assert [int(sess.run(nxt)) for _ in range(3)] == [30, 33, 36]


def test_py_func_standalone():
    x = tf.placeholder(tf.float32, [3])
    y = tf.py_func(lambda a: a * 2, [x], tf.float32)
    a, b = tf.py_func(lambda a: (a + 1, np.sum(a)), [x], [tf.float32, tf.float64])
    assert y.shape.ndims is None and b.dtype is tf.float64
    with tf.Session() as sess:
        got = sess.run([y, a, b], {x: [1, 2, 3]})
    assert list(got[0]) == [2, 4, 6] and list(got[1]) == [2, 3, 4] and float(got[2]) == 6.0
    assert tf.gradients(tf.reduce_sum(y), x) == [None]


def test_filter_take_skip_repeat_cache():
    ds = tf.data.Dataset.range(10).filter(lambda x: tf.equal(x % 3, 0))
    assert ints(drain(ds)) == [0, 3, 6, 9]
    assert ints(drain(tf.data.Dataset.range(10).skip(7))) == [7, 8, 9]
    assert ints(drain(tf.data.Dataset.range(10).take(2))) == [0, 1]
    assert ints(drain(tf.data.Dataset.range(3).repeat(2))) == [0, 1, 2, 0, 1, 2]
    assert ints(drain(tf.data.Dataset.range(3).repeat().take(7))) == [0, 1, 2, 0, 1, 2, 0]
    calls = []
    counted = tf.data.Dataset.range(3).map(
        lambda x: tf.py_func(lambda a: calls.append(1) or a, [x], tf.int64))
    assert ints(drain(counted.cache().repeat(3))) == [0, 1, 2] * 3
    assert len(calls) == 3


def test_batch_and_padded_batch():
    out = drain(tf.data.Dataset.range(7).batch(3))
    assert [list(b) for b in out] == [[0, 1, 2], [3, 4, 5], [6]]
    ds = tf.data.Dataset.range(7).batch(3, drop_remainder=True)
    assert ds.output_shapes.as_list() == [3] and len(drain(ds)) == 2
    assert tf.data.Dataset.range(7).batch(3).output_shapes.as_list() == [None]
    seqs = tf.data.Dataset.range(1, 5).map(lambda n: tf.fill(tf.reshape(tf.cast(n, tf.int32), [1]), n))
    out = drain(seqs.padded_batch(2, padded_shapes=[None]))
    assert [b.tolist() for b in out] == [[[1, 0], [2, 2]], [[3, 3, 3, 0], [4, 4, 4, 4]]]
    pairs = seqs.map(lambda s: (s, tf.size(s)))
    out = drain(pairs.padded_batch(3, padded_shapes=([5], []), padding_values=(
        tf.constant(-1, tf.int64), tf.constant(0, tf.int32))))
    assert out[0][0].tolist()[0] == [1, -1, -1, -1, -1] and out[0][1].tolist() == [1, 2, 3]


def test_shuffle_is_a_permutation_and_deterministic_with_a_seed():
    def order(seed, graph_seed=None, epochs=1):
        tf.reset_default_graph()
        if graph_seed is not None:
            tf.set_random_seed(graph_seed)
        return ints(drain(tf.data.Dataset.range(20).shuffle(5, seed=seed).repeat(epochs)))
    first = order(7)
    assert sorted(first) == list(range(20)) and first != list(range(20))
    assert order(7) == first and order(8) != first
    assert order(None, graph_seed=1) == order(None, graph_seed=1)
    two = order(7, epochs=2)
    assert two[:20] == first and sorted(two[20:]) == list(range(20)) and two[20:] != first
    it = tf.data.Dataset.range(20).shuffle(5, seed=1, reshuffle_each_iteration=False)
    same = ints(drain(it.repeat(2)))
    assert same[:20] == same[20:]
    for position, k in enumerate(same[:20]):  # a buffer of 5 holds elements up to 4 ahead
        assert k <= position + 4


# ---- iterators ---------------------------------------------------------------------------------
def test_out_of_range_at_the_end_and_after_repeat():
    nxt = tf.data.Dataset.range(2).repeat(2).make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        assert [int(sess.run(nxt)) for _ in range(4)] == [0, 1, 0, 1]
        with pytest.raises(tf.errors.OutOfRangeError, match="End of sequence"):
            sess.run(nxt)
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(nxt)


def test_initializable_iterator_is_refed_and_uninitialized_fails():
    x = tf.placeholder(tf.int64, [None])
    it = tf.data.Dataset.from_tensor_slices(x).map(lambda v: v * 2).make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError):
            sess.run(nxt)
        sess.run(it.initializer, {x: [1, 2, 3]})
        assert int(sess.run(nxt)) == 2
        sess.run(it.initializer, {x: [10]})
        assert int(sess.run(nxt)) == 20
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(nxt)


def test_from_structure_with_two_initializers_and_module_spellings():
    train = tf.data.Dataset.range(3)
    valid = tf.data.Dataset.range(100, 102)
    it = tf.data.Iterator.from_structure(train.output_types, train.output_shapes)
    nxt = it.get_next()
    init_train, init_valid = it.make_initializer(train), it.make_initializer(valid)
    with tf.Session() as sess:
        sess.run(init_train)
        assert [int(sess.run(nxt)) for _ in range(2)] == [0, 1]
        sess.run(init_valid)
        assert [int(sess.run(nxt)) for _ in range(2)] == [100, 101]
        sess.run(init_train)
        assert int(sess.run(nxt)) == 0
    with pytest.raises(TypeError):
        it.make_initializer(tf.data.Dataset.from_tensors(1.0))
    one = tf.data.make_one_shot_iterator(tf.data.Dataset.range(1)).get_next()
    init = tf.data.make_initializable_iterator(tf.data.Dataset.range(1))
    with tf.Session() as sess:
        sess.run(init.initializer)
        assert int(sess.run(one)) == 0 and int(sess.run(init.get_next())) == 0


def test_two_sessions_are_independent():
    nxt = tf.data.Dataset.range(5).make_one_shot_iterator().get_next()
    with tf.Session() as a, tf.Session() as b:
        assert [int(a.run(nxt)) for _ in range(3)] == [0, 1, 2]
        assert int(b.run(nxt)) == 0
        assert int(a.run(nxt)) == 3


def test_get_next_is_on_the_cpu_and_stateful():
    nxt = tf.data.Dataset.range(3).make_one_shot_iterator().get_next()
    assert nxt.op.op_def.host_only and nxt.op.op_def.stateful
    with tf.Session() as sess:
        assert ints(sess.run([nxt + 0, nxt * 1])) in ([0, 0],)


# ---- prefetch ----------------------------------------------------------------------------------
def _prefetch_threads():
    return [t for t in threading.enumerate() if t.name == "tf.data prefetch"]


def _wait_dead(threads, timeout=5.0):
    """True once every thread in `threads` has exited (collecting garbage meanwhile: a
    prefetch thread also stops when its session's state is freed)."""
    end = time.time() + timeout
    while time.time() < end:
        gc.collect()
        if not any(t.is_alive() for t in threads):
            return True
        time.sleep(0.02)
    return False


def test_prefetch_keeps_values_and_order():
    ds = tf.data.Dataset.range(50).map(lambda x: x * x).prefetch(3)
    assert ints(drain(ds)) == [i * i for i in range(50)]
    ds = tf.data.Dataset.range(10).batch(4).prefetch(1).repeat(2)
    assert [list(b) for b in drain(ds)][:3] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_prefetch_propagates_exceptions():
    def boom(x):
        if x == 3:
            raise ValueError("bad element")
        return x
    ds = tf.data.Dataset.range(6).map(lambda x: tf.py_func(boom, [x], tf.int64)).prefetch(2)
    nxt = ds.make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        assert [int(sess.run(nxt)) for _ in range(3)] == [0, 1, 2]
        with pytest.raises(Exception, match="bad element"):
            sess.run(nxt)


def test_prefetch_runs_ahead_in_the_background():
    produced = []
    ds = tf.data.Dataset.range(10).map(
        lambda x: tf.py_func(lambda a: produced.append(int(a)) or a, [x], tf.int64)).prefetch(4)
    nxt = ds.make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        assert int(sess.run(nxt)) == 0
        end = time.time() + 5
        while len(produced) < 5 and time.time() < end:
            time.sleep(0.01)
        assert len(produced) >= 5  # produced while the session was idle


def test_prefetch_thread_exits_on_close_and_reinitialize():
    # threads of earlier tests may still be exiting: follow only the ones this test starts
    before = set(_prefetch_threads())
    ds = tf.data.Dataset.range(1000).repeat().prefetch(2)
    it = ds.make_initializable_iterator()
    nxt = it.get_next()
    sess = tf.Session()
    sess.run(it.initializer)
    assert int(sess.run(nxt)) == 0
    first = set(_prefetch_threads()) - before
    assert len(first) == 1
    sess.run(it.initializer)
    assert _wait_dead(first)
    assert int(sess.run(nxt)) == 0
    second = set(_prefetch_threads()) - before - first
    assert len(second) == 1
    sess.close()
    assert _wait_dead(second)


# ---- training --------------------------------------------------------------------------------
def test_a_tiny_model_trains_from_get_next():
    rng = np.random.RandomState(0)
    xs = rng.randn(64, 2).astype(np.float32)
    ys = (xs @ np.array([[2.0], [-3.0]], np.float32) + 0.5).astype(np.float32)
    ds = tf.data.Dataset.from_tensor_slices((xs, ys)).shuffle(64, seed=0).repeat().batch(16)
    x, y = ds.prefetch(2).make_one_shot_iterator().get_next()
    w = tf.Variable(tf.zeros([2, 1]))
    b = tf.Variable(0.0)
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))
    step = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss)
        for _ in range(100):
            sess.run(step)
        assert sess.run(loss) < first * 0.01


def test_graphs_with_pipelines_or_py_func_cannot_be_exported():
    from tginteractive.framework.meta_graph import UnserialisableGraphError
    tf.data.Dataset.range(3).make_initializable_iterator().get_next()
    with pytest.raises(UnserialisableGraphError, match="dataset"):
        tf.train.export_meta_graph()
    tf.reset_default_graph()
    tf.py_func(lambda a: a, [tf.constant(1.0)], tf.float32)
    with pytest.raises(UnserialisableGraphError, match="func"):
        tf.train.export_meta_graph()


def test_parallel_map_keeps_order_and_runs_concurrently():
    active, peak, lock = [0], [0], threading.Lock()

    def slow(x):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.01)
        with lock:
            active[0] -= 1
        return x * 2
    ds = tf.data.Dataset.range(20).map(lambda x: tf.py_func(slow, [x], tf.int64),
                                       num_parallel_calls=4)
    assert ints(drain(ds)) == [2 * i for i in range(20)]
    assert peak[0] > 1
    ds = tf.data.Dataset.range(5).map(lambda x: x + 1, num_parallel_calls=3).prefetch(2)
    assert ints(drain(ds)) == [1, 2, 3, 4, 5]


def test_prefetch_benchmark_runs():  # validation only; benchmarks/bench_prefetch.py times it
    import pathlib
    import subprocess
    import sys
    script = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "bench_prefetch.py"
    done = subprocess.run([sys.executable, str(script), "--steps", "3"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "with prefetch" in done.stdout and "speed-up" in done.stdout


def test_flat_map_interleave_and_apply():
    ds = tf.data.Dataset.range(1, 4).flat_map(
        lambda n: tf.data.Dataset.from_tensors(n).repeat(n))
    assert ints(drain(ds)) == [1, 2, 2, 3, 3, 3]
    rows = tf.data.Dataset.from_tensor_slices(np.arange(6).reshape(3, 2))
    flat = rows.flat_map(lambda row: tf.data.Dataset.from_tensor_slices(row).map(lambda v: v * 10))
    assert ints(drain(flat)) == [0, 10, 20, 30, 40, 50]
    # TF docs: [1..5].interleave(lambda x: from_tensors(x).repeat(6), cycle_length=2,
    # block_length=4)
    inter = tf.data.Dataset.range(1, 6).interleave(
        lambda x: tf.data.Dataset.from_tensors(x).repeat(6), cycle_length=2, block_length=4)
    assert ints(drain(inter)) == [1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4,
                                  3, 3, 4, 4, 5, 5, 5, 5, 5, 5]
    assert ints(drain(tf.data.Dataset.range(5).apply(lambda d: d.skip(3)))) == [3, 4]
    offset = tf.placeholder(tf.int64, [])
    shifted = tf.data.Dataset.range(2).flat_map(
        lambda x: tf.data.Dataset.range(2).map(lambda y: x * 10 + y + offset))
    assert ints(drain(shifted, feed={offset: 100})) == [100, 101, 110, 111]


def test_counts_and_sizes_given_as_tensors():
    n = tf.placeholder(tf.int64, [])
    ds = tf.data.Dataset.range(10).skip(n).take(n).repeat(n).batch(n)
    assert ds.output_shapes.as_list() == [None]
    assert [list(b) for b in drain(ds, feed={n: 2})] == [[2, 3], [2, 3]]
    shuffled = tf.data.Dataset.range(10).shuffle(n, seed=1)
    assert sorted(ints(drain(shuffled, feed={n: 3}))) == list(range(10))
    assert [list(b) for b in drain(tf.data.Dataset.range(3).batch(tf.constant(2)))] == \
        [[0, 1], [2]]


def test_get_next_is_placed_on_the_cpu():
    with tf.device("/gpu:0"):
        x = tf.data.Dataset.range(4).map(lambda v: v * 2).prefetch(1) \
            .make_one_shot_iterator().get_next()
        y = x + 1
    config = tf.ConfigProto(device_count={"GPU": 1}, simulate_gpus=True)
    with tf.Session(config=config) as sess:  # as TF1: no GPU kernel, hard placement fails
        with pytest.raises(tf.errors.InvalidArgumentError, match="IteratorGetNext"):
            sess.run(y)
    config = tf.ConfigProto(device_count={"GPU": 1}, simulate_gpus=True,
                            allow_soft_placement=True)
    with tf.Session(config=config) as sess:
        assert [int(sess.run(y)) for _ in range(4)] == [1, 3, 5, 7]
    plain = tf.data.Dataset.range(2).make_one_shot_iterator().get_next()
    with tf.Session(config=tf.ConfigProto(device_count={"GPU": 1}, simulate_gpus=True)) as s:
        assert int(s.run(tf.identity(plain) * 1)) == 0
