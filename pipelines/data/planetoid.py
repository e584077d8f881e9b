"""Planetoid citation graphs (Cora, CiteSeer, PubMed) with the fixed Planetoid split.

The files are the Planetoid release (Yang, Cohen, Salakhutdinov, ICML 2016),
``https://github.com/kimiyoung/planetoid/tree/master/data``, as used by Kipf &
Welling's GCN and PyG's ``Planetoid(name=...)``. Cite Sen et al. 2008 and Yang
et al. 2016 when using them.

Example:

>>> graph = load_planetoid("cora")  # doctest: +SKIP
>>> graph.num_nodes, graph.num_features, graph.num_classes  # doctest: +SKIP
(2708, 1433, 7)
>>> graph.edges.shape, graph.train_index.shape  # doctest: +SKIP
((10556, 2), (140,))
"""

from __future__ import annotations

import dataclasses
import importlib
import pathlib
import pickle
import warnings
from collections.abc import Mapping

import numpy as np

from pipelines.data.download import DatasetFormatError, resolve_dataset_dir

__all__ = ["PLANETOID_NAMES", "PLANETOID_URL", "PlanetoidGraph", "load_planetoid", "read_planetoid"]

PLANETOID_URL = "https://github.com/kimiyoung/planetoid/raw/master/data/"
PLANETOID_NAMES = ("cora", "citeseer", "pubmed")
_SUFFIXES = ("x", "y", "tx", "ty", "allx", "ally", "graph", "test.index")
_SPLITS = ("train", "val", "test")
_NUM_VAL = 500

# Pinned sha256 of the kimiyoung/planetoid files. Cora: planetoid/SHA256SUMS of
# the shared data copy that CI points ZOO_DATA_DIR at. CiteSeer and PubMed: the
# digests pinned in github.com/skygazer42/sky-vgl, vgl/data/public.py
# (_PLANETOID_RAW_SHA256, files of kimiyoung/planetoid commit af6abf46...),
# whose eight Cora digests equal ours byte for byte; a second public
# repository's reproduction notes list the same 16 digests for files it
# downloaded independently. Not yet checked here against a local download.
_SHA256 = {
    "cora": {
        "x": "23cfa55d91c6f624233f5eb7b6e3f141f1bd2b2ae39608a63cf5d084bb27baab",
        "y": "94465c14eb53e04ca262198dcbb2521ee8af60fb3f3d546cd6ca24a511b0e7d1",
        "tx": "b9afbaa4a400df991f6f02ef677e1e44da55ffc04801fd02f9e673987829226a",
        "ty": "41f5ac76596a1699cc33f53084a2419e92961c42bb75f36fc38e616d348532ad",
        "allx": "9419ba2f26f5c35243db64aba110e0f35a04851609e0dc5433450676ca6b8543",
        "ally": "2b998f5cc7fedc86e7f97ca2498f47a1ffc1462c29e2d578b23bf3f62b6e7d71",
        "graph": "58f13302f39dde8852dad6fe6d15b89b077b6d7f837626bce671ef80344b383d",
        "test.index": "297ce89af2b51a6a194181c7dbe1796c6a1cf9cd9349a88383b1b1e227867875",
    },
    "citeseer": {
        "x": "d20de19150741e555de0ed037195630fc194114ebc7fd72ced62810148aa22f6",
        "y": "8ba87e515d8e3ee3cf52f6d2c5b86aa73f11ecad825a808455209ec26cd54924",
        "tx": "539a8906a2da97628d212f2fdd668c109a8b3f0d36574b59e5d3fd5b5303da21",
        "ty": "55e5bd1ba1e733a04598753ad1a8d57957f4b8f89e74519f41f4f4938767e4ce",
        "allx": "2ac30345d95c9ec933a817ee0bdd6a5f077f8c184a20e696910192d534414668",
        "ally": "f704b2d986dde6c2669934de1f3ae5696a6cf9455c0f6b2646a2d135ea0a1c95",
        "graph": "d79a4ef9d3e7169aee8946145f6b7306e35bc79bffad26346cfb94e10e9912a7",
        "test.index": "2af990671580b6b2df5d158d1038f8292e30c9cd821b5453f399659b25b723d4",
    },
    "pubmed": {
        "x": "fbe9cb5c47200d1b7769a26e579be3b7130b556831f9d850e77c4c74f2599b33",
        "y": "e6c807633307a07ed659249006536a147c7999c797f11a2560752990181b41b3",
        "tx": "4eb5f5d0f30f26497eb0ac6ac9719d09c67e284f1ed0385c93f3ef27a671da3d",
        "ty": "ee2e0d4819d9fbcc403689c3bf2e49face401b605932f093bc58ab6461130fdd",
        "allx": "508e538e2abdccdd54c4d3e9f49d638b4af7107d85845f66ddea5a5152658b7e",
        "ally": "0c37bbe3b5014ec365e9d393cf4791925e5ed94fb194305d74f064a8d7b50f0e",
        "graph": "5b89f0036ca22909471f1e6558eb42fa06e0c730a577bde5b058b40638f81dc9",
        "test.index": "b101d421688bbaecbd82e8a18f1e282378d6830f3a37666f28ebc47f844341b5",
    },
}


