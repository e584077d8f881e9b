"""ShowAttendTellCaptioner: image → caption, with the attention of every word."""

import warnings

import keras
import numpy as np

from zoo._validation import assert_positive_int
from zoo.models.show_attend_tell.show_attend_tell_preprocessor import ShowAttendTellPreprocessor


@keras.saving.register_keras_serializable(package="zoo")
class ShowAttendTellCaptioner(keras.Model):
    """Show, Attend and Tell (Xu et al., 2015): CNN annotations + attending LSTM.

    The model's own call is the teacher-forced training graph; `generate`
    and `caption` decode (greedy or beam search) and return where each word
    looked. Captions become ids and ids captions in its `preprocessor` (a
    `ShowAttendTellPreprocessor`, as a keras-hub task holds one).

    Inputs (dict): ``images`` `[B, S, S, 3]` RGB in [0, 255], ``tokens`` int
    `[B, T]` (the caption from the start token, 0-padded).
    Outputs (dict): ``logits`` `[B, T, V]` for the next tokens, ``attention``
    `[B, T, L]` over the L = h·w regions.

    Args:
        encoder: an `ImageEncoder`.
        decoder: a `ShowAttendTellDecoder`.
        vocabulary: the token strings by id (id 0 is padding, then
            ``"[UNK]"``, ``"[START]"``, ``"[END]"``, words); its length is
            the decoder's vocabulary size.
        max_length: default number of decoding steps.

    Example:

    >>> model = zoo.load("show_attend_tell_flickr8k")
    >>> captions, maps = model.caption(images, beam_width=3, return_attention=True)
    >>> zoo.viz.plot_image_attention(images[0], maps[0], captions[0].split() + ["[END]"])
    """

    def __init__(self, encoder, decoder, vocabulary, max_length=24, **kwargs):
        vocabulary = [str(token) for token in vocabulary]
        assert_positive_int("max_length", max_length)
        # Built first: it checks the vocabulary (padding, [UNK], [START], [END]).
        preprocessor = ShowAttendTellPreprocessor(vocabulary, max_length)
        if len(vocabulary) != decoder.vocabulary_size:
            raise ValueError(
                f"`vocabulary` has {len(vocabulary)} tokens but the decoder predicts "
                f"vocabulary_size={decoder.vocabulary_size}."
            )
        images = keras.Input((encoder.image_size, encoder.image_size, 3), name="images")
        tokens = keras.Input((None,), dtype="int32", name="tokens")
        logits, attention = decoder(encoder(images), tokens)
        super().__init__(inputs={"images": images, "tokens": tokens},
                         outputs={"logits": logits, "attention": attention}, **kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.vocabulary = vocabulary
        self.max_length = max_length
        self.start_id = preprocessor.tokenizer.start_id
        self.end_id = preprocessor.tokenizer.end_id
        # Set through __dict__, outside keras' attribute tracking, so the
        # lookup table is not part of the weights file (the vocabulary ships
        # as an asset); built here, eagerly, because a table first made
        # inside a tf.data or tf.function graph could not be used outside it.
        self.__dict__["preprocessor"] = preprocessor

    def generate(self, images=None, beam_width=1, max_length=None, length_normalization=1.0,
                 annotations=None):
        """Token ids, attention and scores of the best caption per image.

        Pass `images` `[B, S, S, 3]`, or `annotations` `[B, L, D]` already
        computed by `self.encoder`. See `ShowAttendTellDecoder.generate`.
        """
        if (images is None) == (annotations is None):
            raise ValueError("Pass exactly one of `images` and `annotations`.")
        assert_positive_int("max_length", max_length, allow_none=True)
        if annotations is None:
            annotations = self.encoder(images)
        return self.decoder.generate(
            annotations, self.start_id, self.end_id, max_length or self.max_length,
            beam_width=beam_width, length_normalization=length_normalization)

    def caption(self, images, beam_width=3, max_length=None, return_attention=False):
        """Captions for a batch of images `[B, S, S, 3]` (RGB in [0, 255]).

        Pixels outside [0, 255] (16-bit images, negatives, 1e30), NaN and
        inf are refused with a ValueError naming the first one; images that
        look scaled to [0, 1] get a warning.

        Returns:
            A list of B strings; with `return_attention`, also a list of B
            arrays `[n, h, w]`: the map of each word, and of the end token
            when decoding reached it within `max_length` steps.
        """
        images = np.asarray(images)
        if images.ndim != 4 or images.shape[-1] != 3:
            raise ValueError("`images` must be [B, S, S, 3] RGB. "
                             f"Received: images with shape {images.shape}")
        size = self.encoder.image_size
        if images.shape[1:3] != (size, size):
            raise ValueError(f"`images` must be {size} × {size} (resize them first). "
                             f"Received: images with shape {images.shape}")
        if images.dtype.kind not in "uif":
            raise ValueError("`images` must hold RGB numbers in [0, 255]. "
                             f"Received: images.dtype={images.dtype}")
        if not len(images):
            return ([], []) if return_attention else []
        if not np.all(np.isfinite(images)):
            bad = np.argwhere(~np.isfinite(images))[0]
            raise ValueError(f"`images` must be finite; image {bad[0]} has {images[tuple(bad)]} at "
                             f"pixel {tuple(int(i) for i in bad[1:3])}, channel {bad[3]}.")
        outside = (images < 0) | (images > 255)  # uint16, negative, 1e30: garbage captions
        if np.any(outside):
            bad = np.argwhere(outside)[0]
            raise ValueError(
                f"`images` must hold RGB in [0, 255]; image {bad[0]} has {images[tuple(bad)].item()!r} at "
                f"pixel {tuple(int(i) for i in bad[1:3])}, channel {bad[3]}. Rescale them first (16-bit "
                "images: divide by 257).")
        if images.dtype.kind == "f" and images.max() <= 1.0 and images.max() > 0:
            warnings.warn("`images` look scaled to [0, 1]; the model expects RGB in [0, 255].",
                          stacklevel=2)
        result = self.generate(images, beam_width=beam_width, max_length=max_length)
        captions = self.preprocessor.captions(result["tokens"])
        if not return_attention:
            return captions
        h, w = self.encoder.grid_shape
        attention = keras.ops.convert_to_numpy(result["attention"])
        lengths = (keras.ops.convert_to_numpy(result["tokens"]) != 0).sum(-1)
        maps = [attention[i, :n].reshape(n, h, w)  # [n, L] -> [n, h, w]
                for i, n in enumerate(lengths)]
        return captions, maps

    def get_config(self):
        return {
            "name": self.name,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "vocabulary": self.vocabulary,
            "max_length": self.max_length,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        config["decoder"] = keras.saving.deserialize_keras_object(config["decoder"])
        return cls(**config)
