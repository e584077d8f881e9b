# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # attention-zoo quickstart
#
# Load the trained zoo models with `zoo.load`, run them, and look at their
# attention with `zoo.viz`: a graph attention network on Cora, a transformer
# encoder on SST-2 sentiment, a Show, Attend and Tell captioner and the
# Spanish → English translator. A CPU runtime is enough;
# to train the models yourself, see the family notebooks in `notebooks/`.
#
# **In Colab**: set `REPO_URL` below to the git URL of attention-zoo and run
# all cells. The setup cell clones the repository and installs its pinned
# requirements (TensorFlow 2.21, Keras 3, tensorflow-text). If pip asks for it,
# restart the session (Runtime → Restart session) and run the cells again.
#
# **Locally**: start Jupyter from the repository (the `.venv` of the README).

# %%
import os
import pathlib
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # quieter TensorFlow start-up
SMOKE = os.environ.get("ZOO_NOTEBOOK_SMOKE") == "1"  # set by the CI notebook test
IN_COLAB = "google.colab" in sys.modules
REPO_URL = ""  # @param {type:"string"}


def find_checkout():
    """The attention-zoo folder this notebook runs in, or None."""
    for folder in (pathlib.Path.cwd(), *pathlib.Path.cwd().parents):
        if (folder / "zoo" / "registry.py").is_file():
            return folder
    return None


ROOT = find_checkout()
if ROOT is None and IN_COLAB:
    ROOT = pathlib.Path("/content/attention-zoo")
    if not ROOT.exists():
        if not REPO_URL:
            raise ValueError("Set REPO_URL (above) to the git URL of attention-zoo, then run this cell again.")
        subprocess.run(["git", "clone", "--depth", "1", REPO_URL, str(ROOT)], check=True)
if ROOT is None:
    raise RuntimeError("Start Jupyter inside a checkout of attention-zoo, or open this notebook in Colab.")
if IN_COLAB:
    # The package's version ranges (pyproject.toml), which Colab's TensorFlow, Keras and NumPy
    # satisfy as they are, so pip keeps them and pins nothing of the kernel's own (jupyter,
    # ipykernel). A TPU runtime has JAX and no TensorFlow: pip adds TensorFlow for tf.data and export.
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[serving]"],
                   check=True)
os.chdir(ROOT)  # `import zoo` and `python -m pipelines...` work from here
print("attention-zoo at", ROOT, "| smoke mode" if SMOKE else "")

# %%
# %matplotlib inline
import numpy as np

import zoo
from zoo import viz

zoo.list_models()

# %% [markdown]
# Every entry says what it is, which command trained it, and what it measured:

# %%
{name: zoo.info(name)["metrics"] for name in zoo.list_models()}

# %% [markdown]
# ## Graph attention on Cora
#
# `gat_cora` is the GAT of Veličković et al. (2018): two `GraphAttention`
# layers, α_ti = softmax over the neighbours i of t of LeakyReLU(aᵀ[W h_i ‖ W h_t]).
# With `return_attention=True` the model also returns α of each layer,
# `[E + N, heads]` (the edges, then each node's self-loop). The Cora loader
# downloads the Planetoid files (sha256-checked) unless `ZOO_DATA_DIR` holds them.

# %%
from pipelines.data.planetoid import load_planetoid

cora = load_planetoid("cora")
gat = zoo.load("gat_cora", return_attention=True)
out = gat({"node_features": cora.node_features, "edges": cora.edges})
predicted = np.argmax(out["probabilities"], axis=-1)
print(f"test accuracy: {np.mean(predicted[cora.test_index] == cora.labels[cora.test_index]):.3f}")

# %%
node = int(cora.test_index[0])
viz.plot_graph_attention(cora.edges, out["attention"][0], node=node, labels=cora.labels,
                         title=f"layer 1, mean of the 8 heads: attention of node {node}")

# %% [markdown]
# ## Self-attention: sentiment on SST-2
#
# `transformer_encoder_sst2` reads raw strings (its `TextVectorization` ships
# with it) and returns labels, probabilities and, on request, the last
# encoder block's self-attention `[heads, n, n]` over the n words it read.

# %%
classifier = zoo.load("transformer_encoder_sst2")
sentences = ["a gorgeous , witty , seductive movie .",
             "the plot is nothing but boilerplate clichés from start to finish ."]
result = classifier.classify(sentences, return_attention=True)
for sentence, label, p in zip(sentences, result["labels"], result["probabilities"]):
    print(f"{label:>8} ({p.max():.2f})  {sentence}")

# %%
viz.plot_attention_heatmap(result["attention"][0].mean(0), result["tokens"][0], result["tokens"][0],
                           title="last block, mean of the 4 heads")

# %% [markdown]
# ## Show, Attend and Tell: captions and where each word looked
#
# The captioner takes RGB images `[B, 224, 224, 3]` in [0, 255]; beam search
# runs in the graph. With `return_attention=True` it also returns each
# word's soft attention over the 7 × 7 grid of image regions. The picture is
# a test image of the Flickr8k subset when `ZOO_DATA_DIR` holds it, else a
# photo from TensorFlow's own captioning tutorial (downloaded).

# %%
import keras

from pipelines.data import flickr8k

try:
    image_path = flickr8k.load_flickr8k().image_paths("test")[0]
except flickr8k.DatasetNotFoundError:
    image_path = keras.utils.get_file("surf.jpg", "https://tensorflow.org/images/surf.jpg")
image = flickr8k.load_image(str(image_path), 224).numpy()  # [224, 224, 3] float in [0, 255]

captioner = zoo.load("show_attend_tell_flickr8k")
captions, maps = captioner.caption(image[None], beam_width=3, return_attention=True)
print(captions[0])

# %%
# One map per word, and one for [END] when decoding reached it.
words = (captions[0].split() + ["[END]"])[:len(maps[0])]
viz.plot_image_attention(image.astype("uint8"), maps[0], words, title=captions[0])

# %% [markdown]
# ## Translation with attention (Spanish → English)
#
# `seq2seq_attn_spa_eng` is a bi-GRU encoder and a GRU decoder with additive
# attention, trained on Tatoeba. Its alignment, α_ti of each English word t
# over the Spanish words i, is the heatmap of Bahdanau et al. (2015). Its
# weights were the last to ship: in a checkout without them the cell says how
# to train them (or see `02_seq2seq_translation`).

# %%
if zoo.info("seq2seq_attn_spa_eng")["weights_available"]:
    translator = zoo.load("seq2seq_attn_spa_eng")
    translations, alignments = translator.translate(["¿Dónde está la estación de tren?"],
                                                    return_attention=True)
    print(translations[0])
    display(viz.plot_attention_heatmap(alignments[0]["attention"], alignments[0]["target"],
                                       alignments[0]["source"], title=translations[0]))
else:
    print("No trained weights for seq2seq_attn_spa_eng yet; train them with:",
          zoo.info("seq2seq_attn_spa_eng")["command"])

# %% [markdown]
# ## Next
#
# - Train, evaluate and export each family (TPU, GPU or CPU):
#   `01_gat_cora`, `02_seq2seq_translation`, `03_transformer_text_classification`,
#   `04_show_attend_tell_captioning`.
# - The same from a shell: `python -m pipelines.train NAME`,
#   `python -m pipelines.evaluate NAME`, `python -m pipelines.export NAME`
#   (a SavedModel for TF Serving; see the README).
# - The attention layers themselves are in `zoo.layers`
#   (`Attention`, `MultiHeadAttention`, `SelfAttention`, `GraphAttention`, ...).
