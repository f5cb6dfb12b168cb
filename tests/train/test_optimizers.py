"""Momentum, Adam, RMSProp, Adagrad and Adadelta against NumPy re-implementations of TF1's
documented update rules (variables AND slots, every step), plus slots, naming,
hyperparameters given as tensors, None gradients and the fused ops' errors.

The problem: linear regression loss = mean((X w + b - Y)^2), whose gradient the NumPy side
computes by hand: d = 2 (X w + b - Y) / size, grad_w = X^T d, grad_b = sum_rows(d).
"""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tginteractive as tf

EXEMPT = {op: "tests/train/test_optimizers.py" for op in (
    "ApplyMomentum", "ApplyAdam", "ApplyRMSProp", "ApplyCenteredRMSProp", "ApplyAdagrad",
    "ApplyAdadelta")}

RNG = np.random.RandomState(0)
X, Y = RNG.randn(16, 3), RNG.randn(16, 2)
W0, B0 = RNG.randn(3, 2), RNG.randn(2)


def f32(value):
    """A hyperparameter as TF1 sees it: a float32 constant (cast to a float64 variable's dtype
    inside the update)."""
    return float(np.float32(value))


def numpy_grads(params):
    w, b = params
    d = 2 * (X @ w + b - Y) / Y.size
    return [X.T @ d, d.sum(axis=0)]


# ---- NumPy references: TF1's documented rules, one step on (param, grad, slots) --------------
def momentum_rule(lr, momentum, nesterov=False):
    lr, momentum = f32(lr), f32(momentum)
    def step(p, g, s, t):
        s["momentum"] = momentum * s["momentum"] + g
        if nesterov:
            return p - lr * g - lr * momentum * s["momentum"]
        return p - lr * s["momentum"]
    return {"momentum": 0.0}, step


