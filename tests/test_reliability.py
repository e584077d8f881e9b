"""Bad inputs at every public entry point, and the exact error each gives.

docs/reliability.md is the table of these cases; each of its rows names the
test that checks it: one here, or an existing one elsewhere in tests/.
`test_every_row_of_the_table_names_an_existing_test` keeps the table and
the tests in step. Everything here uses tiny synthetic inputs; the shipped
gat_cora weights are only ever read (copied into tmp_path to corrupt them).
"""

import ast
import pathlib
import re
import shutil
import warnings

import keras
import numpy as np
import pytest

import zoo
from zoo.layers import Attention, GraphAttention, MultiHeadAttention, SelfAttention, TransformerEncoderBlock
from tests.weights_isolation import use_only_weights_dir

ROOT = pathlib.Path(__file__).resolve().parent.parent
TABLE = ROOT / "docs" / "reliability.md"
SHIPPED_GAT = ROOT / "savedmodels" / "gat_cora"
SMALL_GAT = dict(num_features=5, num_classes=3)


def _floats(*shape, seed=0):
    return np.random.default_rng(seed).random(shape).astype("float32")


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No shared data, no user cache, an empty $ZOO_WEIGHTS_DIR."""
    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "cache"))
    use_only_weights_dir(monkeypatch, tmp_path / "weights")
    return tmp_path


def _files_under(folder):
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# --- zoo.load / zoo.info / python -m zoo -------------------------------------------------


@pytest.mark.parametrize("name", [None, 3])
def test_load_and_info_with_a_name_that_is_not_a_string(name):
    for entry_point in (zoo.load, zoo.info):
        with pytest.raises(ValueError, match=rf"Unknown zoo model {name}\. Available: gat_cora, "):
            entry_point(name)


@pytest.mark.parametrize("weights", [123, True, ["model.weights.h5"]])
def test_load_weights_of_the_wrong_type(weights):
    with pytest.raises(ValueError, match=re.escape(
            "`weights` must be 'trained', None or a path to a .weights.h5 file (or its folder). "
            f"Received: weights={weights!r}")):
        zoo.load("gat_cora", weights=weights)


def test_load_weights_path_that_does_not_exist_says_what_weights_may_be(isolated):
    with pytest.raises(FileNotFoundError, match=re.escape(
            "No weights file at trianed. `weights` must be 'trained' (the shipped weights), None "
            "(fresh weights), the path of a .weights.h5 file or a folder holding model.weights.h5. "
            "Received: weights='trianed'")):
        zoo.load("gat_cora", weights="trianed", **SMALL_GAT)


def _shipped_gat_copy(folder):
    folder.mkdir(parents=True)
    for name in ("model.weights.h5", "metrics.json"):
        shutil.copy(SHIPPED_GAT / name, folder / name)
    return folder / "model.weights.h5"


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("damage", ["truncated", "empty", "not a zip"])
def test_unreadable_weights_file_is_named_as_corrupt(isolated, damage):
    weights = _shipped_gat_copy(isolated / "copy")
    if damage == "truncated":
        _truncate(weights)
    elif damage == "empty":
        weights.write_bytes(b"")
    else:  # a .keras file must be a zip
        weights = weights.rename(weights.with_name("model.keras"))
    with pytest.raises(ValueError, match=rf"The weights file {re.escape(str(weights))} cannot be read: "
                                         r"it is truncated or corrupt, or not a Keras weights file \(") \
            as error:
        zoo.load("gat_cora", weights=weights)
    assert "python -m pipelines.train gat_cora" in str(error.value)


def test_truncated_trained_weights_fail_their_checksum(isolated):
    weights = _shipped_gat_copy(isolated / "weights" / "gat_cora")
    _truncate(weights)
    with pytest.raises(ValueError, match=r"The weights file .*gat_cora/model\.weights\.h5 does not match "
                                         r"its metrics card \(sha256 [0-9a-f]{64}, card says [0-9a-f]{64}\)"):
        zoo.load("gat_cora")


@pytest.mark.parametrize("argv, message", [
    ([], "the following arguments are required: command"),
    (["frobnicate"], "argument command: invalid choice: 'frobnicate'"),
    (["info"], "the following arguments are required: name"),
])
def test_zoo_cli_without_or_with_an_unknown_command(argv, message, capsys):
    from zoo.__main__ import main

    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


# --- zoo.layers: call-time shapes and dtypes ---------------------------------------------

B, TQ, TV, D = 2, 3, 5, 4


@pytest.mark.parametrize("call, message", [
    (lambda: Attention()(_floats(B, D), _floats(B, TV, D)),
     "`query` must be a 3-D tensor [B, Tq, Dq]. Received: query.shape=(2, 4)"),
    (lambda: Attention()(_floats(B, TQ, D).astype("int32"), _floats(B, TV, D)),
     "`query` must be a floating-point tensor [B, Tq, Dq] (token ids go through an Embedding first). "
     "Received: query.dtype=int32"),
    (lambda: Attention()(_floats(B, TQ, D), _floats(1, TV, D)),
     "The batch sizes of `query`, `value` and `key` must match. Received: query.shape[0]=2, "
     "value.shape[0]=1"),
    (lambda: Attention()(_floats(B, TQ, D), _floats(B, TV, D), key=_floats(B, TV - 1, D)),
     "The lengths Tv of `key` and `value` must match. Received: value.shape[1]=5, key.shape[1]=4"),
    (lambda: Attention()(_floats(B, TQ, D), _floats(B, TV, D), value_mask=np.ones((B, TV - 1), bool)),
     "`value_mask` must have the shape (2, 5) of the first two dimensions of `value`. "
     "Received: value_mask.shape=(2, 4)"),
])
def test_attention_call_with_bad_shapes_and_dtypes(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


@pytest.mark.parametrize("score", ["bilinear", "additive", "qkv"])
def test_attention_called_with_other_sizes_than_it_was_built_with(score):
    layer = Attention(score)
    layer(_floats(B, TQ, D), _floats(B, TV, D))
    with pytest.raises(ValueError, match=re.escape(
            "The last dimension of `query` must be 4, the size this layer was built with (its first "
            "call). Received: query.shape=(2, 3, 6)")):
        layer(_floats(B, TQ, 6), _floats(B, TV, D))


@pytest.mark.parametrize("call, message", [
    (lambda: MultiHeadAttention(2, 4)(_floats(B, D), _floats(B, TV, D)),
     "`query` must be a 3-D tensor [B, Tq, Dq]. Received: query.shape=(2, 4)"),
    (lambda: MultiHeadAttention(2, 4)(_floats(B, TQ, D), _floats(B, TV, D).astype("int64")),
     "`value` must be a floating-point tensor [B, Tv, Dv] (token ids go through an Embedding first). "
     "Received: value.dtype=int64"),
    (lambda: MultiHeadAttention(2, 4)(_floats(B, TQ, D), _floats(1, TV, D)),
     "The batch sizes of `query`, `value` and `key` must match. Received: query.shape[0]=2, "
     "value.shape[0]=1, key.shape[0]=1"),
    (lambda: MultiHeadAttention(2, 4)(_floats(B, TQ, D), _floats(B, TV, D),
                                      attention_mask=np.ones((B, TQ, TV - 1), bool)),
     "`attention_mask` must be a mask [B, Tq, Tv] = (2, 3, 5). Received: attention_mask.shape=(2, 3, 4)"),
    (lambda: MultiHeadAttention(2, 4)(_floats(B, TQ, D), _floats(B, TV, D), key_mask=np.ones((B,), bool)),
     "`key_mask` must be a 2-D tensor [B, Tv]. Received: key_mask.shape=(2,)"),
])
def test_multi_head_attention_call_with_bad_shapes_and_dtypes(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


@pytest.mark.parametrize("layer", [lambda: SelfAttention(2, 4), lambda: TransformerEncoderBlock(2, 4, 8)],
                         ids=["SelfAttention", "TransformerEncoderBlock"])
@pytest.mark.parametrize("inputs, mask, message", [
    (_floats(1, B, TQ, D), None, "`inputs` must be a 3-D tensor [B, T, D]. Received: inputs.shape=(1, 2, 3, 4)"),
    (np.arange(B * TQ).reshape(B, TQ, 1) % 4, None,
     "`inputs` must be a floating-point tensor [B, T, D] (token ids go through an Embedding first). "
     "Received: inputs.dtype=int64"),
    (_floats(B, TQ, D), np.ones((B, TV), bool), "`mask` must be a mask [B, T] = (2, 3). Received: mask.shape=(2, 5)"),
], ids=["4-D", "token ids", "mask"])
def test_self_attention_and_encoder_block_call_with_bad_inputs(layer, inputs, mask, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        layer()(inputs, mask=mask)


@pytest.mark.parametrize("layer", [lambda: SelfAttention(2, 4), lambda: TransformerEncoderBlock(2, 4, 8)],
                         ids=["SelfAttention", "TransformerEncoderBlock"])
def test_self_attention_and_encoder_block_called_with_another_width(layer):
    layer = layer()
    layer(_floats(B, TQ, D))
    with pytest.raises(ValueError, match=re.escape(
            "The last dimension of `inputs` must be 4, the size this layer was built with (its first "
            "call). Received: inputs.shape=(2, 3, 6)")):
        layer(_floats(B, TQ, 6))


def test_self_attention_constructor_names_the_argument():
    with pytest.raises(ValueError, match=re.escape("`key_dim` must be a positive integer. Received: key_dim=0")):
        SelfAttention(2, 0)
    with pytest.raises(ValueError, match=re.escape("`merge` must be one of 'concat', 'mean'. Received: merge='sum'")):
        SelfAttention(2, 4, merge="sum")


N, F = 6, 3
EDGES = np.array([[0, 1], [1, 2], [2, 0]], "int32")


@pytest.mark.parametrize("features, graph, message", [
    (_floats(N), dict(edges=EDGES), "`node_features` must be a 2-D tensor [N, F]. Received: node_features.shape=(6,)"),
    (_floats(1, N, F), dict(edges=EDGES),
     "`node_features` must be a 2-D tensor [N, F]. Received: node_features.shape=(1, 6, 3)"),
    (_floats(N, F), dict(adjacency=np.ones((N - 1, N - 1), bool)),
     "`adjacency` must be [N, N] for the N=6 nodes of node_features. Received: adjacency.shape=(5, 5)"),
], ids=["1-D features", "3-D features", "adjacency"])
def test_graph_attention_call_with_bad_shapes(features, graph, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        GraphAttention(4)(features, **graph)


def test_graph_attention_checks_the_edges_shape_in_a_traced_graph_too():
    features = keras.Input((F,))
    edges = keras.Input((3,), dtype="int32")  # [E, 3]: no values to look at, only the shape
    # The unknown E is None (the PyTorch backend traces with a made-up size).
    with pytest.raises(ValueError, match=re.escape(
            "`edges` must be an int array of shape [E, 2] holding (source, target) pairs. "
            "Received: edges.shape=(") + r"(None|\d+), 3\)"):
        GraphAttention(4)(features, edges)


def test_graph_attention_called_with_another_feature_count():
    layer = GraphAttention(4)
    layer(_floats(N, F), EDGES)
    with pytest.raises(ValueError, match=re.escape(
            "`node_features` must have 3 features per node, the number this layer was built with (its "
            "first call). Received: node_features.shape=(6, 5)")):
        layer(_floats(N, 5), EDGES)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_graph_attention_layer_refuses_non_finite_features(bad):
    features = _floats(N, F)
    features[4, 1] = bad
    with pytest.raises(ValueError, match=re.escape(
            f"`node_features` must be finite; node 4, feature 1 is {bad}. Replace missing values "
            "before the graph layer.")):
        GraphAttention(4)(features, EDGES)


def test_attention_over_one_key_is_exactly_one_and_silent():
    """A one-word sentence or a 1 × 1 grid: keras' softmax would warn at every call."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, weights = Attention("additive")(_floats(B, TQ, D), _floats(B, 1, D), return_attention_scores=True,
                                           value_mask=np.array([[True], [False]]))
        _, heads = MultiHeadAttention(2, 4)(_floats(B, TQ, D), _floats(B, 1, D), return_attention_scores=True)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(weights)[:, :, 0], [[1, 1, 1], [0, 0, 0]])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(heads), 1.0)