@dataclasses.dataclass(frozen=True, eq=False)
class PlanetoidGraph:
    """One Planetoid graph with its fixed split; all arrays are read-only.

    Attributes:
        name: lower-case dataset name (``"cora"``, ``"citeseer"``, ``"pubmed"``).
        node_features: float32 ``[N, F]``, the raw features (binary bag of
            words for Cora/CiteSeer, TF-IDF for PubMed), not normalised.
        labels: int32 ``[N]``, ``argmax`` of the one-hot label rows, as PyG.
            Nodes whose one-hot row is all zero (CiteSeer's isolated nodes that
            are missing from ``test.index``) get label 0, as in PyG; they are in
            no split, so the label is never used.
        edges: int32 ``[E, 2]`` of (source, target): the undirected graph listed
            in both directions, without self-loops or duplicates, sorted by
            (target, source) so each node's incoming edges are contiguous.
        train_index: int32, ``range(len(y))`` (20 labelled nodes per class).
        val_index: int32, ``range(len(y), len(y) + 500)``.
        test_index: int32, the sorted ``test.index`` (1000 nodes).
    """

    name: str
    node_features: np.ndarray
    labels: np.ndarray
    edges: np.ndarray
    train_index: np.ndarray
    val_index: np.ndarray
    test_index: np.ndarray

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, np.ndarray):
                # Frozen means frozen: the split must not be edited in place.
                value.flags.writeable = False

    @property
    def num_nodes(self) -> int:
        return int(self.node_features.shape[0])

    @property
    def num_features(self) -> int:
        return int(self.node_features.shape[1])

    @property
    def num_classes(self) -> int:
        return int(self.labels.max()) + 1 if self.labels.size else 0

    def mask(self, split) -> np.ndarray:
        """Returns a bool ``[N]`` mask of ``split`` (``"train"``, ``"val"`` or ``"test"``)."""
        if split not in _SPLITS:
            raise ValueError(f"`split` must be one of {_SPLITS}. Received: split={split!r}")
        mask = np.zeros(self.num_nodes, dtype=bool)
        mask[getattr(self, f"{split}_index")] = True
        return mask

    def __repr__(self):
        # The default repr would print every array.
        return (
            f"PlanetoidGraph(name={self.name!r}, num_nodes={self.num_nodes}, "
            f"num_features={self.num_features}, num_classes={self.num_classes}, "
            f"num_edges={len(self.edges)}, train/val/test="
            f"{len(self.train_index)}/{len(self.val_index)}/{len(self.test_index)})"
        )


def load_planetoid(name="cora", data_dir=None) -> PlanetoidGraph:
    """Loads a Planetoid graph, like PyG's ``Planetoid(root, name)``.

    Files ``ind.<name>.{x,y,tx,ty,allx,ally,graph,test.index}`` are looked up
    with ``resolve_dataset_dir("planetoid", ...)``: ``data_dir``, then
    ``$ZOO_DATA_DIR/planetoid``, then ``~/.cache/attention_zoo/planetoid``;
    if absent they are downloaded from ``PLANETOID_URL`` into the cache. Every
    file is checked against a pinned sha256 before it is unpickled, so only
    the published bytes are ever loaded.

    Args:
        name: ``"cora"``, ``"citeseer"`` or ``"pubmed"`` (case-insensitive).
        data_dir: optional folder holding the ``ind.<name>.*`` files directly.

    Returns:
        A ``PlanetoidGraph``; see ``read_planetoid`` for the exact processing.

    Raises:
        ValueError: unknown ``name``.
        DatasetNotFoundError: files absent and not downloadable.
        ChecksumMismatchError: a file differs from its pinned digest.
        DatasetFormatError: a file cannot be parsed.
    """
    key = name.lower() if isinstance(name, str) else None
    if key not in PLANETOID_NAMES:
        raise ValueError(f"`name` must be one of {PLANETOID_NAMES} (case-insensitive). Received: name={name!r}")
    files = [f"ind.{key}.{suffix}" for suffix in _SUFFIXES]
    folder = resolve_dataset_dir(
        "planetoid",
        files,
        data_dir=data_dir,
        urls=PLANETOID_URL,  # read at call time, so tests can point it at a local server
        sha256={f"ind.{key}.{suffix}": digest for suffix, digest in _SHA256[key].items()},
    )
    return read_planetoid(folder, key)


