"""`task.quantize(mode)` for every task, and quantized tasks that come back.

keras-hub records a quantized model's per-layer dtype policies in the
backbone's config (a `DTypePolicyMap` keyed by layer path), so a quantized
backbone is rebuilt quantized before its weights load. A task's own layers
(its head) are outside the backbone and no task config records them: a
quantized head came back as float layers, which cannot take the saved
int8 weights ("Layer 'out_proj' expected 2 variables, but received 0").

`QuantizationMixin` (listed before the keras-hub base in every task's
bases) closes that gap the same way: `get_config` keeps the head's
quantized policies by layer path (`"head_dtype"`, each a serialized
`DTypePolicy`), and
`from_config` adds them to the `DTypePolicyMap` that the backbone (and so
every head layer) is built with, so the head builds quantized, as the
backbone's layers do; the weights then load into layers of the saved
kind. It also lets `quantize`
run on a task whose preprocessor was never called: preprocessing layers
have no weights, and Keras refuses to quantize an unbuilt layer.
"""

import keras

HEAD_DTYPE = "head_dtype"


class QuantizationMixin:
    """Quantized task heads in `get_config` / `from_config`."""

    def _head_layers(self):
        """The task's layers that are neither the backbone's nor the
        preprocessor's."""
        outside = {id(layer) for layer in self.backbone._flatten_layers()}
        if self.preprocessor is not None:
            outside |= {id(x) for x in self.preprocessor._flatten_layers()}
        return [
            layer
            for layer in self._flatten_layers(include_self=False)
            if id(layer) not in outside
        ]

    def quantize(self, mode=None, config=None, filters=None, **kwargs):
        if filters is None:
            # Only layers of a kind Keras can quantize (Dense, EinsumDense,
            # Embedding, ...). Keras warns once for every other leaf layer
            # (dropout, layer norm, softmax, ...): noise, since they hold
            # nothing to quantize. The preprocessor's layers hold no
            # weights; left out, they need not have been called (built).
            preprocessing = set()
            if self.preprocessor is not None:
                preprocessing = {
                    id(layer) for layer in self.preprocessor._flatten_layers()
                }
            filters = lambda layer: (  # noqa: E731
                id(layer) not in preprocessing and _quantizable(layer)
            )
        super().quantize(mode=mode, config=config, filters=filters, **kwargs)

    def get_config(self):
        config = super().get_config()
        policies = {
            layer.path: keras.dtype_policies.serialize(_own_policy(layer))
            for layer in self._head_layers()
            if layer.quantization_mode is not None
        }
        if policies:
            config[HEAD_DTYPE] = policies
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        head_dtype = config.pop(HEAD_DTYPE, None)
        if head_dtype and isinstance(config.get("backbone"), dict):
            config["backbone"] = _with_head_policies(
                config["backbone"], head_dtype
            )
        return super().from_config(config)


def _with_head_policies(backbone_config, head_dtype):
    """`backbone_config` whose dtype is a `DTypePolicyMap` holding the
    head's policies too.

    Every task builds its head with `dtype=backbone.dtype_policy`; a map
    there makes each head layer look up its own path when it builds, so it
    builds quantized, as the backbone's own layers do. (Setting the policy
    on the built float head instead fails when the head holds the map of a
    quantized backbone: Keras' `Dense.quantize` names its new policy after
    the map, "int8_from_map_float32".)
    """
    inner = dict(backbone_config["config"])
    dtype = keras.dtype_policies.get(inner.get("dtype"))
    policies = {
        path: keras.dtype_policies.deserialize(policy)
        for path, policy in head_dtype.items()
    }
    if isinstance(dtype, keras.dtype_policies.DTypePolicyMap):
        policies = {**{path: dtype[path] for path in dtype}, **policies}
        dtype = dtype.default_policy
    inner["dtype"] = keras.dtype_policies.DTypePolicyMap(
        default_policy=dtype, policy_map=policies
    )
    return {**backbone_config, "config": inner}


def _quantizable(layer):
    """Whether `layer`'s class implements `quantize` (the base `Layer`'s
    raises NotImplementedError, which Keras turns into a warning)."""
    return type(layer).quantize is not keras.layers.Layer.quantize


def _own_policy(layer):
    """`layer`'s policy, looked up by its path when it holds a map."""
    policy = layer.dtype_policy
    if isinstance(policy, keras.dtype_policies.DTypePolicyMap):
        return policy[layer.path]
    return policy
