"""Exports load and run in a process that cannot import zoo or pipelines."""


import pathlib
import re

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from pipelines import cards, export, node_classification
from pipelines.data import flickr8k, planetoid
from tests.pipelines.fresh_serving import read_warmup_requests, serve_in_fresh_process
from tests.weights_isolation import use_only_weights_dir

pytestmark = pytest.mark.tf_only

VOCAB = ["", "[UNK]", "[START]", "[END]", "a", "dog", "runs", "on", "grass"]

def _ship(name, model, builder_kwargs, weights_dir, monkeypatch, vocabulary=None, assets=None):
    """Writes weights + assets (file name -> lines) + card the way pipelines.train
    does (the card records the assets' sha256, so they come first), and makes
    `builder_kwargs` the entry's preset, as the card must match it."""
    from tests.pipelines.toy_entries import toy_preset

    toy_preset(monkeypatch, name, **builder_kwargs)
    folder = weights_dir / name
    folder.mkdir(parents=True)
    model.save_weights(str(folder / zoo.registry.WEIGHTS_FILE))
    if vocabulary:
        assets = {zoo.info(name)["assets"]["vocabulary"]: vocabulary, **(assets or {})}
    for file_name, lines in (assets or {}).items():
        (folder / file_name).write_text("\n".join(lines) + "\n")
    cards.write_card(folder, name, "test", 0, {}, builder_kwargs)


def _images():
    rng = np.random.default_rng(0)
    rgb = tf.io.encode_jpeg(rng.integers(0, 256, (40, 30, 3), dtype=np.uint8)).numpy()
    grey = tf.io.encode_png(rng.integers(0, 256, (20, 20, 1), dtype=np.uint8)).numpy()
    rgba = tf.io.encode_png(rng.integers(0, 256, (9, 70, 4), dtype=np.uint8)).numpy()
    return [rgb, b"this is not an image", grey, rgb[:20], rgba]


def test_captioner_export_serves_captions_and_per_item_errors(tmp_path, monkeypatch):
    name = "show_attend_tell_flickr8k"
    use_only_weights_dir(monkeypatch, tmp_path / "weights")
    kwargs = dict(image_size=64, embedding_dim=8, units=8, attention_units=4, max_length=5)
    model = zoo.load(name, weights=None, vocabulary=VOCAB, **kwargs)
    _ship(name, model, kwargs, tmp_path / "weights", monkeypatch, VOCAB)

    # Toy models: the real datasets' warm-up examples need not fit them (tests below).
    path = export.export(name, output_dir=str(tmp_path / "export"), version=3, warmup=False)
    assert path == str(tmp_path / "export" / name / "3")
    images = _images()
    encoded = np.array(images, dtype=object).astype(bytes)
    out = serve_in_fresh_process(path, [{"image_bytes": encoded}], tmp_path)[0]
    assert out["caption"].shape == (5,) and out["attention"].shape == (5, 5, 2, 2)
    valid = [0, 2, 4]
    assert all(out["error"][i] == b"" for i in valid)
    for bad in (1, 3):  # garbage, truncated JPEG: reported, the batch still served
        assert b"could not decode" in out["error"][bad] and out["caption"][bad] == b""
        np.testing.assert_array_equal(out["attention"][bad], 0.0)

    pixels = np.stack([flickr8k.decode_image(images[i], 64).numpy() for i in valid])
    captions, maps = model.caption(pixels, beam_width=3, return_attention=True)
    assert [c.decode() for c in out["caption"][valid]] == captions
    for i, m in zip(valid, maps):
        np.testing.assert_allclose(out["attention"][i, :len(m)], m, rtol=1e-4, atol=1e-5)


def _ship_toy_gat(weights_dir, monkeypatch):
    """A 5-feature, 3-class gat_cora shipped in weights_dir; returns the model."""
    use_only_weights_dir(monkeypatch, weights_dir)
    kwargs = dict(num_features=5, num_classes=3)
    model = zoo.load("gat_cora", weights=None, return_attention=True, **kwargs)
    _ship("gat_cora", model, kwargs, weights_dir, monkeypatch)
    return model


def _toy_graph(num_nodes, num_features=5):
    return {"node_features": np.random.default_rng(num_nodes).random((num_nodes, num_features)).astype("float32"),
            "edges": np.array([[0, 1], [1, 0], [2, 3], [3, 2]], "int32")}


