"""Keep a task's preprocessor within its backbone's position embeddings."""

import warnings


def clamp_sequence_length(preprocessor, backbone):
    """Lower `preprocessor.sequence_length` to the backbone's maximum.

    A task loaded from a preset whose preprocessor has another class gets a
    new preprocessor with the default length (512), which a backbone with
    fewer position embeddings cannot take.
    """
    length = getattr(preprocessor, "sequence_length", None)
    maximum = backbone.max_sequence_length
    if length is not None and length > maximum:
        warnings.warn(
            f"The preprocessor's `sequence_length` {length} exceeds the "
            f"backbone's `max_sequence_length` {maximum}; using {maximum}.",
            stacklevel=3,
        )
        preprocessor.sequence_length = maximum
