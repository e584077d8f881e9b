"""ImageEncoder: a keras.applications CNN as the captioner's annotation grid."""

import os
from pathlib import Path

import keras

from zoo._files import sha256_of
from zoo._validation import assert_choice, assert_positive_int
from zoo.models.show_attend_tell.image_preprocessing import ImagePreprocessing

# name -> (keras.applications constructor, extra kwargs, preprocessing mode,
# the file name Keras caches its ImageNet no-top weights under at 224 px).
ENCODERS = {
    "mobilenet_0.25": ("MobileNet", {"alpha": 0.25}, "tf", "mobilenet_2_5_224_tf_no_top.h5"),
    "mobilenet": ("MobileNet", {}, "tf", "mobilenet_1_0_224_tf_no_top.h5"),
    "mobilenet_v2": ("MobileNetV2", {}, "tf", None),
    "resnet50": ("ResNet50", {}, "caffe", None),
    "inception_v3": ("InceptionV3", {}, "tf", None),
    "efficientnet_b0": ("EfficientNetB0", {}, "none", None),
}

# sha256 of weight files we have checked (Keras does not verify these).
KNOWN_WEIGHTS = {
    "mobilenet_2_5_224_tf_no_top.h5":
        "dbdb03ee2a22fd895301636cd328b234bb3a9952358f436d82f46b81e0d5b0bf",
}
PRETRAINED_ENV_VAR = "ZOO_PRETRAINED_DIR"


def resolve_encoder_weights(encoder, weights):
    """What to pass as `weights=` to the keras.applications constructor.

    ``"imagenet"`` is looked up, by the file name Keras uses, in
    ``$ZOO_PRETRAINED_DIR`` and then in the Keras cache (``$KERAS_HOME/models``
    or ``~/.keras/models``); a file found is checked against its known sha256
    and passed by path, so no network is needed. If neither holds it, Keras
    downloads it. A path is checked the same way when its name is known.

    Raises:
        FileNotFoundError: `weights` is a path that does not exist.
        ValueError: a weights file fails its known sha256 (corrupt or replaced).
    """
    if weights is None:
        return None
    file_name = ENCODERS[encoder][3]
    if weights == "imagenet":
        folders = [os.environ.get(PRETRAINED_ENV_VAR),
                   os.path.join(os.environ.get("KERAS_HOME", "~/.keras"), "models")]
        found = [Path(f).expanduser() / file_name for f in folders if f and file_name]
        found = [p for p in found if p.is_file()]
        if not found:
            return "imagenet"  # Keras downloads it.
        path = found[0]
    else:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise FileNotFoundError(
                f"`encoder_weights` must be None, 'imagenet' or an existing weights file. "
                f"Received: encoder_weights={weights!r} (no such file)."
            )
    expected = KNOWN_WEIGHTS.get(path.name)
    if expected and sha256_of(path) != expected:
        raise ValueError(
            f"The encoder weights file {path} does not match its known sha256 "
            f"{expected}: it is corrupt or truncated. Delete it and download it again."
        )
    return str(path)


@keras.saving.register_keras_serializable(package="zoo")
class ImageEncoder(keras.Model):
    """Image `[B, S, S, 3]` (RGB in [0, 255]) → annotation vectors `[B, L, D]`.

    Xu et al. (2015) caption from L = h·w annotation vectors a_i ∈ R^D, the
    last convolutional feature map of an ImageNet CNN, so that each a_i
    describes one region of the image. Any `keras.applications` CNN listed
    in `ENCODERS` works; its ImageNet input scaling is part of the model.

    Args:
        encoder: a name in `ENCODERS`, e.g. ``"mobilenet_0.25"`` (offline
            default: 218k parameters, a 7 × 7 × 256 grid at 224 px).
        image_size: side S of the square input.
        encoder_weights: None (random), ``"imagenet"`` or a weights file
            path; see `resolve_encoder_weights`. Not saved in the config: a
            saved model carries its weights.
        trainable_encoder: fine-tune the CNN (frozen by default, which also
            keeps its batch normalisation in inference mode).

    Example:

    >>> encoder = ImageEncoder("mobilenet_0.25", image_size=224)
    >>> encoder(np.zeros((1, 224, 224, 3))).shape
    (1, 49, 256)
    """

    def __init__(self, encoder="mobilenet_0.25", image_size=224, encoder_weights=None,
                 trainable_encoder=False, **kwargs):
        assert_choice("encoder", encoder, tuple(ENCODERS))
        assert_positive_int("image_size", image_size)
        constructor, extra, mode, _ = ENCODERS[encoder]
        images = keras.Input((image_size, image_size, 3), name="images")
        x = ImagePreprocessing(mode, name="preprocessing")(images)
        cnn = getattr(keras.applications, constructor)(
            include_top=False, weights=resolve_encoder_weights(encoder, encoder_weights),
            input_shape=(image_size, image_size, 3), **extra)
        cnn.trainable = trainable_encoder
        grid = cnn(x)  # [B, h, w, D]
        _, h, w, d = grid.shape
        annotations = keras.layers.Reshape((h * w, d), name="annotations")(grid)  # -> [B, L, D]
        super().__init__(inputs=images, outputs=annotations, **kwargs)
        self.encoder = encoder
        self.image_size = image_size
        self.trainable_encoder = trainable_encoder
        self.grid_shape = (h, w)
        self.feature_dim = d

    def get_config(self):
        return {
            "name": self.name,
            "encoder": self.encoder,
            "image_size": self.image_size,
            "trainable_encoder": self.trainable_encoder,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
