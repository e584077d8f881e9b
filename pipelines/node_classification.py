"""Full-batch node classification: tf.data inputs, training, evaluation.

The whole graph is one batch (the transductive setting of GCN/GAT): every
step sees all N nodes and E edges; the split enters only through per-node
loss weights. Shapes are fixed by the graph, so the step never retraces
(and a TPU compiles it once). Under a multi-replica strategy every replica
trains on the whole graph (`replicated_graph_dataset`); under a JAX
keras.distribution the graph is split over the devices and processes
(`sharded_graph_dataset`).
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

import zoo
from pipelines import callbacks as zoo_callbacks
from pipelines import serving_checks, settings
from pipelines.data.planetoid import load_planetoid
from pipelines.runtime import Runtime

# Epochs between backups. A full-batch epoch takes ~30 ms, so saving every
# epoch would cost more than the training itself.
BACKUP_EVERY = 50


def graph_inputs(graph):
    """The model's input dict for a `PlanetoidGraph`."""
    return {
        "node_features": np.asarray(graph.node_features, "float32"),
        "edges": np.asarray(graph.edges, "int32"),
    }


def split_weights(graph, split, padding=0):
    """Per-node loss weights for `split`: N'/|split| on its nodes, else 0,
    for the N' = N + `padding` nodes of the graph (padding nodes last).

    Keras averages a weighted loss over all N' nodes ("sum_over_batch_size"),
    so scaling by N'/|split| makes it the mean over the split's nodes, as in
    the reference code, which keeps the balance with the L2 term right.
    """
    mask = np.pad(graph.mask(split).astype("float32"), (0, padding))  # [N']
    return mask * (graph.num_nodes + padding) / mask.sum()


def graph_dataset(graph, split, repeat=False):
    """A one-element tf.data.Dataset (inputs, labels, split weights)."""
    element = (graph_inputs(graph), graph.labels.astype("int32"), split_weights(graph, split))
    dataset = tf.data.Dataset.from_tensors(element).cache()
    return dataset.repeat() if repeat else dataset


def replicated_graph_dataset(graph, split, strategy):
    """`graph_dataset(repeat=True)` with the whole graph on every replica.

    Keras splits dimension 0 of a batch across replicas, which here is the
    nodes: a replica would get half the nodes and edges pointing at the
    other half. Instead each replica gets the full graph; Keras divides each
    replica's loss by the number of replicas and sums their gradients, so
    the step is the single-device one (with an independent dropout mask per
    replica). On one replica this is `graph_dataset(repeat=True)` itself.
    """
    if strategy.num_replicas_in_sync == 1:
        return graph_dataset(graph, split, repeat=True)
    # One element per replica and step, taken in turn from the per-worker dataset.
    return strategy.distribute_datasets_from_function(
        lambda context: graph_dataset(graph, split, repeat=True))


def sharded_graph_dataset(graph, split, runtime):
    """`graph_dataset(repeat=True)` for a keras.distribution (JAX): this
    process' rows of the graph, padded so that the devices divide it.

    Keras shards dimension 0 of every input over the devices and joins the
    processes' rows into one global array, so the step is computed on the
    whole graph, as on one device (XLA partitions the gathers and segment
    sums; dropout draws the same masks however the arrays are split). The
    devices must divide N and E, so padding appends isolated nodes (zero
    features, loss weight 0) and edges from such a node to itself, which
    only it attends over:

        N' = N + p_N, E' = E + p_E, with D | N' and D | E' (D devices)

    The loss weights are `split_weights` of the N' nodes. Process i of P feeds
    the i-th of P consecutive slices of each array.
    """
    devices = runtime.num_devices
    inputs = graph_inputs(graph)
    num_nodes, num_edges = graph.num_nodes, len(inputs["edges"])
    pad_nodes, pad_edges = -num_nodes % devices, -num_edges % devices
    if pad_edges and not pad_nodes:
        pad_nodes = devices  # Padding edges need a padding node to point at.
    element = (
        {"node_features": np.pad(inputs["node_features"], ((0, pad_nodes), (0, 0))),
         "edges": np.concatenate([inputs["edges"],
                                  np.full((pad_edges, 2), num_nodes, "int32")])},  # [E', 2]
        np.pad(graph.labels.astype("int32"), (0, pad_nodes)),
        split_weights(graph, split, padding=pad_nodes),
    )
    process_rows = lambda array: np.array_split(array, runtime.num_processes)[runtime.process_index]
    element = tf.nest.map_structure(process_rows, element)
    # The rows are cut here: Keras' own sharding splits batches of a batched
    # dataset, and this one element is the whole graph.
    runtime.distribution.auto_shard_dataset = False
    return tf.data.Dataset.from_tensors(element).cache().repeat()


