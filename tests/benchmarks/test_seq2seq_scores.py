"""The seq2seq scores benchmark on toy pairs and a tiny model: no attention
and additive, one epoch, one decode batch."""

import json
import math

import pytest

from benchmarks import seq2seq_scores as bench
from pipelines.data import tatoeba
from tests.pipelines.conftest import offline_env  # noqa: F401  (the fixture, for usefixtures)
from tests.pipelines.test_translation import write_toy_pairs

pytestmark = [pytest.mark.tf_only, pytest.mark.usefixtures("offline_env")]

TINY = dict(batch_size=16, model=dict(embedding_dim=8, units=8, dropout=0.0, max_source_length=8,
                                      max_target_length=8))
MEASURED = ("bleu_greedy", "bleu_beam4", "chrf_greedy", "chrf_beam4", "train_seconds",
            "train_target_tokens_per_second", "greedy_sentences_per_second",
            "beam4_sentences_per_second", "greedy_strings_sentences_per_second")


def test_run_writes_scores_speeds_and_the_attention_variants_heatmaps(tmp_path, monkeypatch):
    toy = tatoeba.load_pairs_file(write_toy_pairs(tmp_path / "pairs.txt", count=300))
    monkeypatch.setattr(tatoeba, "load_tatoeba_spa_eng", lambda data_dir=None: toy)
    output = tmp_path / "results" / "seq2seq_scores.json"
    bench.run(str(output), argv=["--output", str(output)], epochs=1, scores=("none", "additive"),
              decode_batches=1, config_overrides=TINY, verbose=0)

    report = json.loads(output.read_text())
    assert [r["score"] for r in report["results"]] == ["none", "additive"]
    assert report["config"]["model"]["units"] == 8 and report["config"]["patience"] >= 1
    for result in report["results"]:
        assert result["epochs"] == 1
        for key in MEASURED:
            assert math.isfinite(result[key]) and result[key] >= 0, (key, result[key])
        for key in MEASURED[4:]:
            assert result[key] > 0, key
    assert report["figure_score"] == "additive"
    assert report["figures"] == ["seq2seq_scores_additive_0.png", "seq2seq_scores_additive_1.png"]
    assert sorted(p.name for p in output.parent.glob("*.png")) == report["figures"]

    table = output.with_suffix(".md").read_text()
    assert "| none |" in table and "| additive |" in table and "BLEU 37.3" in table
    assert "seq2seq_scores_additive_0.png" in table
