"""Show, Attend and Tell family: decoder maths, decoding, encoder, captioner."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo.models.show_attend_tell import (
    ImageEncoder,
    ImagePreprocessing,
    ShowAttendTellCaptioner,
    ShowAttendTellDecoder,
    ShowAttendTellPreprocessor,
    build_show_attend_tell_captioner,
    read_vocabulary,
)
from tests.weights_isolation import use_only_weights_dir

VOCAB = ["", "[UNK]", "[START]", "[END]", "a", "dog", "runs", "on", "grass"]
START, END = 2, 3
B, L, D, V = 3, 4, 6, len(VOCAB)


def _decoder(**kwargs):
    kwargs = {"embedding_dim": 5, "units": 7, "attention_units": 3, "dropout": 0.0, **kwargs}
    return ShowAttendTellDecoder(V, **kwargs)


def _annotations(seed=0):
    return np.random.default_rng(seed).normal(size=(B, L, D)).astype("float32")


TOKENS = np.array([[START, 4, 5, 6, END], [START, 5, END, 0, 0], [START, 4, 4, 4, 4]], "int32")


def _np(x):
    return keras.ops.convert_to_numpy(x)


def test_decoder_shapes_and_attention_rows_sum_to_one():
    logits, alpha = _decoder()(_annotations(), TOKENS)
    assert logits.shape == (B, 5, V) and alpha.shape == (B, 5, L)
    np.testing.assert_allclose(_np(alpha).sum(-1), 1.0, rtol=1e-5)


def test_teacher_forcing_equals_one_step_at_a_time():
    """The scanned call is the recurrence of the docstring, step by step."""
    decoder = _decoder()
    annotations = _annotations()
    logits, alpha = decoder(annotations, TOKENS)
    state = decoder.initial_state(annotations)
    for t in range(TOKENS.shape[1]):
        embedded = decoder.embedding(TOKENS[:, t])
        z, a, state = decoder._recur(annotations, embedded, state)
        np.testing.assert_allclose(_np(a), _np(alpha[:, t]), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(_np(decoder._logits(embedded, state[0], z)),
                                   _np(logits[:, t]), rtol=1e-4, atol=1e-5)


def test_gate_and_context_match_numpy():
    """z_t = σ(w_β h) Σ_i α_ti a_i for the first step, from the layer's weights."""
    decoder = _decoder()
    annotations = _annotations()
    h0, _ = decoder.initial_state(annotations)
    np.testing.assert_allclose(
        _np(h0), np.tanh(annotations.mean(1) @ _np(decoder.init_h.kernel) + _np(decoder.init_h.bias)),
        rtol=1e-5, atol=1e-6)
    z, alpha = decoder._attend(annotations, h0)
    h0 = _np(h0)
    beta = 1 / (1 + np.exp(-(h0 @ _np(decoder.gate.kernel) + _np(decoder.gate.bias))))  # [B, 1]
    expected = beta * np.einsum("bl,bld->bd", _np(alpha), annotations)
    np.testing.assert_allclose(_np(z), expected, rtol=1e-5, atol=1e-6)


def test_doubly_stochastic_regulariser_counts_real_steps_only():
    decoder = _decoder(attention_regularization=0.5)
    annotations = _annotations()
    _, alpha = decoder(annotations, TOKENS, training=True)
    assert len(decoder.losses) == 1
    real = (TOKENS != 0)[:, :, None]
    coverage = (_np(alpha) * real).sum(1)  # [B, L]
    np.testing.assert_allclose(_np(decoder.losses[0]), 0.5 * np.mean((1 - coverage) ** 2), rtol=1e-5)
    decoder(annotations, TOKENS, training=False)
    assert not decoder.losses


def test_no_attention_ablation_is_uniform_and_unregularised():
    decoder = _decoder(use_attention=False)
    annotations = _annotations()
    _, alpha = decoder(annotations, TOKENS, training=True)
    np.testing.assert_allclose(_np(alpha), 1.0 / L)
    assert not decoder.losses
    assert not any("attention" in w.path for w in decoder.weights)


def _log_prob(decoder, annotations, tokens):
    """log p(tokens | image) by teacher forcing, up to and including [END]."""
    inputs = np.concatenate([np.full((len(tokens), 1), START), tokens[:, :-1]], 1).astype("int32")
    logits, _ = decoder(annotations, inputs)
    logits = _np(logits).astype("float64")
    logits[..., [0, START]] = -1e9  # never generated (as in generate())
    log_p = logits - np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1, keepdims=True)) \
        - logits.max(-1, keepdims=True)
    picked = np.take_along_axis(log_p, tokens[..., None], -1)[..., 0]
    return (picked * (tokens != 0)).sum(1), (tokens != 0).sum(1)


