"""The SST-2 accuracy benchmark on toy TSV files and a tiny model: zoo and
keras_mha, one seed, one epoch (keras_hub lives in its own venv)."""

import numpy as np
import pytest
from keras import ops

import zoo
from benchmarks import report as report_io
from benchmarks import transformer_sst2 as bench
from pipelines.configs import get_config
from tests.pipelines.conftest import offline_env  # noqa: F401  (the fixture, for usefixtures)
from tests.pipelines.test_text_classification import write_toy_tsv_files
from zoo.models.transformer_encoder import build_transformer_encoder_classifier

pytestmark = [pytest.mark.tf_only, pytest.mark.usefixtures("offline_env")]

TINY_MODEL = dict(max_length=16, num_layers=1, num_heads=2, hidden_dim=8, ff_dim=16, dropout=0.1)


@pytest.fixture
def tiny_config(tmp_path):
    """The entry's config on toy TSV files, with a tiny model and one epoch."""
    files = write_toy_tsv_files(tmp_path, sizes=(64, 16, 16))
    return bench.apply_overrides(get_config(bench.NAME), dict(
        files=files, dataset="tsv", batch_size=8, max_epochs=1, model=TINY_MODEL))


def test_overrides_merge_the_model_dict_and_keep_the_entrys_config():
    config = get_config(bench.NAME)
    merged = bench.apply_overrides(config, dict(max_epochs=1, model=dict(num_layers=1)))
    assert merged["max_epochs"] == 1 and merged["model"]["num_layers"] == 1
    preset = zoo.info(bench.NAME)["kwargs"]  # the architecture: the preset's
    assert merged["model"]["num_heads"] == preset["num_heads"]
    assert get_config(bench.NAME) == config and "model" not in config  # not mutated


def test_zoo_and_keras_mha_train_the_same_size_model(tiny_config):
    results = {variant: bench.run_variant(variant, tiny_config, seeds=1)
               for variant in ("zoo", "keras_mha")}
    bench.check_parameters(results)
    zoo_result, mha_result = results["zoo"], results["keras_mha"]
    assert zoo_result["architecture"] == mha_result["architecture"]
    assert zoo_result["architecture"]["hidden_dim"] == 8
    for result in results.values():
        (run,) = result["per_seed"]
        assert run["seed"] == 0 and run["epochs"] == 1 and run["parameters"] == result["parameters"]
        for split in ("test", "validation"):
            assert 0.0 <= run[f"{split}_accuracy"] <= 100.0
            assert result[f"{split}_accuracy_mean"] == run[f"{split}_accuracy"]
            assert result[f"{split}_accuracy_std"] == 0.0
        assert run["train_seconds"] > 0
    report = dict(date="today", machine="m", command="c", versions=report_io.versions(),
                  dataset="toy", seeds=[0], config=tiny_config, kim_2014=bench.KIM_2014,
                  results=results)
    table = bench.markdown(report)
    assert "| zoo |" in table and "| keras_mha |" in table and "82.7" in table


def copy_zoo_weights(zoo_model, baseline):
    """zoo's weights into a keras_mha baseline: zoo's stacked [D, 3D] Q|K|V
    kernel is keras MHA's three [D, H, D/H] kernels side by side."""
    zoo_layers = {layer.name: layer for layer in zoo_model.backbone.layers}
    for layer in baseline.backbone.layers:
        if layer.name not in zoo_layers or not layer.weights:
            continue
        source = zoo_layers[layer.name]
        if not layer.name.startswith("block_"):  # embedding, final norm
            layer.set_weights(source.get_weights())
            continue
        kernel, bias = source.attention.qkv_dense.get_weights()  # [D, 3D], [3D]
        dim, heads = kernel.shape[0], layer.attention.num_heads
        for index, dense in enumerate((layer.attention._query_dense, layer.attention._key_dense,
                                       layer.attention._value_dense)):
            part = slice(index * dim, (index + 1) * dim)
            dense.set_weights([kernel[:, part].reshape(dim, heads, -1), bias[part].reshape(heads, -1)])
        kernel, bias = source.attention.output_dense.get_weights()  # [D, D], [D]
        layer.attention._output_dense.set_weights([kernel.reshape(heads, -1, dim), bias])
        for name in ("attention_norm", "ff_norm", "ff_hidden", "ff_output"):
            getattr(layer, name).set_weights(getattr(source, name).get_weights())
    baseline.get_layer("logits").set_weights(zoo_model.get_layer("logits").get_weights())


@pytest.mark.parametrize("norm_first", [False, True])
def test_keras_mha_baseline_computes_the_zoo_models_function(norm_first):
    vocabulary = ["", "[UNK]"] + [f"w{i}" for i in range(20)]
    zoo_model = build_transformer_encoder_classifier(
        vocabulary, ["a", "b"], max_length=16, num_layers=2, num_heads=2, hidden_dim=8, ff_dim=16,
        norm_first=norm_first, position_encoding="sinusoidal")
    arch = bench.architecture(zoo_model)
    assert arch["norm_first"] is norm_first and arch["position_encoding"] == "sinusoidal"
    baseline = bench.baseline_classifier("keras_mha", arch, vocabulary, ["a", "b"], "lower")
    assert bench.count_parameters(baseline) == bench.count_parameters(zoo_model)
    copy_zoo_weights(zoo_model, baseline)
    ids = zoo_model.preprocessor(["w1 w2 w3", "w4 w5 w6 w7 w8 w9 w10 w11 w12", ""])
    np.testing.assert_allclose(ops.convert_to_numpy(baseline(ids)), ops.convert_to_numpy(zoo_model(ids)),
                               atol=1e-5)
    weights = ops.convert_to_numpy(baseline.backbone(ids)["attention"][-1])  # [B, H, T, T]
    assert weights.shape == (3, 2, 16, 16)
    np.testing.assert_allclose(weights[1, :, :9].sum(-1), 1.0, atol=1e-5)  # real queries


def test_parameter_mismatch_is_an_error():
    with pytest.raises(AssertionError, match="differ"):
        bench.check_parameters(dict(zoo=dict(parameters=10), keras_mha=dict(parameters=11)))
