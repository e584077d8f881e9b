"""Tests for pipelines.data.planetoid on a tiny synthetic Planetoid dataset."""

import pathlib
import pickle
from collections import defaultdict

import numpy as np
import pytest
import scipy.sparse as sp

from pipelines.data import planetoid
from pipelines.data.download import ChecksumMismatchError, DatasetFormatError
from pipelines.data.planetoid import PlanetoidGraph, load_planetoid, read_planetoid
from tests.http_server import serve_folder
from tests.shared_data import shared_dataset_dir

# Toy graph: 12 nodes, 4 features, 3 classes. allx = nodes 0..5 (train 0..2,
# val 3..4, node 5 labelled but in no split); test.index lists 6,7,8,10,11 in
# shuffled order; node 9 is missing from it like CiteSeer's isolated nodes.
N, F, C = 12, 4, 3
NUM_TRAIN, NUM_VAL, NUM_ALL = 3, 2, 6
TEST_FILE_ORDER = [10, 7, 11, 6, 8]
GAP = 9
LABELS = np.array([0, 1, 2, 0, 1, 2, 2, 1, 0, 0, 2, 1], dtype=np.int32)  # node 9: 0 (all-zero row)
FEATURES = (np.arange(N * F, dtype=np.float32).reshape(N, F) + 1.0)
FEATURES[GAP] = 0.0
# Self-loop on 0, duplicate 1->0, 6->11 listed one way only, 9 isolated.
ADJACENCY = {0: [1, 2, 0], 1: [0, 0], 2: [0], 3: [4], 4: [3, 10], 5: [],
             6: [7, 11], 7: [6], 8: [11], 10: [4], 11: [8]}
UNDIRECTED = [(0, 1), (0, 2), (3, 4), (4, 10), (6, 7), (6, 11), (8, 11)]


def _one_hot(labels):
    return np.eye(C, dtype=np.int32)[labels]


def _dump(path, obj):
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=2)  # the protocol the Python 2 files use


def write_toy_planetoid(folder, name="toy"):
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    test = np.array(TEST_FILE_ORDER)
    graph = defaultdict(list)
    graph.update({k: list(v) for k, v in ADJACENCY.items()})
    objects = {
        "x": sp.csr_matrix(FEATURES[:NUM_TRAIN]),
        "y": _one_hot(LABELS[:NUM_TRAIN]),
        "allx": sp.csr_matrix(FEATURES[:NUM_ALL]),
        "ally": _one_hot(LABELS[:NUM_ALL]),
        # Row i of tx/ty belongs to node test.index[i].
        "tx": sp.csr_matrix(FEATURES[test]),
        "ty": _one_hot(LABELS[test]),
        "graph": graph,
    }
    for suffix, obj in objects.items():
        _dump(folder / f"ind.{name}.{suffix}", obj)
    (folder / f"ind.{name}.test.index").write_text("".join(f"{i}\n" for i in TEST_FILE_ORDER))
    return folder


@pytest.fixture
def toy_dir(tmp_path):
    return write_toy_planetoid(tmp_path / "planetoid")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "cache"))


def _expected_edges():
    both = UNDIRECTED + [(t, s) for s, t in UNDIRECTED]
    return np.array(sorted(both, key=lambda e: (e[1], e[0])), dtype=np.int32)


def test_read_toy_exactly(toy_dir):
    g = read_planetoid(toy_dir, "toy", num_val=NUM_VAL)
    assert isinstance(g, PlanetoidGraph) and g.name == "toy"
    assert (g.num_nodes, g.num_features, g.num_classes) == (N, F, C)

    assert g.node_features.dtype == np.float32
    np.testing.assert_array_equal(g.node_features, FEATURES)  # test rows reordered, gap row zero
    assert g.labels.dtype == np.int32
    np.testing.assert_array_equal(g.labels, LABELS)

    assert g.edges.dtype == np.int32 and g.edges.shape == (2 * len(UNDIRECTED), 2)
    np.testing.assert_array_equal(g.edges, _expected_edges())

    for index in (g.train_index, g.val_index, g.test_index):
        assert index.dtype == np.int32
    np.testing.assert_array_equal(g.train_index, [0, 1, 2])
    np.testing.assert_array_equal(g.val_index, [3, 4])
    np.testing.assert_array_equal(g.test_index, sorted(TEST_FILE_ORDER))


def test_edges_are_clean_and_symmetric(toy_dir):
    edges = read_planetoid(toy_dir, "toy", num_val=NUM_VAL).edges
    pairs = [tuple(e) for e in edges.tolist()]
    assert all(s != t for s, t in pairs), "self-loop kept"
    assert len(set(pairs)) == len(pairs), "duplicate kept"
    assert all((t, s) in set(pairs) for s, t in pairs), "edge missing one direction"
    assert (6, 11) in pairs and (11, 6) in pairs  # listed one way only in the dict
    assert pairs == sorted(pairs, key=lambda e: (e[1], e[0]))
    assert GAP not in edges


