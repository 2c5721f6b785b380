"""Numerical constants of Google's ELECTRA, in one place."""

# Exact (erf) GELU everywhere: transformer feedforward, generator head,
# discriminator head.
ELECTRA_ACTIVATION = "gelu"
# Every LayerNorm in Google's code uses this epsilon.
ELECTRA_LAYER_NORM_EPSILON = 1e-12
