"""The seq2seq family: preprocessor, encoder masking, teacher forcing equal to
step-by-step decoding, beam search, and `translate` on any input."""

import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.models.seq2seq import (
    Seq2SeqDecoder,
    Seq2SeqEncoder,
    Seq2SeqPreprocessor,
    build_seq2seq_translator,
)
from zoo.models.seq2seq.seq2seq_preprocessor import standardize

SOURCE = ["", "[UNK]", "¿", "?", ".", "dónde", "está", "el", "perro", "corre", "no"]
TARGET = ["", "[UNK]", "[START]", "[END]", ".", "?", "where", "is", "the", "dog", "runs", "don't"]


def _translator(**kwargs):
    kwargs = dict(dict(embedding_dim=8, units=8, attention_units=6, max_target_length=7), **kwargs)
    keras.utils.set_random_seed(0)
    return build_seq2seq_translator(SOURCE, TARGET, **kwargs)


def _np(x):
    return keras.ops.convert_to_numpy(x)


def test_standardize_normalises_case_folds_and_splits_punctuation():
    texts = tf.constant(["¿Dónde ESTÁ?", "Don’t  go!", "It's 5.5% at 7:30.", "ＡＢＣ"])
    assert [t.decode() for t in standardize(texts).numpy()] == [
        "¿ dónde está ?", "don't go !", "it's 5.5 % at 7:30 .", "abc"]


def test_preprocessor_pairs_are_standardised_cut_and_marked():
    preprocessor = Seq2SeqPreprocessor(SOURCE, TARGET, max_source_length=3, max_target_length=4)
    source, target = preprocessor.pair(tf.constant("¿Dónde está el perro?"),
                                       tf.constant("Where is the cat?"))
    np.testing.assert_array_equal(source.numpy(), [2, 5, 6])  # cut to 3
    np.testing.assert_array_equal(target.numpy(), [2, 6, 7, 8, 1])  # [START] … cut before [END]
    assert source.dtype == target.dtype == tf.int32


def test_preprocessor_source_ids_fit_the_longest_and_keep_the_lengths():
    preprocessor = Seq2SeqPreprocessor(SOURCE, TARGET, max_source_length=4, max_target_length=4)
    ids, lengths = preprocessor.source_ids(["¿Dónde?", "", "el perro no corre no corre"])
    np.testing.assert_array_equal(ids.numpy(), [[2, 5, 3, 0], [0, 0, 0, 0], [7, 8, 10, 9]])
    np.testing.assert_array_equal(lengths.numpy(), [3, 0, 6])


def test_preprocessor_detokenizes_up_to_end_with_punctuation_attached():
    preprocessor = Seq2SeqPreprocessor(SOURCE, TARGET, max_source_length=4, max_target_length=4)
    text = preprocessor.detokenize(np.array([[2, 6, 7, 8, 9, 5, 3, 10],
                                             [11, 10, 4, 3, 0, 0, 0, 0]]))
    assert [t.decode() for t in text.numpy()] == ["where is the dog?", "don't runs."]


@pytest.mark.parametrize("source, target, match", [
    (["[UNK]", "a"], TARGET, "must start with"),
    (SOURCE, ["", "[UNK]", "a"], r"\[START\]"),
])
def test_preprocessor_rejects_a_malformed_vocabulary(source, target, match):
    with pytest.raises(ValueError, match=match):
        Seq2SeqPreprocessor(source, target, 4, 4)


@pytest.mark.parametrize("cell", ["gru", "lstm", "simple_rnn"])
def test_encoder_ignores_padding(cell):
    encoder = Seq2SeqEncoder(len(SOURCE), embedding_dim=6, units=8, cell=cell)
    short, summary = encoder(np.array([[5, 6, 8]], "int32"))
    padded, padded_summary = encoder(np.array([[5, 6, 8, 0, 0]], "int32"))
    np.testing.assert_allclose(_np(padded)[:, :3], _np(short), rtol=1e-5, atol=1e-6)
    assert len(summary) == (2 if cell == "lstm" else 1)
    for s, p in zip(summary, padded_summary):
        np.testing.assert_allclose(_np(p), _np(s), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kwargs", [
    dict(), dict(score="dot"), dict(score="bilinear"), dict(score="qkv"),
    dict(cell="lstm"), dict(cell="simple_rnn"), dict(use_attention=False),
], ids=lambda k: "-".join(map(str, k.values())) or "default")
def test_teacher_forcing_equals_step_by_step_decoding(kwargs):
    """The training graph (whole target at once) and `step` (what generate
    runs) compute the same logits and alignments."""
    model = _translator(**kwargs)
    source = np.array([[2, 5, 6, 7, 8, 3], [9, 10, 4, 0, 0, 0]], "int32")
    target = np.array([[2, 6, 7, 8, 9, 5], [2, 9, 10, 4, 0, 0]], "int32")
    out = model({"source_tokens": source, "target_tokens": target})
    annotations, summary = model.encoder(source)
    mask = source != 0
    decoder = model.decoder
    projected = decoder.project_annotations(annotations)
    state = decoder.initial_state(summary)
    for t in range(target.shape[1]):
        logits, alpha, state = decoder.step(annotations, mask, summary, projected, target[:, t],
                                            state)
        np.testing.assert_allclose(_np(logits), _np(out["logits"])[:, t], rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(_np(alpha), _np(out["attention"])[:, t], rtol=1e-4, atol=1e-6)
    alpha = _np(out["attention"])
    if kwargs.get("use_attention", True):
        np.testing.assert_allclose(alpha.sum(-1), 1.0, rtol=1e-5)
        assert np.all(alpha[1, :, 3:] == 0.0), "padding gets no attention"
    else:
        assert np.all(alpha == 0.0)


def _log_probabilities(model, source, tokens):
    """Σ_t log p(y_t | y_<t, x) of `tokens` (up to [END]) under teacher forcing."""
    total = []
    for i, row in enumerate(tokens):
        length = int(np.count_nonzero(row))
        decoder_input = np.concatenate([[model.start_id], row[:length - 1]])[None].astype("int32")
        logits = _np(model({"source_tokens": source[i:i + 1],
                            "target_tokens": decoder_input})["logits"])[0]
        logits[:, [0, model.start_id]] = -1e9  # never generated (as in beam_search)
        log_p = logits - np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1,
                                keepdims=True)) - logits.max(-1, keepdims=True)
        total.append(sum(log_p[t, row[t]] for t in range(length)))
    return np.array(total)


