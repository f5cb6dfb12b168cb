"""The multi-device schedule (runtime/schedule.py): what must run before what, the order, and
the per-device segments; plus randomized graphs whose multi-device results must equal
sequential execution exactly."""
import numpy as np
import pytest

import tginteractive as tf
from tginteractive.runtime import schedule
from tginteractive.runtime.plan import build_plan

THREE_CPUS = tf.ConfigProto(device_count={"CPU": 3})


def plan_of(fetches, feeds=(), config=THREE_CPUS):
    return build_plan(tf.get_default_graph(), tuple(fetches), tuple(feeds), config)


def names(plan, indices):
    return {plan.ops[i].name for i in indices}


def preds_by_name(plan):
    return {plan.ops[i].name: names(plan, ps) for i, ps in enumerate(schedule.predecessors(plan))}


def check_schedule(plan):
    """Invariants every schedule keeps: a topological order of the non-lazy ops, segments on
    one device each, and dependencies only on earlier segments (so workers cannot deadlock)."""
    preds = schedule.predecessors(plan)
    order = schedule.execution_order(plan, preds)
    position = {i: k for k, i in enumerate(order)}
    assert sorted(order) == [i for i, op in enumerate(plan.ops) if not op.op_def.lazy]
    for i in order:
        assert all(position[p] < position[i] for p in preds[i]), plan.ops[i].name
    segments = schedule.segments(plan)
    assert sorted(i for s in segments for i in s.ops) == sorted(order)
    owner = {i: s.index for s in segments for i in s.ops}
    for seg in segments:
        assert all(plan.placement[plan.ops[i]] is seg.device for i in seg.ops)
        assert all(d < seg.index for d in seg.deps)
        for i in seg.ops:  # only a segment's first op waits, for all its other-device inputs
            waits = {owner[p] for p in preds[i] if plan.placement[plan.ops[p]] is not seg.device}
            assert waits <= seg.deps and (not waits or i == seg.ops[0]), plan.ops[i].name
    return segments


def test_readers_wait_for_the_writer_before_them_and_writers_for_readers_since():
    with tf.device("/cpu:0"):
        v = tf.Variable(1.0, name="v")
    with tf.device("/cpu:1"):
        read_a = tf.identity(v, name="read_a")
    with tf.device("/cpu:2"):
        read_b = tf.identity(v, name="read_b")
    write = tf.assign_add(v, 1.0, name="write")
    with tf.device("/cpu:1"):
        read_c = tf.identity(v, name="read_c")
    plan = plan_of([read_a, read_b, write, read_c])
    preds = preds_by_name(plan)
    assert preds["read_a"] == preds["read_b"] == {"v/read"}  # readers run concurrently
    assert {"v/read", "read_a", "read_b"} <= preds["write"]
    assert "write" in preds["read_c"]
    assert "v" not in set().union(*preds.values())  # the lazy variable op is never waited on
    check_schedule(plan)


def test_values_sharing_a_variables_memory_are_reads_of_it():
    with tf.device("/cpu:0"):
        v = tf.Variable(np.ones(4), name="v")
    with tf.device("/cpu:1"):
        view = tf.reshape(tf.identity(v, name="read"), [2, 2], name="view")
    with tf.device("/cpu:2"):
        before = tf.multiply(view, 2.0, name="before")  # reads v's memory through the views
    updated = tf.assign_add(v, np.ones(4), name="update")
    with tf.device("/cpu:2"):
        later = tf.multiply(view, 2.0, name="later")
        after = tf.add(updated, 1.0, name="after")      # reads v through the update's result
    plan = plan_of([before, later, after])
    preds = preds_by_name(plan)
    assert "before" in preds["update"]
    assert "update" in preds["later"] and "update" in preds["after"]
    check_schedule(plan)


def test_a_cond_using_a_variable_is_ordered_with_its_updates():
    with tf.device("/cpu:0"):
        v = tf.Variable(1.0, name="v")
    pred = tf.placeholder(tf.bool, [], name="pred")
    with tf.device("/cpu:1"):
        picked = tf.cond(pred, lambda: v * 2.0, lambda: v * 3.0, name="picked")
    with tf.device("/cpu:2"):
        update = tf.assign_add(v, 10.0, name="update")
    plan = plan_of([picked, update], feeds=[pred])
    assert "picked" in preds_by_name(plan)["update"]  # the branch reads v before the update
    check_schedule(plan)
    with tf.Session(config=THREE_CPUS) as sess:
        sess.run(v.initializer)
        for k in range(20):
            got, _ = sess.run([picked, update], {pred: k % 2 == 0})
            assert got == (1.0 + 10 * k) * (2.0 if k % 2 == 0 else 3.0)


def test_fed_tensors_and_control_inputs():
    x = tf.placeholder(tf.float32, [], name="x")
    with tf.device("/cpu:1"):
        doubled = tf.multiply(x, 2.0, name="doubled")
        marker = tf.multiply(x, 5.0, name="marker")
    with tf.device("/cpu:2"):
        with tf.control_dependencies([marker]):
            after = tf.add(x, 1.0, name="after")
        plus = tf.add(doubled, 1.0, name="plus")
    plan = plan_of([after, plus], feeds=[x, doubled])
    preds = preds_by_name(plan)
    assert preds["after"] == {"marker", "Const_2"}  # a control input is waited for
    assert "doubled" not in preds["plus"]  # the fed value is used; the op does not run
    assert "doubled" not in {op.name for op in plan.ops}
    check_schedule(plan)