def compile_model(model, learning_rate, runtime=None):
    """Adam and the masked cross-entropy; `runtime` sets jit_compile (call
    it inside `runtime.scope()`)."""
    (runtime or Runtime()).compile(
        model,
        # epsilon 1e-8 as in the GAT reference code (TF1 AdamOptimizer's
        # default) and PyTorch/PyG; Keras' default is 1e-7.
        optimizer=keras.optimizers.Adam(learning_rate, epsilon=1e-8),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        weighted_metrics=[
            keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
            # The loss without the L2 term: what the GAT code's early stopping watches.
            keras.metrics.SparseCategoricalCrossentropy(from_logits=True, name="cross_entropy"),
        ],
    )
    return model


def split_metrics(logits, labels, index):
    """Cross-entropy and accuracy of `logits` [N, C] over the nodes `index`.

        cross_entropy = mean_{v ∈ index} -log softmax(logits_v)[y_v]
        accuracy = mean_{v ∈ index} [argmax logits_v = y_v]

    keras.ops only, so the same code runs eagerly (`evaluate`) and inside
    the compiled per-epoch validation (`callbacks.FullGraphValidation`).
    """
    logits = ops.cast(ops.take(logits, index, axis=0), "float32")  # [n, C]
    labels = ops.take(labels, index, axis=0)  # [n]
    log_probs = ops.log_softmax(logits, axis=-1)
    picked = ops.take_along_axis(log_probs, ops.expand_dims(labels, -1), axis=-1)  # [n, 1]
    correct = ops.argmax(logits, axis=-1) == ops.cast(labels, "int32")
    return -ops.mean(picked), ops.mean(ops.cast(correct, "float32"))


def evaluate(model, data):
    """Accuracy (percent) and loss of `model` on the train/val/test splits
    of `data`, a `PlanetoidGraph`."""
    graph = data
    logits = model(graph_inputs(graph), training=False)
    if isinstance(logits, dict):
        logits = logits["logits"]
    labels = graph.labels.astype("int32")
    results = {}
    for split in ("train", "val", "test"):
        loss, accuracy = split_metrics(logits, labels, getattr(graph, f"{split}_index"))
        results[f"{split}_accuracy"] = round(100.0 * float(accuracy), 2)
        results[f"{split}_loss"] = round(float(loss), 4)
    return results


def evaluation_data(model, config, data_dir=None):
    """The graph `evaluate` needs, for `pipelines.evaluate`."""
    return load_planetoid(config["dataset"], data_dir=data_dir)


def neighbourhood_subgraph(graph, seeds, hops=2):
    """The subgraph induced by the nodes within `hops` edges of `seeds`.

    With `hops` ≥ the number of GAT layers the seeds' outputs are those of
    the whole graph: every node and edge they depend on is kept.

    Returns:
        The model's input dict: the kept nodes' features in node order and
        the edges among them, renumbered (still sorted by target, source).
    """
    edges = np.asarray(graph.edges)
    nodes = np.unique(seeds)
    for _ in range(hops):
        nodes = np.union1d(nodes, edges[np.isin(edges[:, 1], nodes), 0])  # + in-neighbours
    kept = edges[np.isin(edges, nodes).all(axis=1)]
    return {"node_features": np.asarray(graph.node_features[nodes], "float32"),
            "edges": np.searchsorted(nodes, kept).astype("int32")}  # old id -> rank in nodes


def warmup_inputs(config, data_dir=None):
    """TF Serving warm-up inputs for `pipelines.export`: one request, the
    2-hop neighbourhood of the first 4 test nodes (272 of Cora's 2,708
    nodes, 1.6 MB: the whole graph's dense features would be 15 MB)."""
    graph = load_planetoid(config["dataset"], data_dir=data_dir)
    return [neighbourhood_subgraph(graph, graph.test_index[:4])]


