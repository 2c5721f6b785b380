"""Run preprocessing code that needs keras-hub's TensorFlow tokenizer path.

keras-hub tokenizers use their TensorFlow path only inside a graph
(`tf.data`, `tf.function`) and a pure-Python path in eager calls, which
returns Python lists. Preprocessors whose ragged word/piece bookkeeping is
written with `tf` ops run it through a cached `tf.function` when called
eagerly, so eager and `tf.data` calls execute the same code. Tasks run
their post-processing (`decode_outputs`, written with `tf` ops for the
serving graph) the same way on `predict`'s outputs, from every backend.
"""

import weakref

import tensorflow as tf

# owner -> its cache of `call_in_graph` functions. Kept outside the owner:
# Keras tracks (and PyTorch registers) a model's attributes.
_OWNER_CACHES = weakref.WeakKeyDictionary()


def call_in_graph(cache, key, fn, *args):
    """`fn(*args)`, traced as a `tf.function` (kept in `cache[key]`) if eager."""
    if not tf.executing_eagerly():
        return fn(*args)
    if key not in cache:
        cache[key] = tf.function(fn, reduce_retracing=True)
    return cache[key](*args)


def call_owned_in_graph(owner, key, fn, *args):
    """`call_in_graph` with the cache of `owner` (a task): its functions
    live as long as it does, outside its attributes."""
    cache = _OWNER_CACHES.setdefault(owner, {})
    return call_in_graph(cache, key, fn, *args)


def vocabulary_tensor(tokenizer):
    """The vocabulary of `tokenizer` as a string tensor (index = token id).

    Made once per tokenizer (and vocabulary size) outside any graph: the
    functions that gather from it (a serving signature, a cached
    `tf.function`) capture it rather than embed a constant of its tens of
    thousands of strings, which a graph would copy on every call.
    """
    cache = _OWNER_CACHES.setdefault(tokenizer, {})
    key = ("vocabulary", tokenizer.vocabulary_size())
    if key not in cache:
        with tf.init_scope():
            cache[key] = tf.constant(tokenizer.get_vocabulary())
    return cache[key]