def adam_rule(lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """beta1^t and beta2^t are float32 variables (TF1 creates them from the Python floats)."""
    beta1, beta2, eps = f32(beta1), f32(beta2), f32(eps)

    def power(beta, t):
        value = np.float32(beta)
        for _ in range(t - 1):
            value = value * np.float32(beta)
        return float(value)

    def step(p, g, s, t):     # t counts from 1
        lr_t = f32(lr(t)) * np.sqrt(1 - power(beta2, t)) / (1 - power(beta1, t))
        s["m"] = beta1 * s["m"] + (1 - beta1) * g
        s["v"] = beta2 * s["v"] + (1 - beta2) * g * g
        return p - lr_t * s["m"] / (np.sqrt(s["v"]) + eps)
    return {"m": 0.0, "v": 0.0}, step


def rmsprop_rule(lr, decay=0.9, momentum=0.0, eps=1e-10, centered=False):
    lr, decay, momentum, eps = f32(lr), f32(decay), f32(momentum), f32(eps)
    def step(p, g, s, t):
        s["rms"] = decay * s["rms"] + (1 - decay) * g * g
        denom = s["rms"] + eps
        if centered:
            s["mg"] = decay * s["mg"] + (1 - decay) * g
            denom = s["rms"] - s["mg"] ** 2 + eps
        s["momentum"] = momentum * s["momentum"] + lr * g / np.sqrt(denom)
        return p - s["momentum"]
    slots = {"rms": 1.0, "momentum": 0.0}
    if centered:
        slots["mg"] = 0.0
    return slots, step


def adagrad_rule(lr, initial=0.1):
    lr = f32(lr)
    def step(p, g, s, t):
        s["accumulator"] = s["accumulator"] + g * g
        return p - lr * g / np.sqrt(s["accumulator"])
    return {"accumulator": initial}, step


def adadelta_rule(lr, rho=0.95, eps=1e-8):
    lr, rho, eps = f32(lr), f32(rho), f32(eps)
    def step(p, g, s, t):
        s["accum"] = rho * s["accum"] + (1 - rho) * g * g
        update = np.sqrt(s["accum_update"] + eps) / np.sqrt(s["accum"] + eps) * g
        s["accum_update"] = rho * s["accum_update"] + (1 - rho) * update * update
        return p - lr * update
    return {"accum": 0.0, "accum_update": 0.0}, step


CASES = {
    "momentum": (lambda: tf.train.MomentumOptimizer(0.05, 0.9),
                 lambda: momentum_rule(0.05, 0.9)),
    "nesterov": (lambda: tf.train.MomentumOptimizer(0.05, 0.9, use_nesterov=True),
                 lambda: momentum_rule(0.05, 0.9, nesterov=True)),
    "adam": (lambda: tf.train.AdamOptimizer(0.05), lambda: adam_rule(lambda t: 0.05)),
    "adam_betas": (lambda: tf.train.AdamOptimizer(0.02, beta1=0.5, beta2=0.9, epsilon=1e-3),
                   lambda: adam_rule(lambda t: 0.02, 0.5, 0.9, 1e-3)),
    "rmsprop": (lambda: tf.train.RMSPropOptimizer(0.01), lambda: rmsprop_rule(0.01)),
    "rmsprop_momentum": (lambda: tf.train.RMSPropOptimizer(0.01, decay=0.8, momentum=0.5,
                                                           epsilon=1e-6),
                         lambda: rmsprop_rule(0.01, 0.8, 0.5, 1e-6)),
    "rmsprop_centered": (lambda: tf.train.RMSPropOptimizer(0.01, momentum=0.5, centered=True),
                         lambda: rmsprop_rule(0.01, momentum=0.5, centered=True)),
    "adagrad": (lambda: tf.train.AdagradOptimizer(0.1), lambda: adagrad_rule(0.1)),
    "adagrad_initial": (lambda: tf.train.AdagradOptimizer(0.1, initial_accumulator_value=2.5),
                        lambda: adagrad_rule(0.1, 2.5)),
    "adadelta": (lambda: tf.train.AdadeltaOptimizer(1.0), lambda: adadelta_rule(1.0)),
    "adadelta_rho": (lambda: tf.train.AdadeltaOptimizer(0.5, rho=0.8, epsilon=1e-4),
                     lambda: adadelta_rule(0.5, 0.8, 1e-4)),
}


def build(make_opt, dtype):
    w = tf.Variable(W0.astype(dtype), name="w")
    b = tf.Variable(B0.astype(dtype), name="b")
    loss = tf.reduce_mean(tf.square(tf.matmul(X.astype(dtype), w) + b - Y.astype(dtype)))
    step = tf.train.get_or_create_global_step()
    opt = make_opt()
    train = opt.minimize(loss, global_step=step)
    return opt, train, [w, b], step


def reference(make_rule, steps):
    """[(params, slots)] after each of `steps` steps, in float64."""
    initial, rule = make_rule()
    params = [W0.copy(), B0.copy()]
    slots = [{k: np.full(p.shape, v) for k, v in initial.items()} for p in params]
    out = []
    for t in range(1, steps + 1):
        grads = numpy_grads(params)
        params = [rule(p, g, s, t) for p, g, s in zip(params, grads, slots)]
        out.append(([p.copy() for p in params], [dict(s) for s in slots]))
    return out


@pytest.mark.parametrize("case", sorted(CASES))
def test_trajectory_and_slots_match_numpy_float64(case):
    make_opt, make_rule = CASES[case]
    opt, train, params, step = build(make_opt, np.float64)
    expected = reference(make_rule, 40)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for t, (want_params, want_slots) in enumerate(expected, 1):
            sess.run(train)
            for var, want, slots in zip(params, want_params, want_slots):
                np.testing.assert_allclose(sess.run(var), want, rtol=1e-10, atol=1e-12,
                                           err_msg=f"{case}: {var.op.name} at step {t}")
                for name, value in slots.items():
                    got = sess.run(opt.get_slot(var, name))
                    np.testing.assert_allclose(got, value, rtol=1e-10, atol=1e-12,
                                               err_msg=f"{case}: slot {name} at step {t}")
        assert tf.train.global_step(sess, step) == 40


@pytest.mark.parametrize("case", sorted(CASES))
def test_float32_training_stays_float32(case):
    make_opt, make_rule = CASES[case]
    opt, train, params, _ = build(make_opt, np.float32)
    want_params, want_slots = reference(make_rule, 20)[-1]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(20):
            assert sess.run(train) is None
        for var, want, slots in zip(params, want_params, want_slots):
            got = sess.run(var)
            assert got.dtype == np.float32
            np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-5)
            for name, value in slots.items():
                got = sess.run(opt.get_slot(var, name))
                assert got.dtype == np.float32, name
                np.testing.assert_allclose(got, value, rtol=2e-4, atol=2e-5)
    fused = [op for op in tf.get_default_graph().get_operations()
             if op.type.startswith("Apply")]
    assert len(fused) == 2
    assert not any(t.op.type == "Cast" for op in fused for t in op.inputs)


