"""Prints, as JSON, what the five shipped entries give for a few fixed inputs
on the active Keras backend (KERAS_BACKEND); `test_shipped_on_every_backend`
runs it once per backend and compares.

    KERAS_BACKEND=jax ZOO_DATA_DIR=../shared/data python tests/zoo/models/shipped_outputs.py
"""

import json
import os
import sys

import keras
import numpy as np

import zoo

SENTENCES = ["¿Dónde está la biblioteca?", "No sé qué hacer.", "Tengo hambre."]
REVIEWS = ["a gorgeous, witty, seductive movie.", "dull, lifeless and far too long."]
IMAGES = ["1000268201_693b08cb0e.jpg", "1001773457_577c3a7d70.jpg"]


def translator_outputs(name):
    model = zoo.load(name)
    greedy, alignments = model.translate(SENTENCES, return_attention=True)
    return {"greedy": greedy, "beam4": model.translate(SENTENCES, beam_width=4),
            "attention": [a["attention"].tolist() for a in alignments]}


def main():
    from pipelines.data.planetoid import load_planetoid
    from pipelines.node_classification import evaluate

    data_dir = os.environ["ZOO_DATA_DIR"]
    outputs = {"backend": keras.backend.backend(),
               "gat_cora": evaluate(zoo.load("gat_cora"), load_planetoid("cora", data_dir=data_dir))}
    for name in ("seq2seq_attn_spa_eng", "seq2seq_spa_eng"):
        outputs[name] = translator_outputs(name)
    classified = zoo.load("transformer_encoder_sst2").classify(REVIEWS, return_attention=True)
    outputs["transformer_encoder_sst2"] = {
        "labels": classified["labels"], "probabilities": classified["probabilities"].tolist(),
        "attention": [a.tolist() for a in classified["attention"]]}
    captioner = zoo.load("show_attend_tell_flickr8k")
    size = captioner.encoder.image_size
    images = np.stack([keras.utils.img_to_array(keras.utils.load_img(
        os.path.join(data_dir, "flickr8k", "images", name), target_size=(size, size)))
        for name in IMAGES])  # [B, S, S, 3], RGB in [0, 255]
    captions, maps = captioner.caption(images, beam_width=3, return_attention=True)
    outputs["show_attend_tell_flickr8k"] = {"captions": captions, "attention": [m.tolist() for m in maps]}
    json.dump(outputs, sys.stdout)


if __name__ == "__main__":
    main()
