"""Builder and presets of the seq2seq family (Spanish → English on Tatoeba)."""

from zoo._files import read_token_list
from zoo.models.seq2seq.seq2seq_decoder import Seq2SeqDecoder
from zoo.models.seq2seq.seq2seq_encoder import Seq2SeqEncoder
from zoo.models.seq2seq.seq2seq_translator import Seq2SeqTranslator


def build_seq2seq_translator(
    source_vocabulary,
    target_vocabulary,
    embedding_dim=256,
    units=512,
    cell="gru",
    score="additive",
    attention_units: int | None = None,
    use_attention=True,
    dropout=0.2,
    max_source_length=48,
    max_target_length=50,
):
    """A `Seq2SeqTranslator` from flat keyword arguments (what presets and
    `zoo.load(..., **overrides)` pass). The vocabularies: lists, or files
    with one token per line."""
    source_vocabulary = read_token_list("source_vocabulary", source_vocabulary)
    target_vocabulary = read_token_list("target_vocabulary", target_vocabulary)
    encoder = Seq2SeqEncoder(len(source_vocabulary), embedding_dim, units, cell=cell,
                             dropout=dropout, name="encoder")
    decoder = Seq2SeqDecoder(len(target_vocabulary), embedding_dim, units, cell=cell,
                             score=score, attention_units=attention_units,
                             use_attention=use_attention, dropout=dropout, name="decoder")
    return Seq2SeqTranslator(encoder, decoder, source_vocabulary, target_vocabulary,
                             max_source_length=max_source_length,
                             max_target_length=max_target_length, name="seq2seq_translator")


# The architecture of both entries (they differ in use_attention only): 256
# units (512 stayed at a language model's level, see the config's docstring).
_ARCHITECTURE = dict(embedding_dim=256, units=256, cell="gru", score="additive",
                     attention_units=None, dropout=0.2, max_source_length=48,
                     max_target_length=50)

_COMMON = dict(
    builder=build_seq2seq_translator,
    # Both vocabularies ship next to the weights (savedmodels/<name>/).
    assets=dict(source_vocabulary="source_vocabulary.txt",
                target_vocabulary="target_vocabulary.txt"),
    task="translation",
    dataset="Tatoeba spa-eng (manythings.org, 118,964 pairs; test: line % 50 == 0)",
)

PRESETS = {
    "seq2seq_attn_spa_eng": dict(
        _COMMON,
        kwargs=dict(_ARCHITECTURE, use_attention=True),
        paper="Bahdanau et al., ICLR 2015; Luong et al., EMNLP 2015 (attention on the "
              "decoder's current state)",
        target="test BLEU >= 40.0 (lower-cased sacreBLEU); beats seq2seq_spa_eng",
        command="python -m pipelines.train seq2seq_attn_spa_eng",
    ),
    "seq2seq_spa_eng": dict(
        _COMMON,
        kwargs=dict(_ARCHITECTURE, use_attention=False),
        paper="Sutskever et al., NeurIPS 2014; Cho et al., EMNLP 2014 (c = h_n)",
        target="the lecture's baseline without attention",
        command="python -m pipelines.train seq2seq_spa_eng",
    ),
}
