"""augcore: fast, auditable, plugin-based image augmentation.

Importing augcore has no side effects: no plugin is loaded, no RNG is seeded and no global
state is created until you build a pipeline or plugin manager yourself.
"""

from __future__ import annotations

from augcore.errors import (
    AugcoreError,
    BatchLengthError,
    ConfigError,
    DuplicateTransformError,
    ImageDtypeError,
    ImageShapeError,
    InputImageError,
    ManifestError,
    MatrixError,
    OutputArrayError,
    OutputConflictError,
    PluginContractError,
    PluginError,
    PluginImportError,
    ReplayMismatchError,
    UnsafePathError,
    WarpOptionError,
)
from augcore.warp import warp_affine, warp_affine_batch

__version__ = "0.1.0"

__all__ = [
    "AugcoreError",
    "BatchLengthError",
    "ConfigError",
    "DuplicateTransformError",
    "ImageDtypeError",
    "ImageShapeError",
    "InputImageError",
    "ManifestError",
    "MatrixError",
    "OutputArrayError",
    "OutputConflictError",
    "PluginContractError",
    "PluginError",
    "PluginImportError",
    "ReplayMismatchError",
    "UnsafePathError",
    "WarpOptionError",
    "__version__",
    "warp_affine",
    "warp_affine_batch",
]
