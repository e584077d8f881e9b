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
# # Translation with attention (Spanish → English): train, evaluate, export
#
# `seq2seq_attn_spa_eng` is the lecture's seq2seq with attention: an
# embedding and a bidirectional GRU encode the Spanish sentence into h_1 … h_n;
# at each step t the GRU decoder weighs them with additive attention,
#
# a(h_i, h'_t) = wᵀ tanh(U h_i + V h'_t),   α_ti = softmax_i a(h_i, h'_t),   c_t = Σ_i α_ti h_i,
#
# and writes y_t = f_y(h'_t, y_{t-1}, c_t). Its baseline `seq2seq_spa_eng` is
# the same model without attention (c = h_n at every step): set `NAME` below
# to train it instead. The data is Tatoeba spa-eng (114,204 training pairs;
# test: every 50th line). This notebook trains with
# `python -m pipelines.train`, evaluates (BLEU and chrF, greedy and beam 4),
# plots the alignments and exports a SavedModel for TF Serving.
#
# **Hardware**: `--backend auto` trains on a TPU when one is attached
# (Colab: Runtime → Change runtime type) with the JAX backend, since Colab's
# TPU runtimes ship JAX and there is no TPU build of our TensorFlow; else
# with TensorFlow on the GPUs, else on the CPU. The setup cell says which.
# The full training (10 epochs over 114k pairs) is slow on a CPU: use a GPU
# or TPU runtime.
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
NAME = "seq2seq_attn_spa_eng"  # @param ["seq2seq_attn_spa_eng", "seq2seq_spa_eng"]
PAIRS_FILE = ""  # @param {type:"string"}


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
# The loader reads `$ZOO_DATA_DIR/tatoeba_spa_eng/spa.txt` when set, else
# downloads `spa-eng.zip` (manythings.org / Tatoeba, CC-BY 2.0 FR) into
# `~/.cache/attention_zoo` and checks the extracted file's sha256. To
# translate other languages, set `PAIRS_FILE` to a file in the same format
# (one `target<TAB>source` pair per line, as manythings.org's files): it is
# split by line index the same way (test: line i with i % 50 == 0,
# validation: i % 50 == 1). In smoke mode the notebook trains on a pair file
# cut from the first 2,000 training pairs.

# %%
# %matplotlib inline
import zoo
from pipelines.data import tatoeba
from zoo import viz

data = tatoeba.load_pairs_file(PAIRS_FILE) if PAIRS_FILE else tatoeba.load_tatoeba_spa_eng()
print(data)
for source, target in zip(data.sources["test"][1000:1003], data.targets["test"][1000:1003]):
    print(f"{source}  →  {target}")

if SMOKE and not PAIRS_FILE:
    PAIRS_FILE = str(WORK / "smoke_pairs.txt")
    with open(PAIRS_FILE, "w", encoding="utf-8") as f:
        for source, target in zip(data.sources["train"][:2000], data.targets["train"][:2000]):
            f.write(f"{target}\t{source}\n")

# %% [markdown]
# ## Train
#
# Teacher forcing with a masked cross-entropy, Adam with the learning rate
# halved when the validation loss stops improving, early stopping. TensorBoard
# gets the losses and, every epoch, the alignment heatmaps of fixed
# validation sentences (`WORK/logs/NAME`); a backup after every epoch lets a
# second run of the cell resume. The weights, both vocabularies and a
# metrics card (test BLEU and chrF) go to `WORK/weights/NAME`.

# %%
if IN_COLAB:  # TensorBoard inside the notebook; refresh it while training runs
    get_ipython().run_line_magic("load_ext", "tensorboard")
    get_ipython().run_line_magic("tensorboard", f"--logdir {WORK / 'logs'}")

# %%
data_args = ["--pairs", PAIRS_FILE] if PAIRS_FILE else []
smoke_args = ["--epochs", "1"] if SMOKE else []
run("-m", "pipelines.train", NAME, "--backend", BACKEND, *data_args, *smoke_args,
    "--logdir", WORK / "logs" / NAME, "--output-dir", WORK / "weights" / NAME)

# %% [markdown]
# ## Evaluate
#
# Lower-cased corpus sacreBLEU and chrF on the 2,380 Tatoeba test pairs,
# greedy and beam-4 decoding (the shipped `seq2seq_attn_spa_eng` weights
# measure BLEU 48.9 greedy, 50.4 beam 4). A model trained on `PAIRS_FILE`
# has its own test split's scores in its metrics card instead.

# %%
if PAIRS_FILE and not SMOKE:
    print(zoo.info(NAME)["metrics"])
else:
    run("-m", "pipelines.evaluate", NAME, "--output", WORK / f"{NAME}_metrics.json")

# %% [markdown]
# ## Alignments
#
# `translate(..., return_attention=True)` returns, per sentence, the source
# words read, the target words written and α `[target, source]`: each row
# is where the decoder looked while writing that word (Bahdanau et al.,
# 2015, Fig. 3). The baseline `seq2seq_spa_eng` attends to nothing (its α is
# all zeros). After a smoke run (one short epoch) the translations are still
# nonsense.

# %%
translator = zoo.load(NAME)  # the model just trained (ZOO_WEIGHTS_DIR)
sentences = data.sources["test"][1000:1003] or data.sources["test"][:3]  # (a small PAIRS_FILE)
translations, alignments = translator.translate(sentences, beam_width=4, return_attention=True)
for sentence, translation in zip(sentences, translations):
    print(f"{sentence}  →  {translation}")
viz.plot_attention_heatmap(alignments[0]["attention"], alignments[0]["target"], alignments[0]["source"],
                           title=translations[0])

# %% [markdown]
# ## Export for TF Serving
#
# `python -m pipelines.export` writes `WORK/export/NAME/1/`, a SavedModel
# whose `serving_default` takes `text` (string `[B]`) and returns
# `translation` (string `[B]`) and `attention` `[B, T_out, T_in]`.
# Tokenisation (tensorflow-text), greedy decoding and detokenisation run in
# the graph, so it loads with TensorFlow and tensorflow-text only:

# %%
import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the ops the graph uses)

run("-m", "pipelines.export", NAME, "--output-dir", WORK / "export")
serving = tf.saved_model.load(str(WORK / "export" / NAME / "1")).signatures["serving_default"]
served = serving(text=tf.constant(sentences))
for sentence, translation in zip(sentences, served["translation"].numpy()):
    print(f"{sentence}  →  {translation.decode()}")

# %% [markdown]
# ## Next
#
# - Serve it: `docker run -p 8501:8501 -v "$PWD/runs/notebooks/export/seq2seq_attn_spa_eng:/models/translator"
#   -e MODEL_NAME=translator tensorflow/serving` (TF Serving links the TF
#   Text ops), then
#   `curl -d '{"instances": ["¿Dónde está la estación?"]}' localhost:8501/v1/models/translator:predict`.
# - In Colab, `WORK` is lost with the session: copy it to Google Drive.
# - Compare the attention scores (dot, bilinear, additive, qkv) and the
#   no-attention baseline at an equal budget:
#   `python -m benchmarks.seq2seq_scores --output scores.json`.