def test_ops_with_outside_effects_keep_plan_order_across_devices():
    seen = []

    def note(tag):
        return tf.py_func(lambda v: seen.append(tag) or v, [tf.constant(0.0)], tf.float32,
                          name=f"note_{tag}")
    made = []
    for k, device in enumerate(["/cpu:2", "/cpu:0", "/cpu:1", "/cpu:2", "/cpu:0"]):
        with tf.device(device):
            made.append(note(k))
    plan = plan_of(made)
    check_schedule(plan)
    with tf.Session(config=THREE_CPUS) as sess:
        for _ in range(20):
            sess.run(made)
    assert seen == list(range(5)) * 20


def test_random_ops_are_not_chained_across_devices():
    drops = []
    for k in range(2):
        with tf.device(f"/cpu:{k}"):
            drops.append(tf.random_uniform([4], seed=k, name=f"draw_{k}"))
    plan = plan_of(drops)
    preds = preds_by_name(plan)
    draws = [op.name for op in plan.ops if op.type == "RandomUniform"]
    assert len(draws) == 2
    assert draws[0] not in preds[draws[1]] and draws[1] not in preds[draws[0]]


def test_towers_do_not_wait_for_each_other():
    """The bug this schedule fixes: tower 1 needs the weights' read ops, which tower 0's
    model function creates among its own ops; tower 1 must not wait for tower 0's work."""
    x = tf.placeholder(tf.float32, [None, 6], name="x")
    y = tf.placeholder(tf.float32, [None, 1], name="y")

    def model(xs, ys):
        h = tf.layers.dense(xs, 5, activation=tf.nn.relu, name="hidden")
        return tf.reduce_mean(tf.square(tf.layers.dense(h, 1, name="out") - ys))
    result = tf.train.replicate_model(model, [x, y], devices=["/cpu:0", "/cpu:1"],
                                      optimizer=tf.train.GradientDescentOptimizer(0.1))
    plan = plan_of([result.train_op, result.loss], [x, y],
                   config=tf.ConfigProto(device_count={"CPU": 2}))
    segments = check_schedule(plan)
    by_index = {s.index: s for s in segments}

    def upstream(seg):  # every segment that finishes before this one may start
        found, stack = set(), list(seg.deps)
        while stack:
            d = stack.pop()
            if d not in found:
                found.add(d)  # and what its device ran before it, and what that waited for
                stack.extend(by_index[d].deps)
                stack.extend(s.index for s in segments
                             if s.device is by_index[d].device and s.index < d)
        return found
    tower_ops = {k: {i for i, op in enumerate(plan.ops) if op.name.startswith(f"tower_{k}/")}
                 for k in (0, 1)}
    for seg in segments:
        if set(seg.ops) & tower_ops[1]:
            waited = {i for d in upstream(seg) for i in by_index[d].ops}
            assert not waited & tower_ops[0], f"{seg} waits for tower 0"


def random_graph(rng, n_ops):
    """A random graph over three CPUs: arithmetic on earlier values, variable reads and
    updates, control dependencies; returns the fetches and the variables."""
    variables = []
    for k in range(3):
        with tf.device(f"/cpu:{k}"):
            variables.append(tf.Variable(rng.randn(3).astype(np.float64), name=f"v{k}"))
    values = [tf.constant(rng.randn(3), name="c")]
    effects = []
    for i in range(n_ops):
        with tf.device(f"/cpu:{rng.randint(3)}"):
            kind = rng.randint(5)
            a, b = (values[j] for j in rng.randint(len(values), size=2))
            if kind == 0:
                out = tf.add(a, b, name=f"add{i}")
            elif kind == 1:
                out = tf.multiply(tf.tanh(a), b, name=f"mul{i}")
            elif kind == 2:
                out = tf.identity(variables[rng.randint(3)], name=f"read{i}") + a
            elif kind == 3:
                v = variables[rng.randint(3)]
                deps = [effects[rng.randint(len(effects))]] if effects and rng.rand() < .5 \
                    else []
                with tf.control_dependencies(deps):
                    update = tf.assign_add(v, tf.tanh(a) * 0.1, name=f"update{i}")
                effects.append(update.op)
                out = update + 0.0
            else:
                out = tf.reduce_sum(a) * b
            values.append(out)
    return values[1:], variables


@pytest.mark.parametrize("seed", range(8))
def test_random_multi_device_graphs_equal_sequential_execution(seed):
    """On device threads and inline (runtime/dispatch.py), every fetched value and every
    variable equals one device's, bit for bit, over three runs."""
    results = {}
    for name, config in [
            ("one device", tf.ConfigProto(allow_soft_placement=True)),
            ("threads", tf.ConfigProto(device_count={"CPU": 3}, inter_op_parallelism_threads=3)),
            ("inline", tf.ConfigProto(device_count={"CPU": 3}, inter_op_parallelism_threads=1))]:
        tf.reset_default_graph()
        fetches, variables = random_graph(np.random.RandomState(seed), 40)
        if name != "one device":
            check_schedule(plan_of(fetches))
        with tf.Session(config=config) as sess:
            sess.run(tf.global_variables_initializer())
            runs = [sess.run(fetches) for _ in range(3)]
            results[name] = (runs, sess.run(variables))
    want_runs, want_vars = results.pop("one device")
    for name, (runs, values) in results.items():
        for got_run, want_run in zip(runs, want_runs):
            for got, want in zip(got_run, want_run):
                np.testing.assert_array_equal(got, want, err_msg=name)
        for got, want in zip(values, want_vars):
            np.testing.assert_array_equal(got, want, err_msg=name)