@pytest.mark.parametrize("beam_width", [1, 3])
def test_generate_scores_are_the_models_log_probabilities(beam_width):
    model = _translator()
    source = np.array([[2, 5, 6, 7, 8, 3], [9, 10, 4, 0, 0, 0]], "int32")
    out = model.generate(source, beam_width=beam_width, length_normalization=0.0)
    tokens = _np(out["tokens"])
    np.testing.assert_allclose(_np(out["scores"]), _log_probabilities(model, source, tokens),
                               rtol=1e-4, atol=1e-4)
    assert tokens.shape == (2, 7) and _np(out["attention"]).shape == (2, 7, 6)


def test_beam_search_is_at_least_as_likely_as_greedy():
    model = _translator()
    source = np.array([[2, 5, 6, 7, 8, 3], [9, 10, 4, 0, 0, 0], [5, 0, 0, 0, 0, 0]], "int32")
    greedy = _np(model.generate(source, 1, length_normalization=0.0)["scores"])
    beam = _np(model.generate(source, 4, length_normalization=0.0)["scores"])
    assert np.all(beam >= greedy - 1e-5)


def test_translate_any_input_with_alignments():
    model = _translator(max_source_length=6)
    texts = ["¿Dónde está el perro?", "", "perro " * 9, "zzz 😀 ¿qué?", b"el perro corre."]
    with pytest.warns(UserWarning, match="1 of the texts have more than max_source_length=6"):
        translations, alignments = model.translate(texts, beam_width=2, return_attention=True)
    assert len(translations) == 5 and all(isinstance(t, str) for t in translations)
    assert translations[1] == "" and alignments[1]["attention"].shape == (0, 0)
    assert alignments[0]["source"] == ["¿", "dónde", "está", "el", "perro", "?"]
    assert len(alignments[2]["source"]) == 6  # truncated
    assert alignments[3]["source"] == ["[UNK]", "[UNK]", "¿", "[UNK]", "?"]
    for alignment in alignments:
        m, n = len(alignment["target"]), len(alignment["source"])
        assert alignment["attention"].shape == (m, n)
        if m:
            np.testing.assert_allclose(alignment["attention"].sum(-1), 1.0, rtol=1e-5)
    with warnings.catch_warnings():
        # Nothing truncated: no truncation warning (a UserWarning; keras'
        # PyTorch backend raises a DeprecationWarning of NumPy 2 on its own).
        warnings.simplefilter("error", UserWarning)
        # Batch-mates do not change a translation (padding is masked).
        assert model.translate(texts[:2], beam_width=2) == translations[:2]
    with pytest.raises(ValueError, match="list of strings"):
        model.translate("¿Dónde?")


@pytest.mark.parametrize("make, match", [
    (lambda: Seq2SeqEncoder(10, units=7), "even"),
    (lambda: Seq2SeqEncoder(10, cell="transformer"), "cell"),
    (lambda: Seq2SeqDecoder(10, score="cosine"), "score"),
    (lambda: build_seq2seq_translator(SOURCE, TARGET[:3]), r"\[END\]"),
    (lambda: build_seq2seq_translator(SOURCE, TARGET, max_source_length=0), "max_source_length"),
    (lambda: build_seq2seq_translator(SOURCE, TARGET, units=8, score="dot", embedding_dim=4,
                                      attention_units=None, dropout=1.5), "dropout"),
])
def test_bad_arguments_name_the_argument(make, match):
    with pytest.raises(ValueError, match=match):
        make()
