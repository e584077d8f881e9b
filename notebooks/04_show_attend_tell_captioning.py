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
# # Show, Attend and Tell (Flickr8k subset): train, evaluate, export
#
# `show_attend_tell_flickr8k` is the soft-attention captioner of Xu et al.
# (2015): a frozen ImageNet MobileNet (alpha 0.25) turns a 224 × 224 image
# into a 7 × 7 grid of annotation vectors a_1 … a_49; at each step t an LSTM
# attends to them with additive attention,
#
# α_ti = softmax_i wᵀ tanh(U a_i + V h_{t-1}),   z_t = β_t Σ_i α_ti a_i,
#
# (β_t a learned gate) and writes the next word; a doubly stochastic
# regulariser pushes every region to get attention over the caption. Beam
# search runs in the graph. This notebook trains it with
# `python -m pipelines.train`, evaluates BLEU-1..4, shows where each word
# looked and exports a SavedModel for TF Serving.
#
# **Hardware**: `--backend auto` trains on a TPU when one is attached
# (Colab: Runtime → Change runtime type) with the JAX backend, since Colab's
# TPU runtimes ship JAX and there is no TPU build of our TensorFlow; else
# with TensorFlow on the GPUs, else on the CPU. The setup cell says which.
# The full training takes about 1.5 minutes on 2 CPU cores.
#
# **In Colab**: set `REPO_URL` to the git URL of attention-zoo and run all
# cells. If pip asks for it, restart the session and run the cells again.

# %%
import os
import pathlib
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # quieter TensorFlow start-up
SMOKE = os.environ.get("ZOO_NOTEBOOK_SMOKE") == "1"  # CI: a tiny run on CPU, outputs in a temp folder
IN_COLAB = "google.colab" in sys.modules
REPO_URL = ""  # @param {type:"string"}
BACKEND = "auto"  # @param ["auto", "tensorflow", "jax"]
FLICKR8K_DIR = ""  # @param {type:"string"}


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

from pipelines import backends
from pipelines.notebook import run, work_dir  # importable now that we stand in the checkout

if SMOKE:  # CI also runs a notebook on JAX
    BACKEND = os.environ.get("ZOO_NOTEBOOK_BACKEND", BACKEND)
print("training backend:", backends.explain(BACKEND))

WORK = work_dir(SMOKE)  # everything this notebook writes; zoo.load reads WORK/weights
print("attention-zoo at", ROOT, "| outputs in", WORK, "| smoke mode" if SMOKE else "")

# %% [markdown]
# ## Data: provide the Flickr8k subset yourself
#
# The subset (800 Flickr8k images with 5 captions each: 650 train, 50
# validation, 100 test by a fixed hash of the file names) has no public
# download: Flickr8k is distributed by the University of Illinois for
# research, non-commercial use (Hodosh, Young, Hockenmaier, JAIR 2013).
# Put a folder holding
#
# - `images/<name>.jpg`
# - `captions.txt`: CSV with the header `image,caption`, one row per caption
#   (quote captions that contain commas)
# - optionally `SHA256SUMS` (`sha256sum` format, verified when present)
#
# in Google Drive, mount it (`from google.colab import drive;
# drive.mount("/content/drive")`) and set `FLICKR8K_DIR` to it, e.g.
# `/content/drive/MyDrive/flickr8k`. Without `FLICKR8K_DIR` the loader looks
# in `$ZOO_DATA_DIR/flickr8k` and `~/.cache/attention_zoo/flickr8k`.
# The MobileNet ImageNet weights are downloaded by Keras (or read from
# `$ZOO_PRETRAINED_DIR`).

# %%
# %matplotlib inline
import zoo
from pipelines.data import flickr8k
from zoo import viz

dataset = flickr8k.load_flickr8k(FLICKR8K_DIR or None)  # a missing folder: the error says what to put where
print({split: len(names) for split, names in dataset.splits.items()}, "images in", dataset.folder)
print(dataset.captions[dataset.splits["test"][0]])
data_args = ["--data-dir", FLICKR8K_DIR] if FLICKR8K_DIR else []

