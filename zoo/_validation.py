"""Argument checks shared by the layers: errors name the argument, the value
and what is allowed (the keras "Received: x=..." style)."""

import keras
import numpy as np


def assert_positive_int(name, value, allow_none=False):
    """Raises a ValueError naming `name` unless `value` is an int >= 1."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        allowed = "a positive integer" + (" or None" if allow_none else "")
        raise ValueError(f"`{name}` must be {allowed}. Received: {name}={value!r}")


def assert_rate(name, value):
    """Raises a ValueError naming `name` unless 0 <= value < 1."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"`{name}` must be a float in [0, 1). Received: {name}={value!r}")


def assert_choice(name, value, allowed):
    """Raises a ValueError naming `name` unless `value` is one of `allowed`."""
    if value not in allowed:
        raise ValueError(
            f"`{name}` must be one of {', '.join(repr(a) for a in allowed)}. "
            f"Received: {name}={value!r}"
        )


# Call-time input checks. They read static shapes and dtypes only (known
# eagerly and when a graph is traced), so they cost nothing per step and
# turn a backend's reshape or matmul error into one that names the argument.


def static_shape(x):
    """The static shape of a tensor, array or nested list (None for an
    unknown dimension), or None when even the rank is unknown."""
    shape = getattr(x, "shape", None)
    if shape is None:
        shape = np.shape(x)
    try:
        return tuple(None if d is None else int(d) for d in shape)
    except (TypeError, ValueError):  # a graph tensor of unknown rank
        return None


def assert_tensor(name, x, layout, floating=False):
    """Raises a ValueError naming `name` unless `x` has one dimension per
    entry of `layout` (e.g. ``("B", "Tq", "Dq")``) and, with `floating`, a
    floating-point dtype. Returns the static shape (None if unknown)."""
    shape = static_shape(x)
    expected = f"[{', '.join(layout)}]"
    if shape is not None and len(shape) != len(layout):
        raise ValueError(
            f"`{name}` must be a {len(layout)}-D tensor {expected}. Received: {name}.shape={shape}"
        )
    dtype = getattr(x, "dtype", None)
    if floating and dtype is not None:
        try:
            dtype = keras.backend.standardize_dtype(dtype)
        except ValueError:  # e.g. a NumPy string array
            dtype = str(dtype)
        if "float" not in dtype:
            raise ValueError(
                f"`{name}` must be a floating-point tensor {expected} (token ids go through an "
                f"Embedding first). Received: {name}.dtype={dtype}"
            )
    return shape


def assert_same_size(what, sizes):
    """Raises a ValueError unless the known (non-None) values of `sizes`
    (``{"query.shape[0]": 2, "value.shape[0]": 1}``) are equal; `what`
    says what they are, e.g. "The batch sizes of `query` and `value`"."""
    known = {label: size for label, size in sizes.items() if size is not None}
    if len(set(known.values())) > 1:
        received = ", ".join(f"{label}={size}" for label, size in known.items())
        raise ValueError(f"{what} must match. Received: {received}")


def text_list(texts, name="texts"):
    """`texts` (a list, tuple or 1-D array of str or UTF-8 bytes) as a list
    of str. Raises a ValueError for one string (a common slip: it would be
    read as a list of characters) and names the first item that is not text."""
    if isinstance(texts, (str, bytes)):
        raise ValueError(f"`{name}` must be a list of strings, not one string. Received: {name}={texts!r}")
    try:
        items = list(texts)
    except TypeError:
        raise ValueError(f"`{name}` must be a list of strings. Received: {name}={texts!r}") from None
    result = []
    for index, item in enumerate(items):
        if isinstance(item, bytes):
            try:
                item = item.decode("utf-8")
            except UnicodeDecodeError as error:
                raise ValueError(f"`{name}` must hold UTF-8 text. Received: {name}[{index}]={item!r} "
                                 f"({error.reason})") from None
        elif not isinstance(item, str):
            raise ValueError(f"`{name}` must be a list of strings. Received: {name}[{index}]={item!r} "
                             f"of type {type(item).__name__}")
        result.append(str(item))
    return result


def concrete_value(x):
    """`x` as a NumPy array when it holds values now (eager), else None.

    Lets a layer check ids and values with a clear message when called
    eagerly; inside a traced graph there are no values to check.
    """
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, keras.KerasTensor) or not hasattr(x, "numpy"):
        return None
    try:
        return keras.ops.convert_to_numpy(x)
    except Exception:  # A symbolic tensor of the backend: nothing to check.
        return None


def assert_finite_features(features):
    """Raises a ValueError naming the first non-finite entry of the node
    features `[N, F]` (a NumPy array, or None: nothing to check)."""
    if features is not None and not np.all(np.isfinite(features)):
        bad = np.argwhere(~np.isfinite(features))[0]
        raise ValueError(
            f"`node_features` must be finite; node {bad[0]}, feature {bad[1]} is "
            f"{features[tuple(bad)]}. Replace missing values before the graph layer."
        )
