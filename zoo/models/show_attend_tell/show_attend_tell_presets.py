"""Builder and presets of the Show, Attend and Tell family."""

from zoo._files import read_token_list
from zoo.models.show_attend_tell.image_encoder import ImageEncoder
from zoo.models.show_attend_tell.show_attend_tell_captioner import ShowAttendTellCaptioner
from zoo.models.show_attend_tell.show_attend_tell_decoder import ShowAttendTellDecoder


def read_vocabulary(vocabulary):
    """A vocabulary given as a list of tokens, or as a file with one per line."""
    return read_token_list("vocabulary", vocabulary)


def build_show_attend_tell_captioner(
    vocabulary,
    encoder="mobilenet_0.25",
    encoder_weights=None,
    image_size=224,
    trainable_encoder=False,
    embedding_dim=256,
    units=256,
    attention_units=128,
    score="additive",
    use_attention=True,
    dropout=0.5,
    attention_regularization=1.0,
    max_length=24,
):
    """A `ShowAttendTellCaptioner` from flat keyword arguments (what presets
    and `zoo.load(..., **overrides)` pass). `vocabulary`: a token list or a
    vocabulary file (one token per line, the empty padding token first)."""
    vocabulary = read_vocabulary(vocabulary)
    image_encoder = ImageEncoder(encoder, image_size=image_size, encoder_weights=encoder_weights,
                                 trainable_encoder=trainable_encoder, name="image_encoder")
    decoder = ShowAttendTellDecoder(
        len(vocabulary), embedding_dim=embedding_dim, units=units,
        attention_units=attention_units, score=score, use_attention=use_attention,
        dropout=dropout, attention_regularization=attention_regularization, name="decoder")
    return ShowAttendTellCaptioner(image_encoder, decoder, vocabulary, max_length=max_length,
                                   name="show_attend_tell_captioner")


PRESETS = {
    "show_attend_tell_flickr8k": dict(
        builder=build_show_attend_tell_captioner,
        # max_length: decoding steps; 98 % of the captions fit with [END].
        kwargs=dict(encoder="mobilenet_0.25", image_size=224, trainable_encoder=False,
                    embedding_dim=256, units=256, attention_units=128, score="additive",
                    use_attention=True, dropout=0.5, attention_regularization=1.0,
                    max_length=24),
        # The vocabulary ships next to the weights (savedmodels/<name>/).
        assets=dict(vocabulary="vocabulary.txt"),
        task="image captioning",
        paper="Xu et al., Show, Attend and Tell, ICML 2015",
        dataset="Flickr8k subset (800 images × 5 captions: 650 train / 50 val / 100 test)",
        target="corpus BLEU-1..4 on the test split, attention above the no-attention ablation",
        command="python -m pipelines.train show_attend_tell_flickr8k",
    ),
}