def read_planetoid(folder, name, *, num_val=_NUM_VAL) -> PlanetoidGraph:
    """Parses ``ind.<name>.*`` files from ``folder`` (no lookup, no checksum).

    Follows PyG's ``read_planetoid_data`` and Kipf's GCN ``load_data``:

    * Row ``i`` of ``tx``/``ty`` belongs to node ``test.index[i]`` (the file is
      not sorted); nodes ``0 .. len(allx)-1`` are ``allx``/``ally`` in order.
    * Test ids may have gaps (CiteSeer has 15 isolated nodes that are missing
      from ``test.index``). Those nodes get all-zero feature and label rows,
      which is PyG's "extend tx/ty with zero rows" done in place; the node
      count is ``max(test.index) + 1``.
    * Edges come from the adjacency-list dict, are made symmetric (as Kipf's
      ``nx.from_dict_of_lists``) and lose self-loops and duplicates (as PyG's
      ``remove_self_loops`` + ``coalesce``).

    Only use this on trusted files: the pickles are unpickled as they are
    (``load_planetoid`` verifies pinned digests first).

    Args:
        folder: folder holding the files.
        name: the file prefix ``<name>`` in ``ind.<name>.*``.
        num_val: number of validation nodes after the training nodes (500 in
            the Planetoid split; smaller for tiny test data).

    Returns:
        A ``PlanetoidGraph`` named ``name``.

    Raises:
        DatasetFormatError: a file is truncated, corrupt or inconsistent with
            the others; the message names the file.
    """
    folder = pathlib.Path(folder)
    if not isinstance(name, str) or not name or "/" in name or "\\" in name:
        raise ValueError(f"`name` must be a non-empty file prefix without path separators. Received: name={name!r}")
    if isinstance(num_val, bool) or not isinstance(num_val, int) or num_val < 0:
        raise ValueError(f"`num_val` must be a non-negative int. Received: num_val={num_val!r}")
    path = {suffix: folder / f"ind.{name}.{suffix}" for suffix in _SUFFIXES}

    # x/tx/allx: feature matrices; y/ty/ally: one-hot label matrices.
    arrays = {suffix: _read_matrix(path[suffix]) for suffix in ("x", "y", "tx", "ty", "allx", "ally")}
    graph = _read_pickle(path["graph"])
    test_ids = _read_test_index(path["test.index"])

    def fail(suffix, message):
        raise DatasetFormatError(f"{path[suffix]}: {message}")

    x, y, tx, ty, allx, ally = (arrays[s] for s in ("x", "y", "tx", "ty", "allx", "ally"))
    num_features, num_classes = allx.shape[1], ally.shape[1]
    for suffix, rows, cols in (
        ("x", len(y), num_features),
        ("y", len(x), num_classes),
        ("tx", len(test_ids), num_features),
        ("ty", len(test_ids), num_classes),
        ("ally", len(allx), num_classes),
    ):
        if arrays[suffix].shape != (rows, cols):
            fail(suffix, f"expected shape {(rows, cols)} to match the other files, got {arrays[suffix].shape}")
    if len(y) + num_val > len(allx):
        fail("allx", f"has {len(allx)} rows, fewer than {len(y)} train + {num_val} val nodes")
    if len(test_ids) == 0:
        fail("test.index", "is empty")
    if len(np.unique(test_ids)) != len(test_ids):
        fail("test.index", "lists a node id more than once")
    if test_ids.min() < len(allx):
        fail("test.index", f"has id {test_ids.min()} < {len(allx)} (= rows of allx); test ids must follow allx")

    num_nodes = int(test_ids.max()) + 1
    features = np.zeros((num_nodes, num_features), dtype=np.float32)
    features[: len(allx)] = allx
    features[test_ids] = tx
    one_hot = np.zeros((num_nodes, num_classes), dtype=np.float32)
    one_hot[: len(ally)] = ally
    one_hot[test_ids] = ty
    labels = one_hot.argmax(axis=1).astype(np.int32)

    edges = _edges_from_adjacency(graph, num_nodes, path["graph"])
    return PlanetoidGraph(
        name=name,
        node_features=features,
        labels=labels,
        edges=edges,
        train_index=np.arange(len(y), dtype=np.int32),
        val_index=np.arange(len(y), len(y) + num_val, dtype=np.int32),
        test_index=np.sort(test_ids).astype(np.int32),
    )


