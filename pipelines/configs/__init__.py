"""One config per zoo entry: its training settings (plain dicts; the
architecture is the entry's preset), and in its docstring how to run it and
what it should reach (big_vision style)."""

import importlib


def get_config(name):
    """The CONFIG dict of entry `name` (ValueError naming the known ones)."""
    import zoo

    if name not in zoo.list_models():
        zoo.info(name)  # Raises the registry's ValueError with close matches.
    return dict(importlib.import_module(f"pipelines.configs.{name}").CONFIG)


def get_types(name):
    """The config's TYPES: {key: accepted types} for settings whose default
    does not say their type (a None that may also be an int); {} if none."""
    get_config(name)  # the same ValueError for an unknown name
    return dict(getattr(importlib.import_module(f"pipelines.configs.{name}"), "TYPES", {}))
