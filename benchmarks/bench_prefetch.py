"""tf.data prefetch: a slow loader (a py_func map sleeping per element) feeding a training
step, with and without `prefetch`. Prefetch overlaps loading with Session.run, so the
prefetched pipeline should take about max(load, step) per batch instead of load + step.

    python3 benchmarks/bench_prefetch.py [--quick] [--steps N]
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import tginteractive as tf  # noqa: E402

BATCH, FEATURES, HIDDEN = 16, 256, 1024


def _slow_load(x, delay):
    time.sleep(delay)
    return x


def build(prefetch, delay, seed=0):
    tf.reset_default_graph()
    rng = np.random.RandomState(seed)
    xs = rng.randn(BATCH * 8, FEATURES).astype(np.float32)
    ys = rng.randn(BATCH * 8, 1).astype(np.float32)
    ds = tf.data.Dataset.from_tensor_slices((xs, ys)).repeat()
    ds = ds.map(lambda x, y: (tf.py_func(lambda a: _slow_load(a, delay), [x], tf.float32), y))
    ds = ds.map(lambda x, y: (tf.reshape(x, [FEATURES]), y)).batch(BATCH)
    if prefetch:
        ds = ds.prefetch(2)
    x, y = ds.make_one_shot_iterator().get_next()
    w1 = tf.Variable(rng.randn(FEATURES, HIDDEN).astype(np.float32) * 0.01)
    w2 = tf.Variable(rng.randn(HIDDEN, HIDDEN).astype(np.float32) * 0.01)
    w3 = tf.Variable(rng.randn(HIDDEN, 1).astype(np.float32) * 0.01)
    h = tf.nn.relu(tf.matmul(tf.nn.relu(tf.matmul(x, w1)), w2))
    loss = tf.reduce_mean(tf.square(tf.matmul(h, w3) - y))
    return tf.train.GradientDescentOptimizer(0.01).minimize(loss), loss


def run(prefetch, steps, delay):
    step, loss = build(prefetch, delay)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(step)  # warm-up: plans compiled, prefetch thread started
        start = time.perf_counter()
        for _ in range(steps):
            sess.run(step)
        elapsed = time.perf_counter() - start
        final = float(sess.run(loss))
    return elapsed, final


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few steps (< 20 s)")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--delay", type=float, default=0.0003, help="seconds per element")
    args = parser.parse_args(argv)
    steps = args.steps or (50 if args.quick else 300)
    plain, loss_a = run(False, steps, args.delay)
    fetched, loss_b = run(True, steps, args.delay)
    assert np.isfinite(loss_a) and np.isfinite(loss_b)
    print(f"{steps} steps, batch {BATCH}, loader {args.delay * 1e3:.1f} ms/element")
    print(f"without prefetch: {plain:.3f} s ({plain / steps * 1e3:.1f} ms/step)")
    print(f"with prefetch(2): {fetched:.3f} s ({fetched / steps * 1e3:.1f} ms/step)")
    print(f"speed-up: {plain / fetched:.2f}x")
    return plain, fetched


if __name__ == "__main__":
    main()
