"""`python -m zoo list / info NAME`."""

import json
import subprocess
import sys

import zoo
from zoo.__main__ import main


def test_list_prints_every_entry_with_its_metrics(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == zoo.list_models()
    gat = next(line for line in lines if line.startswith("gat_cora"))
    metrics = zoo.info("gat_cora")["metrics"]
    assert f"test_accuracy={metrics['test_accuracy']}" in gat


def test_info_prints_json_and_unknown_names_fail_with_a_suggestion(capsys):
    assert main(["info", "gat_cora"]) == 0
    printed = json.loads(capsys.readouterr().out)
    settings = printed.pop("settings")
    assert printed == json.loads(json.dumps(zoo.info("gat_cora")))
    # The `--set` keys of pipelines.train with their defaults: the preset's
    # architecture (less the dataset's sizes) and the config's training settings.
    assert settings["architecture"]["num_heads"] == 8 and "num_features" not in settings["architecture"]
    assert settings["training"]["learning_rate"] == 0.005 and "task" not in settings["training"]
    assert main(["info", "gat_coda"]) == 2
    assert "gat_cora" in capsys.readouterr().err


def test_runs_as_a_module():
    out = subprocess.run([sys.executable, "-m", "zoo", "list"], check=True, capture_output=True,
                         text=True).stdout
    assert "transformer_encoder_sst2" in out
