"""Run preprocessing code that needs keras-hub's TensorFlow tokenizer path.

keras-hub tokenizers use their TensorFlow path only inside a graph
(`tf.data`, `tf.function`) and a pure-Python path in eager calls, which
returns Python lists. Preprocessors whose ragged word/piece bookkeeping is
written with `tf` ops run it through a cached `tf.function` when called
eagerly, so eager and `tf.data` calls execute the same code.
"""

import tensorflow as tf


def call_in_graph(cache, key, fn, *args):
    """`fn(*args)`, traced as a `tf.function` (kept in `cache[key]`) if eager."""
    if not tf.executing_eagerly():
        return fn(*args)
    if key not in cache:
        cache[key] = tf.function(fn, reduce_retracing=True)
    return cache[key](*args)
