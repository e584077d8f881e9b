"""Tests for pipelines.data.graph_tensor (TF-GNN GraphTensor -> GAT inputs).

The converter only reads attributes, so most tests use a stand-in object
with a GraphTensor's attribute layout and run everywhere. The real
tensorflow-gnn test needs the optional extra (tensorflow-gnn + tf_keras)
and Keras 2 (`TF_USE_LEGACY_KERAS=1`), so it runs in a subprocess with that
variable, and is skipped where tensorflow_gnn is not installed (CI does not
install it).
"""

import importlib.util
import os
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import numpy as np
import pytest

from pipelines.data.graph_tensor import graph_tensor_to_inputs

pytestmark = pytest.mark.tf_only


def fake_graph(source, target, features, ends=("paper", "paper"), rank=0, feature="hidden_state"):
    """An object laid out like a scalar tfgnn.GraphTensor with one node set
    ("paper") and one edge set ("cites")."""
    adjacency = SimpleNamespace(source=np.array(source, np.int32), target=np.array(target, np.int32),
                                source_name=ends[0], target_name=ends[1])
    return SimpleNamespace(
        rank=rank,
        node_sets={"paper": SimpleNamespace(features={feature: np.asarray(features)})},
        edge_sets={"cites": SimpleNamespace(adjacency=adjacency)},
    )


def test_converts_edges_and_features_and_drops_self_loops():
    features = np.arange(12, dtype=np.float64).reshape(4, 3)
    graph = fake_graph(source=[0, 1, 2, 3, 2], target=[1, 0, 2, 2, 3], features=features)
    inputs = graph_tensor_to_inputs(graph)
    assert inputs["node_features"].dtype == "float32"
    np.testing.assert_array_equal(inputs["node_features"], features.astype(np.float32))
    assert inputs["edges"].dtype == "int32"
    np.testing.assert_array_equal(inputs["edges"], [[0, 1], [1, 0], [3, 2], [2, 3]])  # (2, 2) gone


@pytest.mark.parametrize("graph, kwargs, message", [
    (fake_graph([0], [1], np.zeros((2, 3)), ends=("paper", "author")), {},
     "a homogeneous graph needs both ends in node set 'paper'"),
    (fake_graph([0], [1], np.zeros((2, 3)), rank=1), {}, "merge_batch_to_components"),
    (fake_graph([0], [1], np.zeros((2, 3))), {"node_set": "author"},
     "`node_set` must be one of the GraphTensor's node_sets ['paper']. Received: node_set='author'"),
    (fake_graph([0], [1], np.zeros((2, 3))), {"feature": "words"},
     "`feature` must be one of node set 'paper''s features ['hidden_state']"),
    (fake_graph([0], [1], np.zeros(2)), {}, "must be [N, F]"),
])
def test_bad_graphs_name_the_problem(graph, kwargs, message):
    with pytest.raises(ValueError) as error:
        graph_tensor_to_inputs(graph, **kwargs)
    assert message in str(error.value)


def test_several_node_sets_need_a_name():
    graph = fake_graph([0], [1], np.zeros((2, 3)))
    graph.node_sets["author"] = graph.node_sets["paper"]
    with pytest.raises(ValueError, match=r"node_sets \['author', 'paper'\]; pass `node_set=`"):
        graph_tensor_to_inputs(graph)
    assert graph_tensor_to_inputs(graph, node_set="paper")["edges"].shape == (1, 2)


def test_not_a_graph_tensor():
    with pytest.raises(TypeError, match="must be a tfgnn.GraphTensor. Received: dict"):
        graph_tensor_to_inputs({"node_features": np.zeros((2, 3))})


# Builds a real two-component GraphTensor with tensorflow-gnn (Keras 2), then
# runs our GAT (Keras 3, `import keras`) on the converted inputs in the same
# process, and compares with the same model on the arrays written by hand.
REAL_GRAPH_TENSOR = textwrap.dedent("""
    import numpy as np
    import tensorflow as tf
    import tensorflow_gnn as tfgnn
    import zoo
    from pipelines.data.graph_tensor import graph_tensor_to_inputs

    rng = np.random.default_rng(0)
    features = rng.random((5, 4)).astype("float32")
    # Component 1: nodes 0-2, component 2: nodes 3-4; node ids are per node
    # set, consecutive across components. (1, 1) is a self-loop.
    source, target = [0, 1, 1, 2, 3, 4], [1, 0, 1, 0, 4, 3]
    graph = tfgnn.GraphTensor.from_pieces(
        node_sets={"paper": tfgnn.NodeSet.from_fields(
            sizes=[3, 2], features={"hidden_state": tf.constant(features)})},
        edge_sets={"cites": tfgnn.EdgeSet.from_fields(
            sizes=[4, 2], adjacency=tfgnn.Adjacency.from_indices(
                source=("paper", source), target=("paper", target)))})
    inputs = graph_tensor_to_inputs(graph)
    expected = np.array([[0, 1], [1, 0], [2, 0], [3, 4], [4, 3]], np.int32)
    np.testing.assert_array_equal(inputs["edges"].numpy(), expected)
    np.testing.assert_array_equal(inputs["node_features"].numpy(), features)
    model = zoo.load("gat_cora", weights=None, num_features=4, num_classes=3)
    by_hand = model({"node_features": features, "edges": expected})
    np.testing.assert_allclose(model(inputs).numpy(), np.asarray(by_hand), rtol=1e-6)
    print("OK", tfgnn.__version__)
""")


@pytest.mark.skipif(importlib.util.find_spec("tensorflow_gnn") is None,
                    reason="the optional tensorflow-gnn extra is not installed")
def test_real_graph_tensor_feeds_the_gat():
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1")  # only in the child: tfgnn needs Keras 2
    result = subprocess.run([sys.executable, "-c", REAL_GRAPH_TENSOR], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("OK")