def test_hyperparameters_as_placeholders_and_tensors():
    lr = tf.placeholder(tf.float32, [], name="lr")
    momentum = tf.constant(0.8)
    w = tf.Variable(W0[:, 0].astype(np.float32), name="w")
    loss = tf.reduce_sum(tf.square(w - 1.0))
    train = tf.train.MomentumOptimizer(lr, momentum).minimize(loss)
    accum, value = np.zeros(3), W0[:, 0].copy()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for t in range(25):
            rate = 0.1 * 0.9 ** t
            sess.run(train, {lr: rate})
            accum = 0.8 * accum + 2 * (value - 1.0)
            value = value - rate * accum
            np.testing.assert_allclose(sess.run(w), value, rtol=1e-5, atol=1e-6)


def test_adam_with_a_decayed_learning_rate_schedule():
    step = tf.train.get_or_create_global_step()
    lr = tf.train.exponential_decay(0.1, step, decay_steps=5, decay_rate=0.5)
    opt, train, params, _ = build(lambda: tf.train.AdamOptimizer(lr), np.float64)
    expected = reference(lambda: adam_rule(lambda t: 0.1 * 0.5 ** ((t - 1) / 5)), 30)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for want_params, _ in expected:
            sess.run(train)
        for var, want in zip(params, want_params):
            np.testing.assert_allclose(sess.run(var), want, rtol=1e-5)
        assert tf.train.global_step(sess, step) == 30


def test_callable_hyperparameters_are_called_once_per_apply():
    calls = []

    def lr():
        calls.append(1)
        return 0.5
    w = tf.Variable(2.0)
    train = tf.train.RMSPropOptimizer(lr, decay=0.5).minimize(w * w)
    assert calls == [1]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        ms = 0.5 * 1.0 + 0.5 * 16.0
        np.testing.assert_allclose(sess.run(w), 2.0 - 0.5 * 4.0 / np.sqrt(ms + 1e-10), rtol=1e-6)


@pytest.mark.parametrize("case", ["momentum", "adam", "rmsprop_centered", "adagrad",
                                  "adadelta"])
def test_variables_without_gradient_are_untouched_and_get_no_slots(case):
    make_opt, _ = CASES[case]
    w = tf.Variable([1.0, 2.0], name="w")
    unused = tf.Variable([3.0], name="unused")
    opt = make_opt()
    grads_and_vars = opt.compute_gradients(tf.reduce_sum(w * w), var_list=[w, unused])
    assert grads_and_vars[1] == (None, unused)
    train = opt.apply_gradients(grads_and_vars)
    assert all(opt.get_slot(unused, n) is None for n in opt.get_slot_names())
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(train)
        assert sess.run(unused).tolist() == [3.0]
        assert not np.allclose(sess.run(w), [1.0, 2.0])


SLOT_NAMES = {
    "momentum": {"momentum": "Momentum"},
    "adam": {"m": "Adam", "v": "Adam_1"},
    "rmsprop": {"rms": "RMSProp", "momentum": "RMSProp_1"},
    "rmsprop_centered": {"rms": "RMSProp", "mg": "RMSProp_1", "momentum": "RMSProp_2"},
    "adagrad": {"accumulator": "Adagrad"},
    "adadelta": {"accum": "Adadelta", "accum_update": "Adadelta_1"},
}


@pytest.mark.parametrize("case", sorted(SLOT_NAMES))
def test_slot_names_collections_and_variables(case):
    opt, train, (w, b), step = build(CASES[case][0], np.float32)
    assert opt.get_slot_names() == sorted(SLOT_NAMES[case])
    slots = []
    for slot_name, suffix in SLOT_NAMES[case].items():
        for var in (w, b):
            slot = opt.get_slot(var, slot_name)
            assert slot.op.name == f"{var.op.name}/{suffix}"
            assert slot.shape == var.shape and slot.dtype == var.dtype
            assert not slot.trainable
            slots.append(slot)
    assert opt.get_slot(w, "nope") is None
    globals_ = tf.global_variables()
    assert all(s in globals_ for s in opt.variables())
    assert not any(s in tf.trainable_variables() for s in opt.variables())
    extra = ["beta1_power", "beta2_power"] if case == "adam" else []
    assert [v.op.name for v in opt.variables()] == sorted([s.op.name for s in slots] + extra)
    op_type = {"momentum": "ApplyMomentum", "adam": "ApplyAdam", "rmsprop": "ApplyRMSProp",
               "rmsprop_centered": "ApplyCenteredRMSProp", "adagrad": "ApplyAdagrad",
               "adadelta": "ApplyAdadelta"}[case]
    name = opt.get_name()
    assert tf.get_default_graph().get_operation_by_name(f"{name}/update_w/{op_type}").type \
        == op_type
    assert train.name == name and train.type == "AssignAdd"