def test_gat_export_serves_logits_and_attention_and_writes_warmup_requests(tmp_path, monkeypatch):
    model = _ship_toy_gat(tmp_path / "weights", monkeypatch)
    graphs = [_toy_graph(6), _toy_graph(4)]
    monkeypatch.setattr(node_classification, "warmup_inputs", lambda config, data_dir: graphs)
    path = export.export("gat_cora", output_dir=str(tmp_path / "export"))

    requests = read_warmup_requests(path)  # what TF Serving replays before serving
    assert len(requests) == 2
    for request, graph in zip(requests, graphs):
        assert request.keys() == graph.keys()
        for key, proto in request.items():
            np.testing.assert_array_equal(tf.make_ndarray(proto), graph[key])
    for graph, out in zip(graphs, serve_in_fresh_process(path, requests, tmp_path)):
        expected = model(graph, training=False)
        np.testing.assert_allclose(out["logits"], expected["logits"], rtol=1e-5, atol=1e-6)
        for i, a in enumerate(expected["attention"]):
            np.testing.assert_allclose(out[f"attention_{i}"], a, rtol=1e-5, atol=1e-6)


def test_export_without_the_dataset_warns_and_writes_no_warmup(tmp_path, monkeypatch, offline_env):
    _ship_toy_gat(tmp_path / "weights", monkeypatch)
    # Cora is in no data folder and its download fails.
    monkeypatch.setattr(planetoid, "PLANETOID_URL", (tmp_path / "nowhere").as_uri() + "/")
    stale = tmp_path / "export" / "gat_cora" / "1" / export.WARMUP_FILE
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"an earlier export's requests")
    # The warning carries the loader's report of the files missing and where it looked.
    with pytest.warns(UserWarning, match=r"(?s)No TF Serving warm-up file written.*ind\.cora"):
        path = export.export("gat_cora", output_dir=str(tmp_path / "export"), force=True)
    assert (tmp_path / "export" / "gat_cora" / "1" / "saved_model.pb").is_file()
    assert not stale.exists()  # it would not fit the new model: TF Serving would refuse it
    assert path == str(stale.parents[1])


def test_export_rejects_warmup_examples_that_do_not_fit_the_signature(tmp_path, monkeypatch):
    _ship_toy_gat(tmp_path / "weights", monkeypatch)
    monkeypatch.setattr(node_classification, "warmup_inputs",
                        lambda config, data_dir: [_toy_graph(6, num_features=7)])
    with pytest.raises(ValueError, match=r"node_features.*does not fit.*--no-warmup"):
        export.export("gat_cora", output_dir=str(tmp_path / "export"))
    assert not (tmp_path / "export").exists()  # nothing half-written


@pytest.mark.parametrize("version", [0, -1, 2**63, True, 1.0, "3"])
def test_a_version_tf_serving_cannot_serve_is_refused(tmp_path, version):
    with pytest.raises(ValueError, match=re.escape(
            "`version` must be a positive integer no larger than 2**63 - 1 (9223372036854775807): "
            f"TF Serving reads version folders as int64. Received: version={version!r}")):
        export.export("gat_cora", output_dir=str(tmp_path), version=version)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("text", ["-1", "0", str(2**63), "two"])
def test_the_cli_refuses_a_bad_version_naming_the_flag(tmp_path, text, capsys):
    with pytest.raises(SystemExit):
        export.main(["gat_cora", "--output-dir", str(tmp_path), "--version", text])
    error = capsys.readouterr().err
    assert "argument --version: --version must be a positive integer" in error
    assert f"Received: version={text!r}" in error or f"Received: version={int(text)!r}" in error
    assert not any(tmp_path.iterdir())


def test_an_existing_version_is_refused_and_force_replaces_it_whole(tmp_path, monkeypatch):
    _ship_toy_gat(tmp_path / "weights", monkeypatch)
    name_dir = tmp_path / "export" / "gat_cora"
    first = export.export("gat_cora", output_dir=str(tmp_path / "export"), version=2, warmup=False)
    stray = pathlib.Path(first) / "stray.txt"
    stray.write_text("from an earlier export")
    before = (pathlib.Path(first) / "saved_model.pb").read_bytes()
    with pytest.raises(FileExistsError, match=re.escape(f"{first} exists") + ".*--force"):
        export.export("gat_cora", output_dir=str(tmp_path / "export"), version=2, warmup=False)
    assert stray.exists() and (pathlib.Path(first) / "saved_model.pb").read_bytes() == before

    # A write that fails midway leaves the served version as it was, and nothing else.
    def fail(self, path, *args, **kwargs):
        pathlib.Path(path).mkdir(parents=True, exist_ok=True)
        (pathlib.Path(path) / "saved_model.pb").write_bytes(b"half")
        raise OSError("No space left on device")

    # keras.export.ExportArchive() is the backend's subclass; patch the class export.py gets.
    with monkeypatch.context() as patch:
        patch.setattr(type(keras.export.ExportArchive()), "write_out", fail)
        with pytest.raises(OSError, match="No space left"):
            export.export("gat_cora", output_dir=str(tmp_path / "export"), version=2, warmup=False,
                          force=True)
    assert stray.exists() and sorted(p.name for p in name_dir.iterdir()) == ["2"]
    assert (pathlib.Path(first) / "saved_model.pb").read_bytes() == before

    export.export("gat_cora", output_dir=str(tmp_path / "export"), version=2, warmup=False, force=True)
    assert not stray.exists() and (pathlib.Path(first) / "saved_model.pb").is_file()
    assert sorted(p.name for p in name_dir.iterdir()) == ["2"]  # no partial or replaced folder


