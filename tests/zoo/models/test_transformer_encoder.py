"""Transformer encoder family: embeddings, pooling, backbone masking, classifier."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.models.transformer_encoder import (
    MaskedMeanPooling,
    TokenAndPositionEmbedding,
    TransformerEncoderBackbone,
    TransformerEncoderClassifier,
    build_transformer_encoder_classifier,
)
from zoo.models.transformer_encoder.subword_tokenizer import char_ngrams, subword_vocabulary
from zoo.models.transformer_encoder.transformer_encoder_preprocessor import (
    TransformerEncoderPreprocessor)

VOCAB = ["", "[UNK]", "good", "bad", "movie", "not", "a"]
CLASSES = ["negative", "positive"]


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _classifier(**kwargs):
    kwargs = {"max_length": 6, "num_layers": 2, "num_heads": 2, "hidden_dim": 8, "ff_dim": 16,
              "dropout": 0.0, **kwargs}
    return build_transformer_encoder_classifier(VOCAB, CLASSES, **kwargs)


def test_embedding_is_token_plus_position():
    layer = TokenAndPositionEmbedding(len(VOCAB), max_length=5, embedding_dim=4)
    ids = np.array([[2, 4, 0], [3, 3, 3]], "int32")
    out = _np(layer(ids))
    tokens = _np(layer.token_embedding.embeddings)
    positions = _np(layer.position_embedding.embeddings)
    np.testing.assert_allclose(out, tokens[ids] + positions[None, :3], rtol=1e-6)


def test_sinusoidal_positions_are_vaswanis_and_have_no_weights():
    layer = TokenAndPositionEmbedding(len(VOCAB), max_length=8, embedding_dim=6,
                                      position_encoding="sinusoidal")
    out = _np(layer(np.zeros((1, 5), "int32")))[0] - _np(layer.token_embedding.embeddings)[0]
    t, i = np.arange(5)[:, None], np.arange(3)
    expected = np.zeros((5, 6))
    expected[:, 0::2], expected[:, 1::2] = np.sin(t / 10000 ** (2 * i / 6)), np.cos(t / 10000 ** (2 * i / 6))
    np.testing.assert_allclose(out, expected, atol=1e-6)
    assert len(layer.weights) == 1  # the token embedding only
    with pytest.raises(ValueError, match="position_encoding"):
        TokenAndPositionEmbedding(5, 4, 2, position_encoding="rotary")


def test_masked_mean_pooling_matches_numpy_and_is_zero_for_empty_sequences():
    x = np.random.default_rng(0).normal(size=(3, 4, 2)).astype("float32")
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1], [0, 0, 0, 0]], bool)
    out = _np(MaskedMeanPooling()(x, mask=mask))
    np.testing.assert_allclose(out[0], x[0, :2].mean(0), rtol=1e-6)
    np.testing.assert_allclose(out[1], x[1].mean(0), rtol=1e-6)
    np.testing.assert_array_equal(out[2], 0.0)  # an empty text: no NaN


def test_backbone_outputs_ignore_padding():
    """Real tokens' outputs do not depend on how much padding follows them,
    and no attention falls on padding."""
    backbone = TransformerEncoderBackbone(len(VOCAB), max_length=8, num_layers=2, num_heads=2,
                                          hidden_dim=8, ff_dim=16)
    short = backbone(np.array([[2, 4, 5]], "int32"))
    padded = backbone(np.array([[2, 4, 5, 0, 0, 0]], "int32"))
    np.testing.assert_allclose(_np(padded["sequence_output"])[:, :3],
                               _np(short["sequence_output"]), rtol=1e-5, atol=1e-6)
    for weights in padded["attention"]:
        weights = _np(weights)  # [1, H, 6, 6]
        assert weights.shape == (1, 2, 6, 6)
        np.testing.assert_array_equal(weights[..., 3:], 0.0)
        np.testing.assert_allclose(weights[:, :, :3].sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(_np(padded["padding_mask"]), [[1, 1, 1, 0, 0, 0]])


def test_classifier_matches_its_layers_by_hand():
    """logits = W · masked-mean(backbone(ids)) + b."""
    model = _classifier()
    ids = np.array([[2, 4, 0, 0, 0, 0], [5, 2, 4, 6, 3, 1]], "int32")
    h = _np(model.backbone(ids)["sequence_output"])
    mask = (ids != 0)[..., None]
    pooled = (h * mask).sum(1) / mask.sum(1)
    kernel, bias = (_np(w) for w in model.get_layer("logits").weights)
    np.testing.assert_allclose(_np(model(ids)), pooled @ kernel + bias, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("merge", ["concat", "mean"])
def test_attention_output_and_merge(merge):
    model = _classifier(merge=merge, return_attention=True)
    out = model(np.array([[2, 4, 0, 0, 0, 0]], "int32"))
    assert set(out) == {"logits", "probabilities", "attention"}
    assert len(out["attention"]) == 2 and out["attention"][-1].shape == (1, 2, 6, 6)
    np.testing.assert_allclose(_np(out["probabilities"]).sum(-1), 1.0, rtol=1e-6)


def test_preprocessor_is_static_truncates_pads_and_maps_unknown_words():
    model = _classifier()
    ids = _np(model.preprocessor(["Good movie!", "", "a b c d e f g h", "GOOD, not BAD."]))
    assert ids.dtype == np.int32 and ids.shape == (4, 6)
    np.testing.assert_array_equal(ids[0], [2, 4, 0, 0, 0, 0])
    np.testing.assert_array_equal(ids[1], 0)
    np.testing.assert_array_equal(ids[2], [6, 1, 1, 1, 1, 1])  # unknown -> [UNK], truncated
    np.testing.assert_array_equal(ids[3], [2, 5, 3, 0, 0, 0])


def test_lower_standardisation_keeps_punctuation_tokens():
    vocabulary = ["", "[UNK]", "good", "n't", ",", "!"]
    model = build_transformer_encoder_classifier(vocabulary, CLASSES, standardize="lower", max_length=6,
                                                 num_heads=2, hidden_dim=8, ff_dim=16)
    np.testing.assert_array_equal(_np(model.preprocessor(["GOOD , n't good!"])), [[2, 4, 3, 1, 0, 0]])
    with pytest.raises(ValueError, match="standardize"):
        build_transformer_encoder_classifier(VOCAB, CLASSES, standardize="upper")


def test_preprocessor_inside_a_graph_has_a_static_shape():
    import tensorflow as tf

    if keras.backend.backend() != "tensorflow":
        pytest.skip("tf.function")
    model = _classifier()
    traced = tf.function(model.preprocessor).get_concrete_function(tf.TensorSpec([None], tf.string))
    assert traced.output_shapes.as_list() == [None, 6]


def test_classify_returns_labels_probabilities_tokens_and_attention():
    model = _classifier()
    texts = ["good movie", "", "zzz not bad", "a a a a a a a a"]
    with pytest.warns(UserWarning, match="1 of the texts have more than max_length=6"):
        result = model.classify(texts, return_attention=True)
    assert all(label in CLASSES for label in result["labels"])
    assert result["probabilities"].shape == (4, 2)
    assert np.all(np.isfinite(result["probabilities"]))
    assert result["tokens"] == [["good", "movie"], [], ["[UNK]", "not", "bad"], ["a"] * 6]
    assert [a.shape for a in result["attention"]] == [(2, 2, 2), (2, 0, 0), (2, 3, 3), (2, 6, 6)]
    np.testing.assert_allclose(result["attention"][2].sum(-1), 1.0, rtol=1e-5)
    logits = _np(model(model.preprocessor(texts)))
    np.testing.assert_allclose(result["probabilities"], _np(keras.ops.softmax(logits)), rtol=1e-5)
    with pytest.raises(ValueError, match="not one string"):
        model.classify("good movie")


def test_weights_file_holds_the_network_only(tmp_path):
    """The vocabulary is an asset file, not part of the weights: the same
    weights load into a model built with the same vocabulary."""
    model = _classifier()
    path = str(tmp_path / "model.weights.h5")
    model.save_weights(path)
    other = _classifier()
    other.load_weights(path)
    ids = np.array([[2, 4, 5, 0, 0, 0]], "int32")
    np.testing.assert_array_equal(_np(other(ids)), _np(model(ids)))


def test_keras_file_round_trip_keeps_vocabulary_and_classes(tmp_path):
    model = _classifier()
    path = str(tmp_path / "model.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path)
    assert isinstance(reloaded, TransformerEncoderClassifier)
    assert reloaded.vocabulary == VOCAB and reloaded.class_names == CLASSES
    assert reloaded.classify(["good movie"])["labels"] == model.classify(["good movie"])["labels"]


@pytest.mark.parametrize("kwargs, match", [
    (dict(hidden_dim=9, num_heads=2), "divisible"),
    (dict(num_layers=0), "num_layers"),
    (dict(dropout=1.0), "dropout"),
    (dict(merge="sum"), "merge"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _classifier(**kwargs)


def test_bad_vocabulary_and_class_names(tmp_path):
    with pytest.raises(ValueError, match="must start with"):
        build_transformer_encoder_classifier(["good", "bad"], CLASSES)
    with pytest.raises(ValueError, match="at least 2 distinct"):
        build_transformer_encoder_classifier(VOCAB, ["positive"])
    with pytest.raises(FileNotFoundError, match="class_names"):
        build_transformer_encoder_classifier(VOCAB, str(tmp_path / "labels.txt"))
    (tmp_path / "labels.txt").write_text("neg\npos\n")
    assert _classifier().class_names == CLASSES
    assert build_transformer_encoder_classifier(
        VOCAB, str(tmp_path / "labels.txt"), hidden_dim=8, num_heads=2).class_names == ["neg", "pos"]


# --- subwords (character n-grams of each word) --------------------------------

def _subword_classifier(**kwargs):
    subwords = subword_vocabulary(VOCAB[2:], (3, 4))
    return _classifier(subwords=subwords, subword_lengths=(3, 4), **kwargs)


def test_char_ngrams_are_fasttexts_and_the_vocabulary_starts_with_none():
    grams = char_ngrams(tf.constant(["where", "a"]), (3, 4)).to_list()
    assert [g.decode() for g in grams[0]] == ["<wh", "whe", "her", "ere", "re>",
                                              "<whe", "wher", "here", "ere>"]
    assert [g.decode() for g in grams[1]] == ["<a>"]
    subwords = subword_vocabulary(["good", "goods"], (3, 3))
    assert subwords == ["", "<go", "goo", "ood", "od>", "ods", "ds>"]  # first appearance, no repeats


@pytest.mark.parametrize("standardize", ["lower_and_strip_punctuation", "lower"])
def test_the_preprocessor_reads_words_as_keras_text_vectorization_and_subwords_alike(standardize):
    """The ids are those of keras' TextVectorization with the same
    standardisation (the shipped vocabulary was built by it), and row t of
    the n-gram ids belongs to token t: both tokenizers split one text."""
    texts = ["It's a GOOD,  good movie!", "  ", "don't -- stop ... ok", "ÉTÉ à Paris"]
    vectorizer = keras.layers.TextVectorization(standardize=standardize, split="whitespace")
    vectorizer.adapt(texts)
    vocabulary = vectorizer.get_vocabulary()
    expected = _np(vectorizer(texts))  # [B, longest], 0-padded
    preprocessor = TransformerEncoderPreprocessor(
        vocabulary, expected.shape[1], standardize, subwords=subword_vocabulary(vocabulary[2:], (3, 3)),
        subword_lengths=(3, 3))
    inputs, lengths = preprocessor.tokenize(texts)
    np.testing.assert_array_equal(_np(inputs["token_ids"]), expected)
    np.testing.assert_array_equal(_np(lengths), (expected > 0).sum(1))
    np.testing.assert_array_equal((_np(inputs["subword_ids"]) > 0).any(-1), expected > 0)


def test_subword_embedding_matches_the_formula():
    """x_t = [w_t != UNK] E[w_t] + Σ_g Z[g] / sqrt(|G_t|) + P[t]; id 0 = none."""
    layer = TokenAndPositionEmbedding(len(VOCAB), max_length=5, embedding_dim=4,
                                      subword_vocabulary_size=6)
    ids = np.array([[2, 1, 0]], "int32")
    grams = np.array([[[1, 2, 0], [3, 4, 5], [0, 0, 0]]], "int32")
    out = _np(layer(ids, grams))
    E, Z = _np(layer.token_embedding.embeddings), _np(layer.subword_embedding.embeddings)
    P = _np(layer.position_embedding.embeddings)
    expected = np.stack([E[2] + (Z[1] + Z[2]) / np.sqrt(2),  # a known word
                         (Z[3] + Z[4] + Z[5]) / np.sqrt(3),  # [UNK]: its n-grams alone
                         E[0]]) + P[:3]  # no n-gram: the word part only
    np.testing.assert_allclose(out[0], expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="subword_ids"):
        layer(ids)


def test_whole_word_dropout_drops_known_words_in_training_only():
    layer = TokenAndPositionEmbedding(3, max_length=400, embedding_dim=2, position_encoding="sinusoidal",
                                      subword_vocabulary_size=2, whole_word_dropout=0.25, seed=1,
                                      embeddings_initializer="ones")
    ids = np.full((1, 400), 2, "int32")
    grams = np.zeros((1, 400, 1), "int32")
    words = _np(layer(ids, grams, training=True) - layer(ids, grams))[0, :, 0] + 1  # 1 kept, 0 dropped
    assert set(np.round(words, 5)) == {0.0, 1.0}
    assert 0.18 < 1 - words.mean() < 0.32  # about a quarter dropped
    np.testing.assert_array_equal(_np(layer(ids, grams)), _np(layer(ids, grams)))


def test_classifier_with_subwords_reads_unseen_words_from_their_ngrams(tmp_path):
    model = _subword_classifier()
    inputs = model.preprocessor(["a good movie", "goodness"])
    assert set(inputs) == {"token_ids", "subword_ids"}
    assert inputs["token_ids"].shape == (2, 6) and inputs["subword_ids"].shape == (2, 6, 64)
    grams = _np(inputs["subword_ids"])
    assert _np(inputs["token_ids"])[1, 0] == 1  # "goodness" is not in the vocabulary...
    assert (grams[1, 0] > 0).sum() == 5  # ...but <go, goo, ood, <goo, good are n-grams of "good"
    assert (grams[:, 3:] == 0).all() and (grams[1, 1:] == 0).all()  # padding has none
    result = model.classify(["goodness", "a good movie"], return_attention=True)
    assert result["tokens"] == [["[UNK]"], ["a", "good", "movie"]]
    path = str(tmp_path / "model.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path)
    assert reloaded.subwords == model.subwords and reloaded.subword_lengths == (3, 4)
    np.testing.assert_allclose(_np(reloaded(inputs)), _np(model(inputs)), rtol=1e-6)


def test_bad_subword_arguments():
    subwords = subword_vocabulary(VOCAB[2:], (3, 4))
    with pytest.raises(ValueError, match="give both or neither"):
        _classifier(subwords=subwords)
    with pytest.raises(ValueError, match="subword_lengths"):
        _classifier(subwords=subwords, subword_lengths=(4, 3))
    with pytest.raises(ValueError, match='must start with ""'):
        _classifier(subwords=subwords[1:], subword_lengths=(3, 4))
    with pytest.raises(ValueError, match="whole_word_dropout"):
        _subword_classifier(whole_word_dropout=1.5)
