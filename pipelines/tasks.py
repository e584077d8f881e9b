"""The task contract: what `python -m pipelines.train`, `pipelines.evaluate`
and `pipelines.export` need of each task, declared once (`Task`), and the
one `save` every task's training ends with.

A config names its task (``config["task"]``); `task_for(config)` returns
the module of `TASKS` that implements it, checked against `Task`:

    task = task_for(get_config("gat_cora"))
    model, data, builder_kwargs, history = task.train("gat_cora", config, seed=0)
    metrics = task.evaluate(model, data)
    save(model, "runs/gat_cora", "gat_cora")

A task is a module rather than an object so that a test or a benchmark
can patch one function of it (`monkeypatch.setattr(task, "train", ...)`).
"""

import importlib
import inspect
import os
import typing

from pipelines.cards import save_inference_weights
from zoo.registry import info

# config["task"] -> the module that implements `Task` for it.
TASKS = {"node_classification": "pipelines.node_classification",
         "captioning": "pipelines.captioning",
         "text_classification": "pipelines.text_classification",
         "translation": "pipelines.translation"}


class Task(typing.Protocol):
    """The functions a task module provides (module functions, so without
    `self`), with these parameters first; more only with defaults, which
    the pipelines never pass (tests/pipelines/test_tasks.py checks it)."""

    def train(self, name, config, seed, logdir=None, backup_dir=None, epochs=None, verbose=2,
              data_dir=None, extra_callbacks=(), runtime=None, model_kwargs=None):
        """Trains entry `name` from scratch on `config`'s data (`runtime`: a
        `pipelines.runtime.Runtime`; `model_kwargs`: architecture overrides
        of the preset); returns (model with the best epoch's weights, the
        data `evaluate` reads, the builder kwargs to record, the Keras
        History with `best_epoch` and `epochs_run`)."""

    def evaluation_data(self, model, config, data_dir=None):
        """The data `evaluate` reads, for a model loaded rather than trained."""

    def evaluate(self, model, data):
        """{metric: value}: what the card records and the benchmarks compare."""

    def serving(self, name, weights="trained"):
        """(what the SavedModel tracks, the serving function, its input
        signature), for `pipelines.export`."""

    def warmup_inputs(self, config, data_dir=None):
        """TF Serving warm-up requests (dicts of the signature's inputs)."""


def task_functions():
    """The names of `Task`'s functions."""
    return [name for name, _ in inspect.getmembers(Task, inspect.isfunction)
            if not name.startswith("_")]


def declared_parameters(function_name):
    """The parameter names `Task` declares for `function_name` (without self)."""
    return list(inspect.signature(getattr(Task, function_name)).parameters)[1:]


def check_task(module):
    """Raises TypeError unless `module` has every `Task` function. (That
    each takes `Task`'s parameters is tests/pipelines/test_tasks.py's check:
    here a test's wrapper of one must pass.)"""
    missing = [name for name in task_functions() if not callable(getattr(module, name, None))]
    if missing:
        raise TypeError(f"Task module {module.__name__} lacks {', '.join(missing)} "
                        "(pipelines.tasks.Task declares them).")
    return module


def task_for(config) -> Task:
    """The task module of `config["task"]`, checked against `Task`."""
    task = config.get("task")
    if task not in TASKS:
        raise ValueError(f"Unknown task. Received: task={task!r}; expected one of "
                         f"{', '.join(TASKS)}.")
    return check_task(importlib.import_module(TASKS[task]))


def save(model, output_dir, name):
    """Writes what `zoo.load(name, weights=output_dir)` reads: the weights
    (without optimizer state, `save_inference_weights`) and each asset of
    entry `name` (`zoo.info(name)["assets"]`: builder kwarg → file name),
    the model's attribute of that name one item per line; an optional
    asset the model does not have (None, e.g. subwords) is not written."""
    save_inference_weights(model, output_dir)
    for attribute, file_name in info(name)["assets"].items():
        lines = getattr(model, attribute)
        if lines is None:
            continue
        with open(os.path.join(output_dir, file_name), "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
