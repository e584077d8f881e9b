"""Argument checks shared by the layers: errors name the argument, the value
and what is allowed (the keras "Received: x=..." style)."""

import keras
import numpy as np
from keras.src.backend.common.symbolic_scope import in_symbolic_scope


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
        return tuple(_static_dim(d) for d in shape)
    except (TypeError, ValueError):  # a graph tensor of unknown rank
        return None


def _static_dim(d):
    """A dimension as an int, or None when it is unknown: None itself, or a
    symbolic dimension (JAX builds functional models with jax.export's
    symbolic shapes, and int() of one raises InconclusiveDimensionOperation)."""
    if d is None:
        return None
    try:
        return int(d)
    except Exception:  # noqa: BLE001 -- JAX's error type is private
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
    # While a functional model is built, Keras calls the layer on placeholder
    # tensors inside a SymbolicScope; on PyTorch those are real tensors filled
    # with ones, whose "values" would pass every check. Keras exports the scope
    # (keras.SymbolicScope) but not the query, hence keras.src.
    if in_symbolic_scope():
        return None
    # TensorFlow and PyTorch tensors have .numpy(), JAX arrays __array__; a
    # symbolic one (tf.function, a jit tracer) raises when converted.
    if isinstance(x, keras.KerasTensor) or not (hasattr(x, "numpy") or hasattr(x, "__array__")):
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


# Masks. Every layer reads a mask the way `zoo.ops.merge_masks` does: True
# (or 1) = may attend. A float mask is the place where another convention
# slips in (an additive mask, 0 = keep and -inf or -1e9 = drop, which a cast
# to bool would invert), so its values are checked wherever they are known.

MASK_CONVENTION = "a boolean mask (True = may attend; 0/1 numbers are read the same way)"


def _dtype_name(x):
    dtype = getattr(x, "dtype", None)
    if dtype is None:
        dtype = np.asarray(x).dtype
    try:
        return keras.backend.standardize_dtype(dtype)
    except ValueError:  # e.g. a NumPy string array
        return str(dtype)


def assert_mask_values(name, mask):
    """Raises a ValueError naming `name` unless `mask` is boolean or holds
    only 0 and 1.

    Bool masks cost nothing (no values are read). A non-bool mask's values
    are read where they are known (eager calls); a float mask inside a
    traced graph (a functional model being built, `tf.function`, `jit`)
    has no values to read, so it is refused by its dtype: cast it to bool
    where its convention is known.
    """
    if mask is None:
        return
    dtype = _dtype_name(mask)
    if dtype == "bool":
        return
    values = concrete_value(mask) if hasattr(mask, "shape") else np.asarray(mask)
    if values is None:
        if "float" in dtype:
            raise ValueError(
                f"`{name}` must be {MASK_CONVENTION}. Received: a {dtype} {name} in a traced graph "
                "(functional model, tf.function, jit), whose values cannot be checked here: cast it "
                f"to bool first (`{name} > 0.5` for a 0/1 mask, `{name} == 0` for an additive 0/-inf one)")
        return  # integer masks: 0/1 is the only integer convention in use
    bad = values[(values != 0) & (values != 1)]
    if bad.size:
        value = bad.flat[0].item()  # a Python number: no np.float32(...) in the message
        hint = (" It looks like an additive mask (0 = keep, -inf or a large negative number = drop): "
                f"pass `{name} == 0` instead." if value < 0 else "")
        raise ValueError(f"`{name}` must be {MASK_CONVENTION}. Received: {name} of dtype {dtype} "
                         f"holding {value!r}.{hint}")


def assert_mask(name, mask, layout, expected, broadcast=False, message=None):
    """Raises a ValueError naming `name` unless `mask` has the dimensions
    `layout` (e.g. ``("B", "Tv")``) of the sizes `expected` (None: unknown)
    and holds booleans (`assert_mask_values`).

    The batch dimension must match exactly: a mask of batch 1 for B = 2
    would broadcast silently. With `broadcast`, the other dimensions may be
    1 (an attention mask `[B, 1, Tv]`). `message` replaces the start of the
    shape error (its "Received: ..." is kept).
    """
    if mask is None:
        return
    shape = assert_tensor(name, mask, layout)
    if shape is not None:
        for axis, (actual, size) in enumerate(zip(shape, expected)):
            if actual is None or size is None or actual == size or (broadcast and axis and actual == 1):
                continue
            start = message or f"`{name}` must be a mask [{', '.join(layout)}] = {tuple(expected)}."
            raise ValueError(f"{start} Received: {name}.shape={shape}")
    assert_mask_values(name, mask)


def assert_finite(name, x):
    """Raises a ValueError naming `name` and the first non-finite entry of
    `x` when its values are known (eager calls).

    One reduction and one scalar read on the device; the entry is looked up
    only when there is one. Inside a traced graph (fit's compiled steps, an
    export) there is nothing to read: a NaN there shows up in the loss.
    """
    if x is None or isinstance(x, keras.KerasTensor) or not hasattr(x, "shape"):
        return
    try:
        finite = bool(keras.ops.convert_to_numpy(keras.ops.all(keras.ops.isfinite(x))))
    except Exception:  # a symbolic tensor of the backend: no values
        return
    if not finite:
        values = keras.ops.convert_to_numpy(x)
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(values))[0])
        raise ValueError(f"`{name}` must be finite; {name}[{', '.join(map(str, index))}] is "
                         f"{values[index]}. Replace NaN and inf before the attention layer.")


def assert_integer_ids(name, ids):
    """Raises a ValueError naming `name` unless `ids` has an integer dtype
    (read statically: eager and traced calls). A cast to int would truncate
    float ids (0.7 -> 0) silently."""
    dtype = _dtype_name(ids)
    if "int" not in dtype:
        raise ValueError(f"`{name}` must hold integer node ids. Received: {name}.dtype={dtype}")
