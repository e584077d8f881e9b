"""Seq2seq family: `Seq2SeqEncoder`, `Seq2SeqDecoder`, `Seq2SeqTranslator`,
`Seq2SeqPreprocessor`, presets."""

from zoo.models.seq2seq.seq2seq_decoder import Seq2SeqDecoder
from zoo.models.seq2seq.seq2seq_encoder import Seq2SeqEncoder
from zoo.models.seq2seq.seq2seq_preprocessor import Seq2SeqPreprocessor
from zoo.models.seq2seq.seq2seq_presets import PRESETS, build_seq2seq_translator
from zoo.models.seq2seq.seq2seq_translator import Seq2SeqTranslator

__all__ = [
    "PRESETS",
    "Seq2SeqDecoder",
    "Seq2SeqEncoder",
    "Seq2SeqPreprocessor",
    "Seq2SeqTranslator",
    "build_seq2seq_translator",
]