# %% [markdown]
# ## Train
#
# The CNN features are computed once per image; the decoder trains on them
# (teacher forcing, Adam, early stopping on the validation loss).
# TensorBoard gets the losses and, every few epochs, the captions and
# per-word attention overlays of fixed validation images
# (`WORK/logs/show_attend_tell_flickr8k`); a backup lets a second run of the
# cell resume. Weights, vocabulary and a metrics card go to
# `WORK/weights/show_attend_tell_flickr8k`.

# %%
if IN_COLAB:  # TensorBoard inside the notebook; refresh it while training runs
    get_ipython().run_line_magic("load_ext", "tensorboard")
    get_ipython().run_line_magic("tensorboard", f"--logdir {WORK / 'logs'}")

# %%
NAME = "show_attend_tell_flickr8k"
smoke_args = ["--epochs", "1"] if SMOKE else []
run("-m", "pipelines.train", NAME, "--backend", BACKEND, *data_args, *smoke_args,
    "--logdir", WORK / "logs" / NAME, "--output-dir", WORK / "weights" / NAME)

# %% [markdown]
# ## Evaluate
#
# Corpus BLEU-1..4 (sacreBLEU) on the 100 test images against their 5
# references, greedy and beam-3 decoding (the shipped weights measure
# BLEU-4 11.3 with beam 3; the paper's 19.5 used 6,000 training images).

# %%
run("-m", "pipelines.evaluate", NAME, *data_args, "--output", WORK / f"{NAME}_metrics.json")

# %% [markdown]
# ## Where each word looked
#
# `caption(..., return_attention=True)` returns each word's α over the
# 7 × 7 regions; the overlay dims the regions the word did not look at.
# After a smoke run (one epoch) the captions are generic.

# %%
captioner = zoo.load(NAME)  # the model just trained (ZOO_WEIGHTS_DIR)
image_path = dataset.image_paths("test")[0]
image = flickr8k.load_image(str(image_path), 224).numpy()  # [224, 224, 3] float in [0, 255]
captions, maps = captioner.caption(image[None], beam_width=3, return_attention=True)
words = (captions[0].split() + ["[END]"])[:len(maps[0])]  # [END] has a map when decoding reached it
viz.plot_image_attention(image.astype("uint8"), maps[0], words, title=captions[0])

# %% [markdown]
# ## Export for TF Serving
#
# `python -m pipelines.export` writes `WORK/export/show_attend_tell_flickr8k/1/`,
# a SavedModel whose `serving_default` takes `image_bytes` (string `[B]`:
# JPEG, PNG, GIF or BMP of any size) and returns `caption`, `attention`
# `[B, T, 7, 7]` and `error` (why an item could not be decoded, else empty).
# Decoding, the CNN and beam search run in the graph; it loads with plain
# TensorFlow, without this project:

# %%
import tensorflow as tf

run("-m", "pipelines.export", NAME, "--output-dir", WORK / "export")
serving = tf.saved_model.load(str(WORK / "export" / NAME / "1")).signatures["serving_default"]
served = serving(image_bytes=tf.constant([pathlib.Path(image_path).read_bytes(), b"not an image"]))
print([text.decode() for text in served["caption"].numpy()])
print([text.decode() for text in served["error"].numpy()])

# %% [markdown]
# ## Next
#
# - Serve it: `docker run -p 8501:8501 -v "$PWD/runs/notebooks/export/show_attend_tell_flickr8k:/models/captioner"
#   -e MODEL_NAME=captioner tensorflow/serving`, then send base64 images
#   (see the README's `curl` example).
# - In Colab, `WORK` is lost with the session: copy it to Google Drive.
# - Attention vs the same decoder without it:
#   `python -m benchmarks.captioning_attention --output captioning.json`.
