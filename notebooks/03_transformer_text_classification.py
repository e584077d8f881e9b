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
# # Self-attention text classification (SST-2): train, evaluate, export
#
# `transformer_encoder_sst2` is a transformer encoder trained from scratch:
# token + learned position embeddings, 2 post-norm encoder blocks (d 128,
# 4 self-attention heads concatenated, feed-forward 512), masked mean pooling
# and a softmax head. Each head computes, for the words h_1 … h_n of one
# sentence, α_ti = softmax_i (K h_i)ᵀ(Q h_t) / √d and c_t = Σ_i α_ti V h_i.
# The data is SST-2 sentence sentiment (67,349 training phrases, 872 dev and
# 1,821 test sentences). This notebook trains with `python -m pipelines.train`,
# evaluates, plots the self-attention and exports a SavedModel for TF Serving.
# To train the same model on your own labelled texts, set `TRAIN_FILE` and
# `VALIDATION_FILE` below (TSV with a header row).
#
# **Hardware**: `--backend auto` trains on a TPU when one is attached
# (Colab: Runtime → Change runtime type) with the JAX backend, since Colab's
# TPU runtimes ship JAX and there is no TPU build of our TensorFlow; else
# with TensorFlow on the GPUs, else on the CPU. The setup cell says which.
# The full training (3 epochs) takes about 2 minutes on 2 CPU cores.
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
TRAIN_FILE = ""  # @param {type:"string"}
VALIDATION_FILE = ""  # @param {type:"string"}
TEXT_COLUMN = "sentence"  # @param {type:"string"}
LABEL_COLUMN = "label"  # @param {type:"string"}


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
# ## Data
#
# The SST-2 loader reads `$ZOO_DATA_DIR/sst2` when set, else downloads the
# labelled files into `~/.cache/attention_zoo` (sha256-checked). Your own
# TSV files may hold labels as integers or strings; the class names ship
# with the model (`labels.txt`). In smoke mode the notebook trains on small
# files cut from SST-2 (800 training and 200 dev sentences), written the
# same way.

# %%
# %matplotlib inline
import zoo
from pipelines.data.text_classification import load_sst2
from zoo import viz

sst2 = load_sst2()
print({split: len(texts) for split, texts in sst2.texts.items()}, sst2.class_names)


def write_tsv(path, texts, labels):
    """A TSV file as `--train-file` reads it: a header row, then label<TAB>text (no quoting)."""
    with open(path, "w", encoding="utf-8") as f:
        f.write("label\tsentence\n")
        f.writelines(f"{sst2.class_names[label]}\t{text}\n" for text, label in zip(texts, labels))


if SMOKE and not TRAIN_FILE:
    TRAIN_FILE, VALIDATION_FILE = str(WORK / "smoke_train.tsv"), str(WORK / "smoke_dev.tsv")
    write_tsv(TRAIN_FILE, sst2.texts["train"][:800], sst2.labels["train"][:800])
    write_tsv(VALIDATION_FILE, sst2.texts["validation"][:200], sst2.labels["validation"][:200])

# %% [markdown]
# ## Train
#
# AdamW with warm-up and cosine decay, length-bucketed batches, the epoch
# with the best validation accuracy kept. TensorBoard gets the losses,
# the learning rate and the self-attention heatmaps of fixed dev sentences
# (`WORK/logs/transformer_encoder_sst2`); a backup lets a second run of the
# cell resume. Weights, vocabulary, class names and a metrics card go to
# `WORK/weights/transformer_encoder_sst2`.

# %%
if IN_COLAB:  # TensorBoard inside the notebook; refresh it while training runs
    get_ipython().run_line_magic("load_ext", "tensorboard")
    get_ipython().run_line_magic("tensorboard", f"--logdir {WORK / 'logs'}")

# %%
NAME = "transformer_encoder_sst2"
data_args = (["--train-file", TRAIN_FILE, "--validation-file", VALIDATION_FILE,
              "--text-column", TEXT_COLUMN, "--label-column", LABEL_COLUMN] if TRAIN_FILE else [])
smoke_args = ["--epochs", "1"] if SMOKE else []
run("-m", "pipelines.train", NAME, "--backend", BACKEND, *data_args, *smoke_args,
    "--logdir", WORK / "logs" / NAME, "--output-dir", WORK / "weights" / NAME)

# %% [markdown]
# ## Evaluate
#
# Accuracy and loss on the SST-2 dev and test sentences (the shipped weights
# measure 82.2 test accuracy; Kim's 2014 CNN-rand 82.7). A model trained on
# your own files has its validation (and test) scores in its metrics card.

# %%
if TRAIN_FILE and not SMOKE:
    print(zoo.info(NAME)["metrics"])
else:
    run("-m", "pipelines.evaluate", NAME, "--output", WORK / f"{NAME}_metrics.json")

# %% [markdown]
# ## Self-attention
#
# `classify(..., return_attention=True)` returns, with the labels and
# probabilities, the words the model read and the last block's attention
# `[heads, n, n]`; row t is where word t looked. After a smoke run (one
# epoch on 800 sentences) the model is close to chance.

# %%
classifier = zoo.load(NAME)  # the model just trained (ZOO_WEIGHTS_DIR)
sentences = ["a gorgeous , witty , seductive movie .",
             "the plot is nothing but boilerplate clichés from start to finish ."]
result = classifier.classify(sentences, return_attention=True)
for sentence, label, p in zip(sentences, result["labels"], result["probabilities"]):
    print(f"{label:>8} ({p.max():.2f})  {sentence}")
viz.plot_attention_heatmap(result["attention"][0].mean(0), result["tokens"][0], result["tokens"][0],
                           title="last block, mean of the heads")

# %% [markdown]
# ## Export for TF Serving
#
# `python -m pipelines.export` writes `WORK/export/transformer_encoder_sst2/1/`,
# a SavedModel whose `serving_default` takes `text` (string `[B]`,
# tokenised in the graph) and returns `label`, `class_name`,
# `probabilities`, `tokens` and `attention` `[B, heads, 64, 64]`. It loads
# with plain TensorFlow, without this project:

# %%
import tensorflow as tf

run("-m", "pipelines.export", NAME, "--output-dir", WORK / "export")
serving = tf.saved_model.load(str(WORK / "export" / NAME / "1")).signatures["serving_default"]
served = serving(text=tf.constant(sentences))
print([name.decode() for name in served["class_name"].numpy()], served["probabilities"].numpy().round(2))

# %% [markdown]
# ## Next
#
# - Serve it: `docker run -p 8501:8501 -v "$PWD/runs/notebooks/export/transformer_encoder_sst2:/models/sst2"
#   -e MODEL_NAME=sst2 tensorflow/serving`, then
#   `curl -d '{"instances": ["a witty movie ."]}' localhost:8501/v1/models/sst2:predict`.
# - In Colab, `WORK` is lost with the session: copy it to Google Drive.