@pytest.mark.parametrize("beam_width", [1, 3])
def test_generate_scores_are_the_models_log_probabilities(beam_width):
    decoder = _decoder()
    annotations = _annotations()
    out = decoder.generate(annotations, START, END, max_length=6, beam_width=beam_width)
    tokens, alpha, scores = _np(out["tokens"]), _np(out["attention"]), _np(out["scores"])
    assert tokens.shape == (B, 6) and alpha.shape == (B, 6, L) and scores.shape == (B,)
    log_p, lengths = _log_prob(decoder, annotations, tokens)
    np.testing.assert_allclose(scores, log_p / lengths, rtol=1e-4, atol=1e-4)
    for row, a in zip(tokens, alpha):
        n = int((row != 0).sum())
        assert np.all(row[n:] == 0) and not np.any(row[:n] == 0)  # padding only after the end
        assert np.all(row[: n - 1] != END)
        np.testing.assert_allclose(a[:n].sum(-1), 1.0, rtol=1e-5)
        np.testing.assert_array_equal(a[n:], 0.0)


def test_greedy_picks_the_argmax_at_every_step():
    decoder = _decoder()
    annotations = _annotations()
    tokens = _np(decoder.generate(annotations, START, END, max_length=5)["tokens"])
    inputs = np.concatenate([np.full((B, 1), START), tokens[:, :-1]], 1).astype("int32")
    logits = _np(decoder(annotations, inputs)[0])
    logits[..., [0, START]] = -np.inf
    for b in range(B):
        n = int((tokens[b] != 0).sum())
        np.testing.assert_array_equal(tokens[b, :n], logits[b, :n].argmax(-1))


def test_beam_search_beats_greedy_without_length_normalisation():
    """With normalisation off the beam maximises the summed log-prob; on a
    untrained model the best of 5 beams is at least as likely as greedy's pick
    for these inputs (checked exactly against teacher forcing)."""
    decoder = _decoder()
    annotations = _annotations(3)
    greedy = _np(decoder.generate(annotations, START, END, 4, 1, length_normalization=0.0)["scores"])
    beam = _np(decoder.generate(annotations, START, END, 4, 5, length_normalization=0.0)["scores"])
    assert np.all(beam >= greedy - 1e-5)


def test_decoder_config_round_trip_and_bad_arguments():
    decoder = _decoder(score="bilinear", use_attention=True)
    assert ShowAttendTellDecoder.from_config(decoder.get_config()).get_config() == decoder.get_config()
    with pytest.raises(ValueError, match="score"):
        ShowAttendTellDecoder(V, score="cosine")
    with pytest.raises(ValueError, match="attention_regularization"):
        ShowAttendTellDecoder(V, attention_regularization=-1)
    with pytest.raises(ValueError, match="beam_width"):
        _decoder().generate(_annotations(), START, END, 4, beam_width=0)


def test_decoder_mixed_precision():
    keras.config.set_dtype_policy("mixed_bfloat16")
    decoder = _decoder()
    logits, alpha = decoder(_annotations(), TOKENS)
    assert keras.backend.standardize_dtype(logits.dtype) == "bfloat16"
    assert keras.backend.standardize_dtype(alpha.dtype) == "float32"
    np.testing.assert_allclose(_np(alpha).sum(-1), 1.0, rtol=1e-2)
    out = decoder.generate(_annotations(), START, END, 4, beam_width=2)
    assert np.all(np.isfinite(_np(out["scores"])))


@pytest.mark.parametrize("mode", ["tf", "torch", "caffe"])
def test_image_preprocessing_matches_keras(mode):
    images = np.random.default_rng(0).uniform(0, 255, (2, 4, 4, 3)).astype("float32")
    expected = keras.applications.imagenet_utils.preprocess_input(images.copy(), mode=mode)
    np.testing.assert_allclose(_np(ImagePreprocessing(mode)(images)), expected, rtol=1e-5, atol=1e-4)


def test_image_encoder_grid_and_errors(tmp_path, monkeypatch):
    encoder = ImageEncoder("mobilenet_0.25", image_size=64)
    assert encoder.grid_shape == (2, 2) and encoder.feature_dim == 256
    assert encoder(np.zeros((1, 64, 64, 3))).shape == (1, 4, 256)
    with pytest.raises(ValueError, match="encoder"):
        ImageEncoder("vgg99")
    with pytest.raises(FileNotFoundError, match="encoder_weights"):
        ImageEncoder(image_size=64, encoder_weights=str(tmp_path / "missing.h5"))
    # A corrupt copy of a known weights file is detected, not loaded.
    (tmp_path / "mobilenet_2_5_224_tf_no_top.h5").write_bytes(b"not weights")
    monkeypatch.setenv("ZOO_PRETRAINED_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="sha256"):
        ImageEncoder(image_size=64, encoder_weights="imagenet")


def _captioner(**kwargs):
    kwargs = {"image_size": 32, "embedding_dim": 8, "units": 8, "attention_units": 4,
              "max_length": 5, **kwargs}
    return build_show_attend_tell_captioner(VOCAB, **kwargs)


def test_captioner_caption_and_attention_maps():
    model = _captioner(image_size=64)
    images = np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3)).astype("float32")
    captions, maps = model.caption(images, beam_width=2, return_attention=True)
    assert len(captions) == 2 and all(isinstance(c, str) for c in captions)
    for caption, m in zip(captions, maps):
        assert set(caption.split()) <= set(VOCAB[4:] + ["[UNK]"])
        assert m.shape[1:] == (2, 2) and m.shape[0] in (len(caption.split()), len(caption.split()) + 1)
        np.testing.assert_allclose(m.sum((1, 2)), 1.0, rtol=1e-5)
    with pytest.raises(ValueError, match="64 × 64"):
        model.caption(np.zeros((1, 32, 32, 3)))
    with pytest.raises(ValueError, match="images"):
        model.caption(np.zeros((32, 32, 3)))