def test_adam_beta_powers_are_non_slot_variables_updated_in_finish():
    with tf.name_scope("outer"):
        opt, train, (w, b), _ = build(lambda: tf.train.AdamOptimizer(0.1, 0.8, 0.7), np.float32)
    beta1_power, beta2_power = opt._get_beta_accumulators()
    assert beta1_power.op.name == "outer/beta1_power" and not beta1_power.trainable
    assert beta1_power in tf.global_variables()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_allclose(sess.run([beta1_power, beta2_power]), [0.8, 0.7])
        for t in range(1, 4):
            sess.run(train)
            np.testing.assert_allclose(sess.run([beta1_power, beta2_power]),
                                       [0.8 ** (t + 1), 0.7 ** (t + 1)], rtol=1e-6)


def test_slot_initial_values_rms_ones_and_adagrad_accumulator():
    w = tf.Variable(np.zeros((2, 3), np.float32), name="w")
    rms = tf.train.RMSPropOptimizer(0.1)
    ada = tf.train.AdagradOptimizer(0.1, initial_accumulator_value=0.3)
    rms.minimize(tf.reduce_sum(w))
    ada.minimize(tf.reduce_sum(w))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(rms.get_slot(w, "rms")).tolist() == [[1.0] * 3] * 2
        assert sess.run(rms.get_slot(w, "momentum")).tolist() == [[0.0] * 3] * 2
        np.testing.assert_allclose(sess.run(ada.get_slot(w, "accumulator")), np.full((2, 3), 0.3))


def test_adagrad_rejects_a_non_positive_initial_accumulator():
    with pytest.raises(ValueError, match="initial_accumulator_value must be positive"):
        tf.train.AdagradOptimizer(0.1, initial_accumulator_value=0.0)


def test_minimize_var_list_name_and_gate_arguments():
    w, v = tf.Variable(1.0, name="w"), tf.Variable(1.0, name="v")
    opt = tf.train.AdamOptimizer(0.1)
    train = opt.minimize(w * w + v * v, var_list=[w], name="train_w",
                         gate_gradients=tf.train.Optimizer.GATE_GRAPH,
                         colocate_gradients_with_ops=True)
    assert train.name == "train_w" and train.type == "NoOp"
    assert opt.get_slot(v, "m") is None
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        assert sess.run(v) == 1.0 and sess.run(w) < 1.0


def test_uninitialized_slot_error_names_the_slot_variable():
    w = tf.Variable([1.0], name="w")
    train = tf.train.MomentumOptimizer(0.1, 0.9).minimize(tf.reduce_sum(w * w))
    with tf.Session() as sess:
        sess.run(w.initializer)
        with pytest.raises(tf.errors.FailedPreconditionError,
                           match="uninitialized value w/Momentum"):
            sess.run(train)


def test_fetched_values_are_not_changed_by_later_in_place_updates():
    w = tf.Variable([1.0, 2.0], name="w")
    opt = tf.train.MomentumOptimizer(0.1, 0.9)
    train = opt.minimize(tf.reduce_sum(w * w))
    apply_op = tf.get_default_graph().get_operation_by_name("Momentum/update_w/ApplyMomentum")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        before, slot = sess.run([w, opt.get_slot(w, "momentum")])
        updated = sess.run(apply_op.outputs[0])
        sess.run(train)
        assert before.tolist() == [1.0, 2.0] and slot.tolist() == [0.0, 0.0]
        np.testing.assert_allclose(updated, [0.8, 1.6], rtol=1e-6)


def test_scalar_variable_after_assign_add_is_updated_in_place_correctly():
    w = tf.Variable(1.0)
    bump = w.assign_add(1.0)
    train = tf.train.AdamOptimizer(0.5).minimize(w * w)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(bump)
        sess.run(train)
        np.testing.assert_allclose(sess.run(w), 1.5, rtol=1e-6)