def test_masks_and_immutability(toy_dir):
    g = read_planetoid(toy_dir, "toy", num_val=NUM_VAL)
    train, val, test = g.mask("train"), g.mask("val"), g.mask("test")
    assert train.dtype == bool and train.shape == (N,)
    assert (train.sum(), val.sum(), test.sum()) == (3, 2, 5)
    assert not (train & val).any() and not (val & test).any() and not (train & test).any()
    assert not (train | val | test)[[5, GAP]].any()
    with pytest.raises(ValueError, match="split='validation'"):
        g.mask("validation")
    with pytest.raises(ValueError):
        g.labels[0] = 1  # read-only
    with pytest.raises(AttributeError):
        g.name = "other"  # frozen
    assert "num_nodes=12" in repr(g)


@pytest.mark.parametrize("suffix", ["graph", "allx", "ty"])
def test_truncated_pickle_names_the_file(toy_dir, suffix):
    path = toy_dir / f"ind.toy.{suffix}"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetFormatError, match=f"ind.toy.{suffix}"):
        read_planetoid(toy_dir, "toy", num_val=NUM_VAL)


def test_garbage_pickle_names_the_file(toy_dir):
    (toy_dir / "ind.toy.x").write_bytes(b"this is not a pickle")
    with pytest.raises(DatasetFormatError, match="ind.toy.x"):
        read_planetoid(toy_dir, "toy", num_val=NUM_VAL)


def test_bad_test_index_names_file_and_line(toy_dir):
    (toy_dir / "ind.toy.test.index").write_text("10\n7\nseven\n6\n8\n")
    with pytest.raises(DatasetFormatError, match=r"ind.toy.test.index: line 3"):
        read_planetoid(toy_dir, "toy", num_val=NUM_VAL)


def test_inconsistent_shapes_name_the_file(toy_dir):
    _dump(toy_dir / "ind.toy.ty", _one_hot(LABELS[:2]))
    with pytest.raises(DatasetFormatError, match="ind.toy.ty"):
        read_planetoid(toy_dir, "toy", num_val=NUM_VAL)


def test_default_num_val_needs_500_val_nodes(toy_dir):
    with pytest.raises(DatasetFormatError, match="500 val"):
        read_planetoid(toy_dir, "toy")


def test_unknown_name_is_rejected():
    with pytest.raises(ValueError, match=r"cora.*citeseer.*pubmed.*name='reddit'"):
        load_planetoid("reddit")


def test_name_is_case_insensitive_and_digests_are_pinned(tmp_path):
    # Toy files under the real name must fail the pinned Cora digests:
    # proves the lookup lower-cases the name and verifies before unpickling.
    folder = write_toy_planetoid(tmp_path / "fake", name="cora")
    with pytest.raises(ChecksumMismatchError, match=r"ind\.cora\."):
        load_planetoid("CoRa", data_dir=folder)


def _check_cora(g):
    assert g.name == "cora"
    assert (g.num_nodes, g.num_features, g.num_classes) == (2708, 1433, 7)
    assert g.edges.shape == (10556, 2)  # 5278 undirected edges, both directions
    pairs = set(map(tuple, g.edges.tolist()))
    assert len(pairs) == 10556 and all((t, s) in pairs for s, t in pairs)
    assert not (g.edges[:, 0] == g.edges[:, 1]).any()
    assert (len(g.train_index), len(g.val_index), len(g.test_index)) == (140, 500, 1000)
    np.testing.assert_array_equal(np.bincount(g.labels[g.train_index], minlength=7), [20] * 7)
    np.testing.assert_array_equal(g.test_index, np.arange(1708, 2708))
    # PyG's Cora: class sizes and 49216 non-zero binary features.
    np.testing.assert_array_equal(np.bincount(g.labels), [351, 217, 418, 818, 426, 298, 180])
    assert set(np.unique(g.node_features)) == {0.0, 1.0} and g.node_features.sum() == 49216


@pytest.mark.slow
def test_real_cora_from_zoo_data_dir():
    shared_dataset_dir("planetoid")
    _check_cora(load_planetoid("cora"))


@pytest.mark.slow
def test_real_cora_download_into_cache(tmp_path, monkeypatch):
    # The download path with the real pinned digests, served from 127.0.0.1.
    source = shared_dataset_dir("planetoid")
    monkeypatch.delenv("ZOO_DATA_DIR")
    with serve_folder(source) as url:
        monkeypatch.setattr(planetoid, "PLANETOID_URL", url)
        g = load_planetoid("Cora")
    assert sorted(p.name for p in (tmp_path / "cache" / "planetoid").iterdir()) == sorted(
        f"ind.cora.{s}" for s in ("x", "y", "tx", "ty", "allx", "ally", "graph", "test.index"))
    _check_cora(g)
