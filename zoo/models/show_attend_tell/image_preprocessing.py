"""ImagePreprocessing: the ImageNet input scaling each encoder was trained with."""

import keras
from keras import ops

from zoo._validation import assert_choice

# Mean and standard deviation of ImageNet RGB pixels, as keras.applications uses.
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)
MODES = ("tf", "torch", "caffe", "none")


@keras.saving.register_keras_serializable(package="zoo")
class ImagePreprocessing(keras.layers.Layer):
    """Maps RGB pixels in [0, 255] to what an ImageNet CNN expects.

    The modes of `keras.applications.imagenet_utils.preprocess_input`, as a
    layer so that the exported graph takes raw pixels:

    - ``"tf"``:    x / 127.5 − 1                       (MobileNet, Inception)
    - ``"torch"``: (x / 255 − mean) / std               (DenseNet)
    - ``"caffe"``: RGB → BGR, then x − mean_BGR          (ResNet50, VGG)
    - ``"none"``:  x unchanged (EfficientNet rescales inside the model)

    Written here rather than wrapping `preprocess_input` because that
    function is not a layer, so it would not be saved with the model.

    Args:
        mode: one of ``"tf"``, ``"torch"``, ``"caffe"``, ``"none"``.

    Example:

    >>> ImagePreprocessing("tf")(np.full((1, 2, 2, 3), 255.0))[0, 0, 0]
    [1.0, 1.0, 1.0]
    """

    def __init__(self, mode="tf", **kwargs):
        super().__init__(**kwargs)
        assert_choice("mode", mode, MODES)
        self.mode = mode

    def call(self, images):
        x = ops.cast(images, self.compute_dtype)
        if self.mode == "tf":
            return x / 127.5 - 1.0
        if self.mode == "torch":
            mean = ops.convert_to_tensor(_TORCH_MEAN, self.compute_dtype)
            std = ops.convert_to_tensor(_TORCH_STD, self.compute_dtype)
            return (x / 255.0 - mean) / std
        if self.mode == "caffe":
            mean = ops.convert_to_tensor(_CAFFE_MEAN_BGR, self.compute_dtype)
            return ops.flip(x, axis=-1) - mean  # RGB -> BGR
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}
