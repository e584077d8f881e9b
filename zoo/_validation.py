"""Argument checks shared by the layers: errors name the argument, the value
and what is allowed (the keras "Received: x=..." style)."""


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