# --- task models: translate, classify, caption, the GAT call ------------------------------


@pytest.fixture(scope="module")
def translator():
    from zoo.models.seq2seq import build_seq2seq_translator

    keras.utils.set_random_seed(0)
    return build_seq2seq_translator(
        ["", "[UNK]", "¿", "?", "el", "perro", "corre"], ["", "[UNK]", "[START]", "[END]", "the", "dog", "runs"],
        embedding_dim=4, units=4, attention_units=4, max_target_length=4)


@pytest.fixture(scope="module")
def classifier():
    from zoo.models.transformer_encoder import build_transformer_encoder_classifier

    keras.utils.set_random_seed(0)
    return build_transformer_encoder_classifier(["", "[UNK]", "good", "bad"], ["negative", "positive"],
                                                max_length=6, num_layers=1, num_heads=2, hidden_dim=4, ff_dim=8)


@pytest.fixture(scope="module")
def captioner():
    from zoo.models.show_attend_tell import build_show_attend_tell_captioner

    keras.utils.set_random_seed(0)
    return build_show_attend_tell_captioner(["", "[UNK]", "[START]", "[END]", "a", "dog"], image_size=32,
                                            embedding_dim=4, units=4, attention_units=4, max_length=3)


TEXT_ERRORS = [
    (None, "`texts` must be a list of strings. Received: texts=None"),
    (["el perro", None], "`texts` must be a list of strings. Received: texts[1]=None of type NoneType"),
    ([1], "`texts` must be a list of strings. Received: texts[0]=1 of type int"),
    ([b"\xff"], "`texts` must hold UTF-8 text. Received: texts[0]=b'\\xff' (invalid start byte)"),
]


