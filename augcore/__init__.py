"""augcore: fast, auditable, plugin-based image augmentation.

Importing augcore has no side effects: no plugin is loaded, no RNG is seeded and no global
state is created until you build a pipeline or plugin manager yourself.
"""

from __future__ import annotations

# Imported so that augcore.plugins.geometric.Rotate etc. work after a plain `import augcore`.
import augcore.manifest
import augcore.plugins.canvas
import augcore.plugins.color
import augcore.plugins.erase
import augcore.plugins.filters
import augcore.plugins.geometric
import augcore.plugins.pixel
import augcore.plugins.policy_ops
import augcore.plugins.tone  # noqa: F401
from augcore._deprecation import renamed_attributes
from augcore.audit import ReplayResult, Report, replay, report
from augcore.chain import OneOf, SomeOf, Step
from augcore.errors import (
    AugcoreError,
    AugmentOptionError,
    BatchLengthError,
    CanvasError,
    ConfigError,
    DuplicateTransformError,
    ImageDtypeError,
    ImageShapeError,
    InputImageError,
    JobOptionError,
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
from augcore.pipeline import Pipeline
from augcore.record import Record, RecordSequence
from augcore.stream import AugmentStream, Batch
from augcore.transform import GeometricTransform, Param, PixelTransform, Transform
from augcore.warp import (
    is_affine,
    warp_affine,
    warp_affine_batch,
    warp_perspective,
    warp_perspective_batch,
)

__version__ = "0.1.0"

__all__ = [
    "AugcoreError",
    "AugmentOptionError",
    "AugmentStream",
    "Batch",
    "BatchLengthError",
    "CanvasError",
    "ConfigError",
    "DuplicateTransformError",
    "GeometricTransform",
    "ImageDtypeError",
    "ImageShapeError",
    "InputImageError",
    "JobOptionError",
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
    "RecordSequence",
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
    "is_affine",
    "plan",
    "replay",
    "report",
    "run",
    "warp_affine",
    "warp_affine_batch",
    "warp_perspective",
    "warp_perspective_batch",
]

__getattr__ = renamed_attributes(__name__, {"Records": ("augcore.RecordSequence", RecordSequence)})