def serving(name, weights="trained"):
    """(what to track, serving function, input signature) for `pipelines.export`:
    features and edges in; logits, probabilities and attention per layer out.
    The graph refuses what the eager model refuses (`serving_checks.graph`):
    edges not [E, 2], ids outside [0, N), NaN or inf features."""
    model = zoo.load(name, weights=weights, return_attention=True)

    def serve(node_features, edges):
        node_features, edges = serving_checks.graph(node_features, edges)
        out = model({"node_features": node_features, "edges": edges}, training=False)
        result = {"logits": out["logits"], "probabilities": out["probabilities"]}
        result.update({f"attention_{i}": a for i, a in enumerate(out["attention"])})
        return result

    num_features = model.get_layer("gat_backbone").num_features
    signature = [tf.TensorSpec([None, num_features], tf.float32, name="node_features"),
                 # Any shape: a [2, E] request must reach the check, not be cut to [E, 2].
                 tf.TensorSpec(None, tf.int32, name="edges")]
    return [model], serve, signature


def full_graph_validation(graph, split="val"):
    """The per-epoch `callbacks.FullGraphValidation` of `split`'s nodes."""
    return zoo_callbacks.FullGraphValidation(
        graph_inputs(graph), graph.labels.astype("int32"),
        getattr(graph, f"{split}_index").astype("int32"), split_metrics, prefix=split)


def train(name, config, seed, logdir=None, backup_dir=None, epochs=None, verbose=2,
          data_dir=None, extra_callbacks=(), runtime=None, model_kwargs=None):
    """Trains entry `name` on `config["dataset"]`.

    Args:
        name: the zoo entry (its builder and preset are used).
        config: the entry's CONFIG (dataset, learning_rate, patience, ...).
        seed: seeds Keras, NumPy and Python.
        logdir: TensorBoard folder (None: no logging).
        backup_dir: BackupAndRestore folder: a killed run resumes from it.
        epochs: cap on epochs (default config["max_epochs"]).
        extra_callbacks: more Keras callbacks (e.g. a benchmark's timer).
        runtime: strategy, precision and XLA (`pipelines.runtime.Runtime`;
            default: one device, float32).
        model_kwargs: architecture kwargs that replace the preset's (not
            num_features and num_classes: the dataset's).

    Returns:
        (model, graph, builder_kwargs, history): the trained model with the
        best epoch's weights, the `PlanetoidGraph`, the builder kwargs to
        record (the preset's, `model_kwargs`, and the num_features and
        num_classes the dataset fixed), and the Keras History
        (plus `best_epoch` and `epochs_run`).
    """
    keras.utils.set_random_seed(seed)
    graph = load_planetoid(config["dataset"], data_dir=data_dir)
    sizes = dict(num_features=graph.num_features, num_classes=graph.num_classes)
    builder_kwargs = settings.architecture(name, model_kwargs, **sizes)
    arguments = {**(model_kwargs or {}), **sizes}
    runtime = runtime or Runtime()
    with runtime.scope():
        model = compile_model(zoo.load(name, weights=None, **arguments), config["learning_rate"],
                              runtime)
    early_stopping = zoo_callbacks.LossAndAccuracyEarlyStopping(
        patience=config["patience"], loss="val_cross_entropy")
    # Validation first, so that every later callback sees its metrics.
    callbacks = zoo_callbacks.training_callbacks(
        [full_graph_validation(graph), early_stopping], extra_callbacks, backup_dir=backup_dir,
        backup_every=BACKUP_EVERY, logdir=logdir)
    if logdir:
        attention_model = zoo.load(name, weights=None, return_attention=True, **arguments)
        targets = np.concatenate([graph.edges[:, 1], np.arange(graph.num_nodes)])
        callbacks.append(zoo_callbacks.GraphAttentionStatistics(
            attention_model, graph_inputs(graph), targets, logdir))
    if verbose == 2:  # One line per epoch would be hundreds of lines: one per backup period.
        callbacks.append(zoo_callbacks.EveryNEpochsLog(BACKUP_EVERY))
    if runtime.distribution is not None:
        dataset = sharded_graph_dataset(graph, "train", runtime)
    else:
        dataset = replicated_graph_dataset(graph, "train", runtime.distribute)
    history = model.fit(
        dataset,
        steps_per_epoch=1,
        epochs=epochs or config["max_epochs"],
        shuffle=False,  # One element: the whole graph.
        callbacks=callbacks,
        verbose=0 if verbose == 2 else verbose,
    )
    history.best_epoch = early_stopping.best_epoch
    # history.epoch lists only this run's epochs; after a resume it starts late.
    history.epochs_run = history.epoch[-1] + 1 if history.epoch else 0
    return model, graph, builder_kwargs, history
