"""attention-zoo: every attention variant of the lecture as a Keras 3 layer,
and trained zoo models built from them.

>>> import zoo
>>> zoo.list_models()
['gat_cora']
>>> model = zoo.load("gat_cora")
"""

import importlib

from zoo import layers, models, ops
from zoo.registry import info, list_models, load

__version__ = "0.1.0"
__all__ = ["info", "layers", "list_models", "load", "models", "ops", "viz", "__version__"]


def __getattr__(name):
    # zoo.viz pulls in matplotlib; import it only when it is used.
    if name == "viz":
        return importlib.import_module("zoo.viz")
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")
