"""A weight-name table: which Keras variable is which checkpoint tensor.

One table per source format is built from a live Keras model by the
functions in `transformers_table.py` (and the other sources). Loading and
saving both read it, so a name is written down once.
"""

import dataclasses

import keras
import numpy as np


@dataclasses.dataclass
class WeightEntry:
    """One Keras variable and the checkpoint tensor it corresponds to.

    Attributes:
        variable: the `keras.Variable`.
        key: the tensor's name in the checkpoint.
        transpose: the checkpoint stores the matrix as `[out, in]` (PyTorch
            `nn.Linear`) while Keras stores `[in, out]`.
        in_axes: for transposed kernels, how many leading Keras axes are
            inputs (2 for the attention output kernel `[heads, head_dim,
            hidden]`, 1 otherwise).
    """

    variable: object
    key: str
    transpose: bool = False
    in_axes: int = 1

    @property
    def keras_shape(self):
        return tuple(self.variable.shape)

    @property
    def checkpoint_shape(self):
        """The shape the tensor must have in the checkpoint."""
        shape = self.keras_shape
        if self.transpose:
            n_in = int(np.prod(shape[: self.in_axes]))
            n_out = int(np.prod(shape[self.in_axes :]))
            return (n_out, n_in)
        if len(shape) == 2 and self.key.endswith("bias"):
            # Attention biases: Keras `[heads, head_dim]`, checkpoint flat.
            return (int(np.prod(shape)),)
        return shape

    def to_keras(self, tensor):
        """Checkpoint tensor -> value for the Keras variable."""
        tensor = np.asarray(tensor)
        if self.transpose:
            tensor = tensor.T
        return np.reshape(tensor, self.keras_shape)

    def to_checkpoint(self, value):
        """Keras variable value -> checkpoint tensor."""
        value = np.asarray(value)
        shape = self.checkpoint_shape
        if self.transpose:
            return np.ascontiguousarray(np.reshape(value, shape[::-1]).T)
        return np.reshape(value, shape)


def assign_weights(table, tensors, source, ignore=()):
    """Assign `tensors` (name -> array) to the variables named in `table`.

    Every variable must find its tensor with the right shape, and every
    tensor must be used (or named in `ignore`); otherwise a `ValueError`
    names the offending weights and the `source`.
    """
    remaining = dict(tensors)
    missing, bad_shapes = [], []
    for entry in table:
        if entry.key not in remaining:
            missing.append(
                f"{entry.key} (expected shape {entry.checkpoint_shape})"
            )
            continue
        tensor = remaining.pop(entry.key)
        if tuple(tensor.shape) != entry.checkpoint_shape:
            bad_shapes.append(
                f"{entry.key}: checkpoint has shape {tuple(tensor.shape)}, "
                f"the model expects {entry.checkpoint_shape}"
            )
            continue
        entry.variable.assign(entry.to_keras(tensor))
    unexpected = sorted(k for k in remaining if k not in ignore)
    problems = []
    if missing:
        problems.append("missing weights: " + ", ".join(missing))
    if bad_shapes:
        problems.append("wrongly shaped weights: " + "; ".join(bad_shapes))
    if unexpected:
        problems.append(
            "unexpected weights (not used by the model): "
            + ", ".join(unexpected)
        )
    if problems:
        raise ValueError(
            f"The checkpoint in {source} does not match the model. "
            + " | ".join(problems)
        )


def export_weights(table):
    """The checkpoint tensors (name -> numpy array) of a model's table."""
    return {
        entry.key: entry.to_checkpoint(keras.ops.convert_to_numpy(entry.variable))
        for entry in table
    }
