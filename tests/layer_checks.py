"""Checks every layer must pass (DESIGN.md §8), written once for all of them.

Each takes `make_model(**layer_kwargs) -> keras.Model` building a small
functional model around the layer, and the model's input arrays.
"""

import os

import keras
import numpy as np
import pytest


def assert_round_trip(model, inputs, tmp_path):
    """get_config round-trips and a .keras file reloads WITHOUT custom_objects."""
    expected = _as_list(model.predict(inputs, verbose=0))
    path = os.path.join(tmp_path, "model.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path)  # no custom_objects on purpose
    got = _as_list(reloaded.predict(inputs, verbose=0))
    assert len(got) == len(expected)
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)
    for layer in model.layers:
        config = layer.get_config()
        assert type(layer).from_config(config).get_config() == config


def assert_fit_one_step(model, inputs, targets):
    """One optimizer step runs, gives a finite loss and moves the weights."""
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    before = [np.array(w) for w in model.trainable_weights]
    history = model.fit(inputs, targets, epochs=1, batch_size=len(targets), verbose=0)
    assert np.isfinite(history.history["loss"][0])
    moved = [not np.allclose(b, np.array(w)) for b, w in zip(before, model.trainable_weights)]
    assert all(moved), "some weights received no gradient"


def assert_jit_matches(model, inputs):
    """The XLA-compiled forward pass equals the eager one (TF / JAX)."""
    if keras.backend.backend() not in ("tensorflow", "jax"):
        pytest.skip(f"jit_compile means XLA on TensorFlow/JAX, not on {keras.backend.backend()}")
    expected = _as_list(model(inputs, training=False))
    model.compile(jit_compile=True)
    got = _as_list(model.predict(inputs, verbose=0))
    assert len(got) == len(expected)
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, keras.ops.convert_to_numpy(e), rtol=1e-4, atol=1e-5)


def assert_mixed_precision_close(make_model, inputs, policy, rtol=0.05):
    """Same weights under a mixed policy: finite and close to float32."""
    reference = make_model()
    mixed = make_model(dtype=policy)
    mixed.set_weights(reference.get_weights())
    expected = _as_list(reference(inputs))
    got = _as_list(mixed(inputs))
    assert len(got) == len(expected)
    for e, g in zip(expected, got):
        g = keras.ops.convert_to_numpy(keras.ops.cast(g, "float32"))
        e = keras.ops.convert_to_numpy(e)
        assert np.all(np.isfinite(g)), f"non-finite output under {policy}"
        scale = np.abs(e).max() + 1e-6
        assert np.abs(g - e).max() <= rtol * scale, f"{policy} output too far from float32"


def _as_list(x):
    """Any (nested) output structure as a flat list of NumPy arrays."""
    return [keras.ops.convert_to_numpy(t) for t in keras.tree.flatten(x)]
