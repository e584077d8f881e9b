"""show_attend_tell_flickr8k: soft-attention captioner on the Flickr8k subset.

Run:
    ZOO_PRETRAINED_DIR=../shared/weights python -m pipelines.train show_attend_tell_flickr8k

(training settings only: the architecture, max_length included, is the
preset in zoo/models/show_attend_tell/show_attend_tell_presets.py;
`--set KEY=VALUE` overrides either, `python -m zoo info NAME` lists them.)
(`ZOO_PRETRAINED_DIR` holds the MobileNet 0.25 ImageNet weights file; without
it Keras downloads them.) The frozen MobileNet (alpha 0.25, 224 px) gives a
7 × 7 × 256 grid, computed once per image; the LSTM decoder trains on those
cached features with early stopping on the validation loss.

Expected: test BLEU-1..4 about 54/36/23/15 (beam 3; shipped, seed 0,
2026-12-07: 53.67/35.97/23.16/14.68); over 3 seeds BLEU-4 13.8 ± 1.5,
2.35 above the no-attention ablation, ahead on every seed
(`benchmarks/captioning_attention.py`). The measured
values are in savedmodels/show_attend_tell_flickr8k/metrics.json. The paper's
19.5 BLEU-4 used 6,000 training images and VGG; here 650 images and a 0.2M-
parameter CNN. A run takes about 1.5 minutes on 2 CPU cores (about 11 epochs).
"""

CONFIG = dict(
    task="captioning",
    dataset="flickr8k",
    encoder_weights="imagenet",
    min_count=2,        # words seen once in the train captions map to [UNK]
    batch_size=64,
    learning_rate=1e-3,
    clipnorm=5.0,
    max_epochs=60,
    patience=5,
    seed=0,
    logged_images=3,
    log_images_every=5,
)
# Settings whose default does not say their type: ImageNet weights, none, or a file.
TYPES = dict(encoder_weights=(str, type(None)))
