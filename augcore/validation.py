"""The checks every boundary of augcore shares: what counts as a number, an integer, a mode.

One home for them, so that a config, a kernel call, a job option and a Keras argument accept
and refuse exactly the same values. Errors are raised by the callers, which know the parameter's
name and the exception class of their boundary (``augcore.errors``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

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
