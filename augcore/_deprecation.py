"""Old public names that keep working, with a ``DeprecationWarning`` naming the new one.

One home for renames (docs/glossary.md lists them all), so that each says the same thing and
each can be found and removed together when 1.0 drops them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")
REMOVED_IN = "1.0"


def warn_renamed(old: str, new: str, *, stacklevel: int = 3) -> None:
    """Warn (once per call site, as warnings do) that ``old`` is now called ``new``."""
    warnings.warn(
        f"{old} is deprecated and will be removed in augcore {REMOVED_IN}; use {new} "
        "(docs/glossary.md lists every rename)",
        DeprecationWarning,
        stacklevel=stacklevel,
    )


def renamed_keyword(
    where: str,
    old: tuple[str, T | None],
    new: tuple[str, T | None],
    default: T,
    error: type[Exception],
) -> T:
    """The value of a keyword argument renamed from ``old`` to ``new``, each (name, value).

    Both default to None in the signature so that passing the old one is detected; passing
    both is ``error`` (the caller's option error), as Python refuses a keyword given twice.
    """
    (old_name, old_value), (new_name, new_value) = old, new
    if old_value is None:
        return default if new_value is None else new_value
    if new_value is not None:
        raise error(f"{where} got both {new_name}= and its old name {old_name}=; pass {new_name}=")
    warn_renamed(f"{where}({old_name}=...)", f"{new_name}=", stacklevel=4)
    return old_value


def renamed_attributes(module: str, renamed: Mapping[str, tuple[str, Any]]) -> Callable[[str], Any]:
    """A module ``__getattr__`` serving ``renamed`` old names: old -> (new name, object)."""

    def __getattr__(name: str) -> Any:
        if name in renamed:
            new, value = renamed[name]
            warn_renamed(f"{module}.{name}", new)
            return value
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__
