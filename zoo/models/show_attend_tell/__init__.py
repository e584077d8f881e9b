"""Show, Attend and Tell family: `ImageEncoder`, `ShowAttendTellDecoder`,
`ShowAttendTellCaptioner`, `ShowAttendTellPreprocessor`, presets."""

from zoo.models.show_attend_tell.image_encoder import ENCODERS, ImageEncoder
from zoo.models.show_attend_tell.image_preprocessing import ImagePreprocessing
from zoo.models.show_attend_tell.show_attend_tell_captioner import ShowAttendTellCaptioner
from zoo.models.show_attend_tell.show_attend_tell_decoder import ShowAttendTellDecoder
from zoo.models.show_attend_tell.show_attend_tell_preprocessor import ShowAttendTellPreprocessor
from zoo.models.show_attend_tell.show_attend_tell_presets import (
    PRESETS,
    build_show_attend_tell_captioner,
    read_vocabulary,
)

__all__ = [
    "ENCODERS",
    "ImageEncoder",
    "ImagePreprocessing",
    "PRESETS",
    "ShowAttendTellCaptioner",
    "ShowAttendTellDecoder",
    "ShowAttendTellPreprocessor",
    "build_show_attend_tell_captioner",
    "read_vocabulary",
]
