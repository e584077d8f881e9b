"""One config per zoo entry: hyperparameters, and in its docstring how to run
it and what it should reach (big_vision style)."""

import importlib


def get_config(name):
    """The CONFIG dict of entry `name` (ValueError naming the known ones)."""
    import zoo

    if name not in zoo.list_models():
        zoo.info(name)  # Raises the registry's ValueError with close matches.
    return dict(importlib.import_module(f"pipelines.configs.{name}").CONFIG)