def test_gradient_shape_mismatch_is_an_error_naming_the_variable():
    w = tf.Variable([1.0, 2.0], name="w")
    g = tf.placeholder(tf.float32, None)
    train = tf.train.MomentumOptimizer(0.1, 0.9).apply_gradients([(g, w)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(tf.errors.InvalidArgumentError, match="'w'"):
            sess.run(train, {g: [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="Shapes must be equal"):
        tf.train.AdagradOptimizer(0.1).apply_gradients([(tf.constant([1.0]), w)])


def test_sharing_an_optimizer_across_two_minimize_calls_reuses_slots():
    w = tf.Variable([1.0], name="w")
    opt = tf.train.AdamOptimizer(0.1)
    opt.minimize(tf.reduce_sum(w * w))
    first = opt.get_slot(w, "m")
    opt.minimize(tf.reduce_sum(3 * w))
    assert opt.get_slot(w, "m") is first
    assert len([v for v in tf.global_variables() if "beta1_power" in v.op.name]) == 1


@pytest.mark.parametrize("case", ["momentum", "adam", "rmsprop_centered", "adagrad",
                                  "adadelta"])
def test_variables_of_unknown_static_shape_get_slots_of_their_runtime_shape(case):
    w = tf.Variable(np.ones((2, 3), np.float32), validate_shape=False, name="w")
    assert w.shape.dims is None
    opt = CASES[case][0]()
    train = opt.minimize(tf.reduce_sum(w * w))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        assert sess.run(w).shape == (2, 3)
        assert all(sess.run(opt.get_slot(w, n)).shape == (2, 3) for n in opt.get_slot_names())


def test_a_user_defined_optimizer_with_the_tf1_slot_helpers():
    class SignSGD(tf.train.Optimizer):
        """var -= lr * sign(grad); counts steps per variable in a slot."""

        def __init__(self, lr):
            super().__init__(False, "SignSGD")
            self._lr = lr

        def _create_slots(self, var_list):
            for v in var_list:
                self._get_or_make_slot_with_initializer(
                    v, tf.constant_initializer(0.0), v.shape, v.dtype, "count", self._name)

        def _apply_dense(self, grad, var):
            count = self.get_slot(var, "count")
            return tf.group(var.assign_sub(self._lr * tf.sign(grad)), count.assign_add(
                tf.ones_like(var)))

    w = tf.Variable([1.0, -1.0], name="w")
    opt = SignSGD(0.25)
    train = opt.minimize(tf.reduce_sum(w * w))
    assert opt.get_slot(w, "count").op.name == "w/SignSGD"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        sess.run(train)
        assert sess.run(w).tolist() == [0.5, -0.5]
        assert sess.run(opt.get_slot(w, "count")).tolist() == [2.0, 2.0]


# ---- optional: the same trajectories through real TensorFlow ----------------------------------
TF_PYTHON = os.environ.get("TGI_TF_PYTHON")  # e.g. /tmp/tfvenv/bin/python


@pytest.mark.skipif(not TF_PYTHON, reason="set TGI_TF_PYTHON to a Python with tensorflow")
def test_trajectories_equal_real_tensorflow_float32(tmp_path):
    script = textwrap.dedent(f"""
        import os, sys
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        import numpy as np
        import tensorflow.compat.v1 as tf
        tf.disable_v2_behavior()
        import types
        sys.modules["tginteractive"] = tf   # the module under test builds graphs with `tf`
        keep = lambda *a, **k: (lambda fn: fn)
        sys.modules["pytest"] = types.SimpleNamespace(mark=types.SimpleNamespace(
            parametrize=keep, skipif=keep))  # only its decorators are used at import
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        import test_optimizers as T
        out = {{}}
        for case, (make_opt, _) in T.CASES.items():
            g = tf.Graph()
            with g.as_default():
                opt, train, params, _ = T.build(make_opt, np.float32)
                with tf.Session() as sess:
                    sess.run(tf.global_variables_initializer())
                    for _ in range(20):
                        sess.run(train)
                    out[case] = np.concatenate([np.ravel(v) for v in sess.run(params)])
        np.savez(sys.argv[1], **out)
    """)
    path = tmp_path / "tf.npz"
    done = subprocess.run([TF_PYTHON, "-c", script, str(path)], capture_output=True, text=True,
                          timeout=300, env=dict(os.environ, PYTHONPATH=""))
    assert done.returncode == 0, done.stderr[-3000:]
    want = np.load(path)
    for case, (make_opt, _) in CASES.items():
        graph = tf.Graph()
        with graph.as_default():
            opt, train, params, _ = build(make_opt, np.float32)
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                for _ in range(20):
                    sess.run(train)
                got = np.concatenate([np.ravel(v) for v in sess.run(params)])
        np.testing.assert_allclose(got, want[case], rtol=1e-5, atol=1e-6, err_msg=case)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
