"""attention-zoo: every attention variant of the lecture as a Keras 3 layer,
and trained zoo models built from them.

>>> import zoo
>>> zoo.list_models()
>>> model = zoo.load("gat_cora")
"""

from zoo import layers, ops

__version__ = "0.1.0"
__all__ = ["layers", "ops", "__version__"]
