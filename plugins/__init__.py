"""Built-in transform plugins, installed as ``augcore.plugins``.

The modules (``canvas``, ``geometric``, ``pixel``) are imported on first attribute access, so
``augcore.plugins.geometric.Rotate`` works after a plain ``import augcore`` without making that
import pay for numpy.
"""

from __future__ import annotations

import importlib
from types import ModuleType

_MODULES = ("canvas", "geometric", "pixel")


def __getattr__(name: str) -> ModuleType:
    if name in _MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
