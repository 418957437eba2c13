"""augcore: fast, auditable, plugin-based image augmentation.

Importing augcore has no side effects: no plugin is loaded, no RNG is seeded and no global
state is created until you build a pipeline or plugin manager yourself.
"""

from __future__ import annotations

# Imported so that augcore.plugins.geometric.Rotate etc. work after a plain `import augcore`.
import augcore.manifest
import augcore.plugins.color
import augcore.plugins.erase
import augcore.plugins.filters
import augcore.plugins.geometric
import augcore.plugins.pixel
import augcore.plugins.policy_ops
import augcore.plugins.tone  # noqa: F401
from augcore.audit import ReplayResult, Report, replay, report
from augcore.config import OneOf, SomeOf, Step
from augcore.errors import (
    AugcoreError,
    AugmentOptionError,
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
    PluginWarning,
    ReplayMismatchError,
    StreamOptionError,
    UnsafePathError,
    WarpOptionError,
)
from augcore.hookspecs import hookimpl
from augcore.job import Plan, RunSummary, SkippedInput, plan, run
from augcore.manager import PluginManager
from augcore.pipeline import Pipeline, Record, Records
from augcore.stream import AugmentStream, Batch
from augcore.transform import GeometricTransform, Param, PixelTransform, Transform
from augcore.warp import warp_affine, warp_affine_batch

__version__ = "0.1.0"

__all__ = [
    "AugcoreError",
    "AugmentOptionError",
    "AugmentStream",
    "Batch",
    "BatchLengthError",
    "ConfigError",
    "DuplicateTransformError",
    "GeometricTransform",
    "ImageDtypeError",
    "ImageShapeError",
    "InputImageError",
    "ManifestError",
    "MatrixError",
    "OneOf",
    "OutputArrayError",
    "OutputConflictError",
    "Param",
    "Pipeline",
    "PixelTransform",
    "Plan",
    "PluginContractError",
    "PluginError",
    "PluginImportError",
    "PluginManager",
    "PluginWarning",
    "Record",
    "Records",
    "ReplayMismatchError",
    "ReplayResult",
    "Report",
    "RunSummary",
    "SkippedInput",
    "SomeOf",
    "Step",
    "StreamOptionError",
    "Transform",
    "UnsafePathError",
    "WarpOptionError",
    "__version__",
    "hookimpl",
    "plan",
    "replay",
    "report",
    "run",
    "warp_affine",
    "warp_affine_batch",
]