class _PlanetoidUnpickler(pickle.Unpickler):
    """Maps the Python 2 era module paths in the pickles to their current homes.

    ``scipy.sparse.csr`` is deprecated (removed in SciPy 2.0) and
    ``numpy.core`` was renamed ``numpy._core`` in NumPy 2; resolving them
    directly keeps the files loadable and the logs free of warnings.
    """

    def find_class(self, module, name):
        if module in ("scipy.sparse.csr", "scipy.sparse._csr") and name == "csr_matrix":
            return importlib.import_module("scipy.sparse").csr_matrix
        if module == "numpy.core.multiarray":
            try:
                return getattr(importlib.import_module("numpy._core.multiarray"), name)
            except (ImportError, AttributeError):
                pass  # NumPy 1.x: the old path is the real one
        return super().find_class(module, name)


def _read_pickle(path):
    try:
        with open(path, "rb") as f, warnings.catch_warnings():
            # Any other deprecated path inside the files is not the user's concern.
            warnings.simplefilter("ignore", DeprecationWarning)
            return _PlanetoidUnpickler(f, encoding="latin1").load()
    except FileNotFoundError:
        raise
    except Exception as err:
        raise DatasetFormatError(
            f"{path}: cannot be unpickled ({type(err).__name__}: {err}); the file is truncated or "
            "corrupt. Delete it (it is downloaded again into the cache) or replace it."
        ) from err


def _read_matrix(path):
    obj = _read_pickle(path)
    # Features are scipy CSR matrices, labels dense numpy arrays.
    dense = obj.toarray() if hasattr(obj, "toarray") else obj
    try:
        array = np.asarray(dense, dtype=np.float32)
    except (TypeError, ValueError) as err:
        raise DatasetFormatError(f"{path}: expected a numeric matrix, got {type(obj).__name__}") from err
    if array.ndim != 2:
        raise DatasetFormatError(f"{path}: expected a 2-D matrix, got shape {array.shape}")
    return array


def _read_test_index(path):
    ids = []
    with open(path, encoding="ascii", errors="replace") as f:
        for line_number, line in enumerate(f, start=1):
            line = line.strip()
            if not line:
                continue
            try:
                ids.append(int(line))
            except ValueError:
                raise DatasetFormatError(
                    f"{path}: line {line_number} is {line!r}, expected one integer node id per line"
                ) from None
    return np.asarray(ids, dtype=np.int64)


def _edges_from_adjacency(graph, num_nodes, path):
    if not isinstance(graph, Mapping):
        raise DatasetFormatError(f"{path}: expected a dict of adjacency lists, got {type(graph).__name__}")
    try:
        pairs = [(int(node), int(neighbour)) for node, neighbours in graph.items() for neighbour in neighbours]
    except (TypeError, ValueError) as err:
        raise DatasetFormatError(f"{path}: adjacency lists must hold integer node ids ({err})") from err
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)  # [M, 2] (node, neighbour)
    if pairs.size and (pairs.min() < 0 or pairs.max() >= num_nodes):
        raise DatasetFormatError(f"{path}: node ids must be in [0, {num_nodes}); found {pairs.min()}..{pairs.max()}")
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    both = np.concatenate([pairs, pairs[:, ::-1]])  # [2M, 2]: every edge in both directions
    # One int64 key per edge, target-major, so np.unique dedups and sorts by
    # (target, source) in one pass.
    keys = np.unique(both[:, 1] * num_nodes + both[:, 0])
    return np.stack([keys % num_nodes, keys // num_nodes], axis=1).astype(np.int32)  # [E, 2]
