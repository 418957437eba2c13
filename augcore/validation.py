"""The checks every boundary of augcore shares: what counts as a number, an integer, a mode.

One home for them, so that a config, a kernel call, a job option and a Keras argument accept
and refuse exactly the same values. The predicates (``is_number``, ``is_integer``) leave the
error to the caller; ``require_int`` raises the exception class its caller passes, so each
boundary keeps its own ``augcore.errors`` class while the rule and the wording stay one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from augcore.errors import ConfigError

#: The border modes of the warp kernel, each named as in ``scipy.ndimage``.
FILL_MODES = ("nearest", "constant", "reflect", "wrap")


def is_number(value: Any) -> bool:
    """A real number given as Python or numpy int or float; bools are not numbers here."""
    if type(value) is int or type(value) is float:  # the common case, without isinstance chains
        return True
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def is_integer(value: Any) -> bool:
    """A Python or numpy integer that is not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_probability(p: Any, where: str) -> float:
    """``p`` as a float in [0, 1], or a ConfigError naming ``where``."""
    if not is_number(p) or not 0.0 <= p <= 1.0:
        raise ConfigError(f"{where}: 'p' got {p!r}; allowed: a number in [0, 1]")
    return float(p)


def require_int(
    name: str,
    value: Any,
    *,
    minimum: int,
    maximum: int | None = None,
    error: type[Exception],
) -> int:
    """``value`` as an int when it is an integer in [minimum, maximum]; else ``error``.

    The one count/index/seed check: ``error`` is the caller's ``AugcoreError`` subclass (an
    ``AugmentOptionError`` for ``augment``, a ``StreamOptionError`` for ``AugmentStream``...),
    and the message names the parameter, what is allowed and what it got.
    """
    if is_integer(value) and value >= minimum and (maximum is None or value <= maximum):
        return int(value)
    upper = "" if maximum is None else f" and <= {maximum}"
    raise error(f"{name} must be an integer >= {minimum}{upper}, got {value!r}")