def test_captioner_detokenize_stops_at_end():
    model = _captioner()
    captions = model.preprocessor.captions(np.array([[4, 5, END, 6, 0], [1, 0, 0, 0, 0]]))
    assert captions == ["a dog", "[UNK]"]


def test_captioner_preprocessor_standardises_wraps_pads_and_cuts():
    preprocessor = ShowAttendTellPreprocessor(["", "[UNK]", "[START]", "[END]", "dog", "the", "a"],
                                              max_length=6)
    ids = keras.ops.convert_to_numpy(
        preprocessor(tf.constant(["The dog!", "A zebra, a dog.", "a a a a a a a a"])))
    np.testing.assert_array_equal(ids, [
        [2, 5, 4, 3, 0, 0, 0],   # [START] the dog [END], zero padding
        [2, 6, 1, 6, 4, 3, 0],   # zebra is unknown -> 1
        [2, 6, 6, 6, 6, 6, 6],   # too long: cut, [END] with it
    ])
    assert ids.dtype == np.int32
    mapped = tf.data.Dataset.from_tensor_slices(["dog", "the dog"]).batch(2).map(preprocessor)
    np.testing.assert_array_equal(next(iter(mapped)).numpy(), [[2, 4, 3, 0, 0, 0, 0], [2, 5, 4, 3, 0, 0, 0]])


def test_captioner_vocabulary_errors(tmp_path):
    with pytest.raises(ValueError, match=r"\[END\]"):
        build_show_attend_tell_captioner(["", "[UNK]", "[START]", "a"], image_size=32)
    with pytest.raises(FileNotFoundError, match="vocabulary"):
        build_show_attend_tell_captioner(str(tmp_path / "nope.txt"), image_size=32)
    path = tmp_path / "vocabulary.txt"
    path.write_text("\n".join(VOCAB) + "\n")
    assert read_vocabulary(path) == VOCAB


def test_registry_reads_the_vocabulary_asset(tmp_path, monkeypatch):
    use_only_weights_dir(monkeypatch, tmp_path)
    with pytest.raises(FileNotFoundError, match="vocabulary"):
        zoo.load("show_attend_tell_flickr8k", weights=None)
    folder = tmp_path / "show_attend_tell_flickr8k"
    folder.mkdir()
    (folder / "vocabulary.txt").write_text("\n".join(VOCAB) + "\n")
    model = zoo.load("show_attend_tell_flickr8k", weights=None, image_size=32)
    assert isinstance(model, ShowAttendTellCaptioner) and model.vocabulary == VOCAB
    assert zoo.info("show_attend_tell_flickr8k")["assets"] == {"vocabulary": "vocabulary.txt"}


@pytest.mark.parametrize("images, shown", [
    (np.full((1, 32, 32, 3), 1000, "uint16"), "image 0 has 1000 at pixel (0, 0), channel 0"),
    (np.where(np.arange(32)[:, None, None] == 5, -3.0, 10.0) * np.ones((2, 1, 32, 3), "float32"),
     "image 0 has -3.0 at pixel (5, 0), channel 0"),
    (np.where(np.arange(3) == 2, 1e30, 10.0) * np.ones((1, 32, 32, 1), "float32"),
     "image 0 has 1e+30 at pixel (0, 0), channel 2"),
], ids=["uint16", "negative", "1e30"])
def test_caption_refuses_pixels_outside_0_255(images, shown):
    """They would be captioned as garbage; 16-bit images need dividing by 257."""
    import re

    captioner = _captioner()
    with pytest.raises(ValueError, match=re.escape(
            f"`images` must hold RGB in [0, 255]; {shown}. Rescale them first (16-bit images: divide "
            "by 257).")):
        captioner.caption(images)
    captioner.caption(np.full((1, 32, 32, 3), 255, "uint16"))  # 16-bit storage of 8-bit values is fine