@pytest.mark.tf_only
@pytest.mark.parametrize("texts, message", TEXT_ERRORS)
def test_translate_refuses_what_is_not_a_list_of_strings(translator, texts, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        translator.translate(texts)


@pytest.mark.tf_only
def test_translate_an_empty_list_and_a_one_word_text(translator):
    assert translator.translate([]) == []
    assert translator.translate([], return_attention=True) == ([], [])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no softmax-over-one-key warning per decoding step
        (translation,), (alignment,) = translator.translate(["perro"], return_attention=True)
    assert alignment["source"] == ["perro"]
    np.testing.assert_allclose(alignment["attention"], 1.0)


@pytest.mark.tf_only
@pytest.mark.parametrize("kwargs, message", [
    (dict(beam_width=0), "`beam_width` must be a positive integer. Received: beam_width=0"),
    (dict(max_length=0), "`max_length` must be a positive integer or None. Received: max_length=0"),
])
def test_translate_decoding_arguments(translator, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        translator.translate(["el perro"], **kwargs)


@pytest.mark.parametrize("texts, message", TEXT_ERRORS)
def test_classify_refuses_what_is_not_a_list_of_strings(classifier, texts, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        classifier.classify(texts)


def test_classify_an_empty_list(classifier):
    result = classifier.classify([], return_attention=True)
    assert result["labels"] == [] and result["probabilities"].shape == (0, 2)
    assert result["tokens"] == [] and result["attention"] == []


def _images(batch=1):
    return np.random.default_rng(0).uniform(0, 255, (batch, 32, 32, 3)).astype("float32")


@pytest.mark.parametrize("images, message", [
    (np.full((1, 32, 32, 3), "a"), "`images` must hold RGB numbers in [0, 255]. Received: images.dtype=<U1"),
    (np.where(np.arange(3) == 1, np.nan, _images()),
     "`images` must be finite; image 0 has nan at pixel (0, 0), channel 1."),
], ids=["strings", "nan"])
def test_caption_refuses_non_numeric_and_non_finite_images(captioner, images, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        captioner.caption(images)


@pytest.mark.parametrize("kwargs, message", [
    (dict(beam_width=0), "`beam_width` must be a positive integer. Received: beam_width=0"),
    (dict(max_length=0), "`max_length` must be a positive integer or None. Received: max_length=0"),
])
def test_caption_decoding_arguments(captioner, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        captioner.caption(_images(), **kwargs)


def test_caption_an_empty_batch_and_images_scaled_to_one(captioner):
    assert captioner.caption(np.zeros((0, 32, 32, 3), "float32")) == []
    assert captioner.caption(np.zeros((0, 32, 32, 3), "uint8"), return_attention=True) == ([], [])
    with pytest.warns(UserWarning, match=re.escape("`images` look scaled to [0, 1]; the model expects RGB in "
                                                   "[0, 255].")):
        captioner.caption(_images() / 255.0)


def test_gat_model_names_the_feature_that_is_nan():
    """The model's row normalisation would spread a NaN over its whole row
    (the GAT layer then saw feature 0): it checks the raw features first."""
    model = zoo.load("gat_cora", weights=None, **SMALL_GAT)
    features = _floats(N, 5)
    features[3, 2] = np.nan
    with pytest.raises(ValueError, match=re.escape(
            "`node_features` must be finite; node 3, feature 2 is nan. Replace missing values before the "
            "graph layer.")):
        model({"node_features": features, "edges": EDGES}, training=False)


@pytest.mark.parametrize("inputs, message", [
    (dict(node_features=_floats(N, 5), edges=np.zeros((2, 3), "int32")),
     "Input 0 with name 'edges' of layer 'gat_node_classifier' is incompatible with the layer: "
     "expected shape=(None, 2), found shape=(2, 3)"),
    (dict(node_features=_floats(N, 5), edge=EDGES),
     "Missing data for input \"edges\". You passed a data dictionary with keys ['node_features', 'edge']. "
     "Expected the following keys: ['edges', 'node_features']"),
], ids=["edges [E, 3]", "misspelt key"])
def test_gat_model_call_with_a_bad_edges_input(inputs, message):
    model = zoo.load("gat_cora", weights=None, **SMALL_GAT)
    with pytest.raises(ValueError, match=re.escape(message)):
        model(inputs, training=False)


# --- python -m pipelines.train / evaluate / export ----------------------------------------


@pytest.mark.tf_only
def test_train_evaluate_unknown_name_names_the_close_match():
    from pipelines import evaluate, train

    for cli in (train, evaluate):
        with pytest.raises(ValueError, match=r"Unknown zoo model 'gat_coda'\. Did you mean 'gat_cora'\?"):
            cli.main(["gat_coda"])


@pytest.mark.tf_only
@pytest.mark.parametrize("epochs", ["0", "-3", "x"])
def test_train_refuses_epochs_that_would_save_untrained_weights(epochs, capsys):
    from pipelines import train

    with pytest.raises(SystemExit) as exit_:
        train.main(["gat_cora", "--epochs", epochs])
    assert exit_.value.code == 2
    assert f"argument --epochs: must be a positive integer. Received: '{epochs}'" in capsys.readouterr().err


@pytest.mark.tf_only
@pytest.mark.parametrize("argv, error, message", [
    (["gat_cora", "--dataset", "reddit"], ValueError,
     "`name` must be one of ('cora', 'citeseer', 'pubmed') (case-insensitive). Received: name='reddit'"),
    (["transformer_encoder_sst2", "--train-file", "nope.tsv", "--validation-file", "nope.tsv"],
     FileNotFoundError, "No such TSV file: nope.tsv"),
    (["seq2seq_attn_spa_eng", "--pairs", "nope.txt"], FileNotFoundError, "No such sentence-pair file: nope.txt"),
], ids=["unknown dataset", "missing TSV", "missing pairs"])
def test_train_with_missing_or_unknown_data_writes_nothing(isolated, monkeypatch, argv, error, message):
    from pipelines import train

    monkeypatch.chdir(isolated)
    with pytest.raises(error, match=re.escape(message)):
        train.main(argv + ["--output-dir", "out", "--logdir", "logs"])
    assert _files_under(isolated) == []


@pytest.mark.tf_only
def test_evaluate_and_export_with_missing_or_corrupt_weights(isolated):
    from pipelines import evaluate, export

    with pytest.raises(FileNotFoundError, match=re.escape("No weights file at nothing.weights.h5.")):
        evaluate.main(["gat_cora", "--weights", "nothing.weights.h5"])
    weights = _shipped_gat_copy(isolated / "copy")
    _truncate(weights)
    for run in (lambda: evaluate.main(["gat_cora", "--weights", str(weights)]),
                lambda: export.main(["gat_cora", "--weights", str(weights), "--output-dir", str(isolated / "out")])):
        with pytest.raises(ValueError, match=re.escape(f"The weights file {weights} cannot be read")):
            run()
    assert not (isolated / "out").exists()


# --- dataset loaders: corrupt or truncated downloads leave nothing behind -----------------


@pytest.mark.tf_only
@pytest.mark.parametrize("damage", ["corrupt", "truncated"])
def test_planetoid_bad_download_is_a_checksum_mismatch_and_leaves_nothing(isolated, monkeypatch, damage):
    from pipelines.data import planetoid
    from pipelines.data.download import ChecksumMismatchError
    from tests.http_server import serve_folder

    served = isolated / "served"
    served.mkdir()
    for suffix in ("x", "y", "tx", "ty", "allx", "ally", "graph", "test.index"):
        data = b"not the published file\n" * 100
        (served / f"ind.cora.{suffix}").write_bytes(data if damage == "corrupt" else data[:10])
    with serve_folder(served) as url:
        monkeypatch.setattr(planetoid, "PLANETOID_URL", url)
        with pytest.raises(ChecksumMismatchError, match=r"Checksum mismatch for ind\.cora\.\w+ downloaded from "
                                                        r"http://127\.0\.0\.1:\d+/ind\.cora\.\w+: expected sha256 "
                                                        r"[0-9a-f]{64}, got [0-9a-f]{64}\. Nothing was written"):
            planetoid.load_planetoid("cora")
    assert _files_under(isolated / "cache") == []


@pytest.mark.tf_only
def test_planetoid_offline_and_absent_names_the_files_and_folders(isolated, monkeypatch):
    from pipelines.data import planetoid
    from pipelines.data.download import DatasetNotFoundError

    monkeypatch.setattr(planetoid, "PLANETOID_URL", "http://127.0.0.1:9/")  # nothing listens
    with pytest.raises(DatasetNotFoundError) as error:
        planetoid.load_planetoid("cora")
    message = str(error.value)
    assert message.startswith("Dataset files for 'planetoid' were not found. Searched, in order:")
    assert f"{isolated / 'cache' / 'planetoid'} (cache): missing ind.cora.x, ind.cora.y, " in message
    assert "Download failed: Download of http://127.0.0.1:9/ind.cora.x failed" in message
    assert "set ZOO_DATA_DIR=<dir>" in message
    assert _files_under(isolated / "cache") == []


@pytest.mark.tf_only
@pytest.mark.parametrize("damage", ["corrupt", "truncated"])
def test_sst2_bad_download_is_a_checksum_mismatch_and_leaves_nothing(isolated, monkeypatch, damage):
    from pipelines.data import text_classification as text_data
    from pipelines.data.download import ChecksumMismatchError
    from tests.http_server import serve_folder

    served = isolated / "served"
    served.mkdir()
    for name in ("train.tsv", "dev.tsv", "test.tsv"):
        text = "label\tsentence\n1\ta gorgeous film\n0\tdull\n"
        (served / name).write_text(text if damage == "corrupt" else text[:20])
    with serve_folder(served) as url:
        monkeypatch.setattr(text_data, "SST2_URL", url)
        with pytest.raises(ChecksumMismatchError, match=r"Checksum mismatch for \w+\.tsv downloaded from "
                                                        r"http://127\.0\.0\.1:\d+/\w+\.tsv: expected sha256"):
            text_data.load_sst2()
    assert _files_under(isolated / "cache") == []


# --- the table ----------------------------------------------------------------------------


def _table_rows():
    """(entry point, test ids) for every row of docs/reliability.md's tables."""
    rows = []
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if len(cells) < 4 or set(cells[0]) <= set("-: ") or cells[0] == "entry point":
            continue
        rows.append((cells[0], re.findall(r"`(tests/[\w/]+\.py::\w+)`", cells[-1])))
    return rows


def _test_functions(path):
    """Names of the test functions defined at the top level of a test file."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}


def test_every_row_of_the_table_names_an_existing_test():
    rows = _table_rows()
    assert len(rows) > 50, "docs/reliability.md lost its tables"
    missing = []
    for entry_point, ids in rows:
        assert ids, f"docs/reliability.md: the row for {entry_point} names no test"
        for test_id in ids:
            path, name = test_id.split("::")
            if not (ROOT / path).is_file() or name not in _test_functions(path):
                missing.append(test_id)
    assert not missing, f"docs/reliability.md names tests that do not exist: {missing}"


def test_the_table_covers_every_public_entry_point():
    covered = " ".join(entry_point for entry_point, _ in _table_rows())
    expected = ["zoo.load", "zoo.info", "python -m zoo", "translate", "classify", "caption", "GAT model call",
                "python -m pipelines.train", "python -m pipelines.evaluate", "python -m pipelines.export",
                "load_planetoid", "load_tatoeba_spa_eng", "load_sst2", "load_flickr8k"]
    expected += zoo.layers.__all__
    missing = [name for name in expected if name not in covered]
    assert not missing, f"docs/reliability.md has no row for {missing}"
