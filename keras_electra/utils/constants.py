"""Numerical constants of Google's ELECTRA, in one place."""

# Exact (erf) GELU everywhere: transformer feedforward, generator head,
# discriminator head.
ELECTRA_ACTIVATION = "gelu"
# Every LayerNorm in Google's code uses this epsilon.
ELECTRA_LAYER_NORM_EPSILON = 1e-12
# The pre-training objectives of `ElectraPretrainer(objective=...)`:
# replaced token detection (ELECTRA) and masked-LM alone (BERT's objective on
# the discriminator's network).
PRETRAINING_OBJECTIVES = ("rtd", "mlm")