def test_text_classifier_export_serves_labels_and_attention_for_any_text(tmp_path, monkeypatch):
    name = "transformer_encoder_sst2"
    use_only_weights_dir(monkeypatch, tmp_path / "weights")
    vocabulary = ["", "[UNK]", "good", "bad", "movie", "not"]
    kwargs = dict(max_length=5, num_layers=1, num_heads=2, hidden_dim=8, ff_dim=16,
                  subword_lengths=None)
    model = zoo.load(name, weights=None, vocabulary=vocabulary, class_names=["neg", "pos"], **kwargs)
    _ship(name, model, kwargs, tmp_path / "weights", monkeypatch, vocabulary,
          {"labels.txt": ["neg", "pos"]})

    path = export.export(name, output_dir=str(tmp_path / "export"), warmup=False)
    # Empty, too long (truncated), unknown words and characters, mixed in one batch.
    texts = ["Good movie!", "", "not " * 50, "zzz ¿qué? \u00e9t\u00e9 \U0001f600", "bad"]
    encoded = np.array([t.encode("utf-8") for t in texts], dtype=object).astype(bytes)
    out = serve_in_fresh_process(path, [{"text": encoded}], tmp_path)[0]
    assert out["label"].dtype == np.int32 and out["label"].shape == (5,)
    assert out["probabilities"].shape == (5, 2) and out["attention"].shape == (5, 2, 5, 5)
    expected = model.classify(texts, return_attention=True)
    np.testing.assert_allclose(out["probabilities"], expected["probabilities"], rtol=1e-5, atol=1e-6)
    assert [b.decode() for b in out["class_name"]] == expected["labels"]
    for i, (words, weights) in enumerate(zip(expected["tokens"], expected["attention"])):
        n = len(words)
        assert [t.decode() for t in out["tokens"][i, :n]] == words
        assert all(t == b"" for t in out["tokens"][i, n:])  # padding
        np.testing.assert_allclose(out["attention"][i, :, :n, :n], weights, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(out["attention"][i, :, :, n:], 0.0)  # no weight on padding
    np.testing.assert_array_equal(out["attention"][1], 0.0)  # the empty text attends nowhere


def test_translator_export_serves_translations_and_alignments_for_any_text(tmp_path, monkeypatch):
    name = "seq2seq_attn_spa_eng"
    use_only_weights_dir(monkeypatch, tmp_path / "weights")
    source = ["", "[UNK]", "¿", "?", ".", "dónde", "está", "el", "perro"]
    target = ["", "[UNK]", "[START]", "[END]", ".", "?", "where", "is", "the", "dog"]
    kwargs = dict(embedding_dim=8, units=8, max_source_length=5, max_target_length=6)
    model = zoo.load(name, weights=None, source_vocabulary=source, target_vocabulary=target,
                     **kwargs)
    _ship(name, model, kwargs, tmp_path / "weights", monkeypatch,
          assets={"source_vocabulary.txt": source, "target_vocabulary.txt": target})

    path = export.export(name, output_dir=str(tmp_path / "export"), warmup=False)
    # Empty, too long (truncated), unknown words and characters, mixed in one batch.
    texts = ["¿Dónde está el perro?", "", "perro " * 20, "zzz ¿qué? \u00e9t\u00e9 \U0001f600"]
    encoded = np.array([t.encode("utf-8") for t in texts], dtype=object).astype(bytes)
    out = serve_in_fresh_process(path, [{"text": encoded}], tmp_path)[0]
    with pytest.warns(UserWarning, match="truncated"):
        translations, alignments = model.translate(texts, return_attention=True)
    assert [t.decode() for t in out["translation"]] == translations
    assert translations[1] == ""  # an empty text translates to an empty string
    assert out["attention"].shape[0] == 4 and out["attention"].shape[2] == 5
    for i, alignment in enumerate(alignments):
        m, n = alignment["attention"].shape
        np.testing.assert_allclose(out["attention"][i, :m, :n], alignment["attention"],
                                   rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(out["attention"][i, m:], 0.0)  # after [END]
        np.testing.assert_array_equal(out["attention"][i, :, n:], 0.0)  # padding
        if m:
            np.testing.assert_allclose(out["attention"][i, :m].sum(-1), 1.0, rtol=1e-5)


def test_export_cli_and_unknown_name(tmp_path):
    with pytest.raises(ValueError, match="gat_cora"):
        export.main(["gat_coda", "--output-dir", str(tmp_path)])

