"""The README's example: constants, a placeholder with feed_dict, and linear regression."""
import numpy as np

import tginteractive as tf

# Constants in a Session
a = tf.constant(3.0)
b = tf.constant(4.0)
with tf.Session() as sess:
    print("a * b =", sess.run(a * b))                              # 12.0

# A placeholder fed through feed_dict
x = tf.placeholder(tf.float32, shape=[None, 3])
total = tf.reduce_sum(x, axis=1)
with tf.Session() as sess:
    print("row sums:", sess.run(total, feed_dict={x: np.ones((2, 3))}))  # [3. 3.]

# Linear regression with GradientDescentOptimizer
tf.reset_default_graph()
xs = np.linspace(-1, 1, 100).astype(np.float32)
ys = 2 * xs + 1
X = tf.placeholder(tf.float32)
Y = tf.placeholder(tf.float32)
W = tf.Variable(0.0, name="W")
b = tf.Variable(0.0, name="b")
loss = tf.reduce_mean(tf.square(W * X + b - Y))
train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(200):
        sess.run(train_op, feed_dict={X: xs, Y: ys})
    w_value, b_value = sess.run([W, b])
    print(f"W = {w_value:.3f}, b = {b_value:.3f}")                 # W = 2.000, b = 1.000
