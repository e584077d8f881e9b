"""The task contract (`pipelines.tasks`): every task module implements
`Task` with its parameters, an unknown task or an incomplete module is
refused, and the one `save` writes what `zoo.load` reads."""

import importlib
import inspect
import types

import pytest

import zoo
from pipelines import tasks
from pipelines.configs import get_config

pytestmark = pytest.mark.tf_only


@pytest.mark.parametrize("task", sorted(tasks.TASKS))
def test_every_task_module_implements_the_contract(task):
    """The declared parameters, in order; more only with defaults (e.g.
    evaluate's beam widths), which the pipelines never pass."""
    module = importlib.import_module(tasks.TASKS[task])
    for name in tasks.task_functions():
        parameters = list(inspect.signature(getattr(module, name)).parameters.values())
        declared = tasks.declared_parameters(name)
        assert [p.name for p in parameters[:len(declared)]] == declared, f"{module.__name__}.{name}"
        extra = parameters[len(declared):]
        assert all(p.default is not inspect.Parameter.empty for p in extra), \
            f"{module.__name__}.{name}: {[p.name for p in extra]}"


def test_every_entry_has_a_task():
    assert {get_config(name)["task"] for name in zoo.list_models()} <= set(tasks.TASKS)
    assert tasks.task_functions() == ["evaluate", "evaluation_data", "serving", "train",
                                      "warmup_inputs"]


def test_an_unknown_task_or_an_incomplete_module_is_refused():
    with pytest.raises(ValueError, match=r"task='segmentation'; expected one of node_classification"):
        tasks.task_for({"task": "segmentation"})
    incomplete = types.ModuleType("pipelines.half_done")
    incomplete.train = incomplete.evaluate = lambda *args: None
    with pytest.raises(TypeError, match=r"pipelines.half_done lacks evaluation_data, serving, "
                                        r"warmup_inputs"):
        tasks.check_task(incomplete)


class _Model:
    """What `save` reads of a model: its weights, and attributes named as the assets."""

    optimizer = None

    def __init__(self, **assets):
        self.__dict__.update(assets)
        self.saved = None

    def save_weights(self, path):
        self.saved = path
        open(path, "wb").close()


def test_save_writes_each_asset_of_the_entry_and_skips_a_missing_optional_one(tmp_path):
    name = "transformer_encoder_sst2"
    model = _Model(vocabulary=["", "[UNK]", "good"], class_names=["negative", "positive"],
                   subwords=None)
    tasks.save(model, tmp_path, name)
    files = zoo.info(name)["assets"]
    assert (tmp_path / files["vocabulary"]).read_text() == "\n[UNK]\ngood\n"
    assert (tmp_path / files["class_names"]).read_text() == "negative\npositive\n"
    assert not (tmp_path / files["subwords"]).exists()
    assert model.saved == str(tmp_path / zoo.registry.WEIGHTS_FILE)
