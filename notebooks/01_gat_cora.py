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
# # Graph attention on Cora: train, evaluate, export
#
# `gat_cora` is the two-layer graph attention network of Veličković et al.
# (2018) with the paper's hyperparameters (8 heads × 8 units with ELU, one
# averaged output head, dropout 0.6, L2 5e-4, Adam 0.005, early stopping with
# patience 100). Each layer computes, for node t and its neighbours i ∈ N(t),
#
# α_ti = softmax_i LeakyReLU(uᵀ W h_i + vᵀ W h_t),   h'_t = σ(Σ_i α_ti W h_i).
#
# This notebook trains it with `python -m pipelines.train`, evaluates it,
# looks at the attention, and exports a SavedModel for TF Serving.
#
# **Hardware**: `--backend auto` trains on a TPU when one is attached
# (Colab: Runtime → Change runtime type) with the JAX backend, since Colab's
# TPU runtimes ship JAX and there is no TPU build of our TensorFlow; else
# with TensorFlow on the GPUs, else on the CPU. The setup cell says which.
# A full run takes well under a minute on 2 CPU cores.
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
# Cora: 2,708 papers (nodes) with 1,433 binary word features, 5,278 citation
# links, 7 classes, the fixed Planetoid split (20 labelled nodes per class
# for training, 500 validation, 1,000 test). The loader reads
# `$ZOO_DATA_DIR/planetoid` when set, else downloads the files into
# `~/.cache/attention_zoo` (sha256-checked).

# %%
# %matplotlib inline
import numpy as np

import zoo
from pipelines.data.planetoid import load_planetoid
from zoo import viz

cora = load_planetoid("cora")
print(f"{cora.node_features.shape[0]} nodes, {cora.node_features.shape[1]} features, "
      f"{len(cora.edges)} directed edges; split {len(cora.train_index)} / {len(cora.val_index)} / "
      f"{len(cora.test_index)}")

# %% [markdown]
# ## Train
#
# One command: TensorBoard logs (losses, accuracy, attention entropy and
# histograms) in `WORK/logs/gat_cora`, a backup every 50 epochs (run the cell
# again after an interruption and training resumes), and the best epoch's
# weights with a metrics card in `WORK/weights/gat_cora`.

# %%
if IN_COLAB:  # TensorBoard inside the notebook; refresh it while training runs
    get_ipython().run_line_magic("load_ext", "tensorboard")
    get_ipython().run_line_magic("tensorboard", f"--logdir {WORK / 'logs'}")

# %%
smoke_args = ["--epochs", "5"] if SMOKE else []
run("-m", "pipelines.train", "gat_cora", "--backend", BACKEND, *smoke_args,
    "--logdir", WORK / "logs" / "gat_cora", "--output-dir", WORK / "weights" / "gat_cora")

# %% [markdown]
# ## Evaluate
#
# Accuracy and loss on the train, validation and test nodes (the paper
# reports 83.0 ± 0.7 test accuracy; the shipped weights measure 83.4).

# %%
run("-m", "pipelines.evaluate", "gat_cora", "--output", WORK / "gat_cora_metrics.json")

# %% [markdown]
# ## Attention
#
# The trained model (read from `WORK/weights`) with `return_attention=True`
# also returns α of each layer, `[E + N, heads]`: the edges in order, then
# each node's self-loop. The plot shows what a test node attends to in the
# first layer (mean over the 8 heads).

# %%
model = zoo.load("gat_cora", return_attention=True)
out = model({"node_features": cora.node_features, "edges": cora.edges})
node = int(cora.test_index[0])
viz.plot_graph_attention(cora.edges, out["attention"][0], node=node, labels=cora.labels,
                         title=f"layer 1, mean of the heads: attention of node {node}")

# %% [markdown]
# ## Export for TF Serving
#
# `python -m pipelines.export` writes `WORK/export/gat_cora/1/`, a SavedModel
# whose `serving_default` takes `node_features` `[N, F]` and `edges` `[E, 2]`
# and returns `logits`, `probabilities`, `attention_0` and `attention_1`. It
# loads with plain TensorFlow, without this project:

# %%
import tensorflow as tf

run("-m", "pipelines.export", "gat_cora", "--output-dir", WORK / "export")
serving = tf.saved_model.load(str(WORK / "export" / "gat_cora" / "1")).signatures["serving_default"]
served = serving(node_features=tf.constant(cora.node_features), edges=tf.constant(cora.edges))
predicted = np.argmax(served["probabilities"].numpy(), axis=-1)
print({name: tuple(value.shape) for name, value in served.items()})
print(f"test accuracy of the export: {np.mean(predicted[cora.test_index] == cora.labels[cora.test_index]):.3f}")

# %% [markdown]
# ## Next
#
# - Serve it: `docker run -p 8501:8501 -v "$PWD/runs/notebooks/export/gat_cora:/models/gat"
#   -e MODEL_NAME=gat tensorflow/serving` (from the repository folder).
# - In Colab, `WORK` is lost with the session: copy it to Google Drive
#   (`from google.colab import drive; drive.mount("/content/drive")`).
# - Other datasets with the same architecture: add `--dataset citeseer` or
#   `--dataset pubmed` to the training command.
