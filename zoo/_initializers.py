"""One initializer per weight."""

import keras


def clone_initializer(initializer, index):
    """A fresh copy of `initializer` for the layer's `index`-th weight.

    A Keras 3 random initializer draws from a fixed seed (the one it was given,
    or one picked when it was created), so one instance passed to several
    weights gives them equal values, or, for other shapes, scaled copies of the
    same random stream. Keras' MultiHeadAttention clones its initializer per
    sublayer; so does this, and an explicit integer seed becomes seed + index,
    so that a seeded layer is still reproducible and its weights still differ.
    An initializer drawing from a SeedGenerator moves on at every call and is
    kept; a plain function has no config and is kept too.
    """
    if not isinstance(initializer, keras.initializers.Initializer):
        return initializer
    if isinstance(getattr(initializer, "seed", None), keras.random.SeedGenerator):
        return initializer
    config = initializer.get_config()
    if isinstance(config.get("seed"), int):
        config["seed"] += index
    return type(initializer).from_config(config)
