"""The three text families' preprocessors share one design (issue 19 item 2):
a `WordTokenizer` with the same special tokens, TensorFlow ops that run in
tf.data on every Keras backend, and models that take the integer ids."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.models.seq2seq import Seq2SeqPreprocessor
from zoo.models.show_attend_tell import ShowAttendTellPreprocessor
from zoo.models.transformer_encoder import TransformerEncoderPreprocessor
from zoo.models.word_tokenizer import END, PAD, SPECIAL_TOKENS, START, UNK, WordTokenizer

WORDS = ["a", "dog", "runs", "."]
GENERATED = [PAD, UNK, START, END, *WORDS]  # targets and captions
READ = [PAD, UNK, *WORDS]  # sources and classified texts
TEXTS = ["A dog runs.", "", "a cat"]

PREPROCESSORS = {
    "translation source": lambda: (
        lambda texts: Seq2SeqPreprocessor(READ, GENERATED, 6, 6).source_ids(texts)[0]),
    "text classification": lambda: TransformerEncoderPreprocessor(READ, 6),
    "captions": lambda: ShowAttendTellPreprocessor(GENERATED, 6),
}


def test_the_special_tokens_are_one_set_at_fixed_ids():
    assert SPECIAL_TOKENS == ("", "[UNK]", "[START]", "[END]")
    tokenizer = WordTokenizer(GENERATED, add_start_end=True)
    assert (tokenizer.start_id, tokenizer.end_id) == (2, 3)
    assert tokenizer(tf.constant(["a zebra"])).to_list() == [[2, 4, 1, 3]]


@pytest.mark.parametrize("name", sorted(PREPROCESSORS))
def test_a_preprocessor_gives_the_same_ids_in_tf_data_as_eagerly(name):
    """tf.data runs it as TensorFlow ops whatever the backend; eagerly it
    gives ids the active backend's model can take."""
    preprocessor = PREPROCESSORS[name]()
    eager = keras.ops.convert_to_numpy(preprocessor(TEXTS))
    [mapped] = tf.data.Dataset.from_tensor_slices(TEXTS).batch(len(TEXTS)).map(preprocessor)
    assert isinstance(mapped, tf.Tensor)
    np.testing.assert_array_equal(mapped.numpy(), eager)
    assert eager.dtype == np.int32 and eager[1].max() <= 3  # "" gives at most [START] [END]
    assert (eager == 1).any()  # "cat" is unknown in every vocabulary


@pytest.mark.parametrize("vocabulary", [["a", PAD, UNK], [UNK, PAD, "a"], [PAD, "a", UNK]])
def test_every_family_refuses_a_vocabulary_without_padding_and_unk_first(vocabulary):
    for make in (lambda: Seq2SeqPreprocessor(vocabulary, GENERATED, 4, 4),
                 lambda: TransformerEncoderPreprocessor(vocabulary, 4),
                 lambda: ShowAttendTellPreprocessor(vocabulary + [START, END], 4)):
        with pytest.raises(ValueError, match=r"must start with '' \(padding\) and '\[UNK\]'"):
            make()
