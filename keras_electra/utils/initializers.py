import keras


def electra_kernel_initializer(stddev=0.02):
    """Google's initializer for every ELECTRA weight matrix."""
    return keras.initializers.TruncatedNormal(stddev=stddev)
