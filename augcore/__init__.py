"""augcore: fast, auditable, plugin-based image augmentation.

Importing augcore has no side effects: no plugin is loaded, no RNG is seeded and no global
state is created until you build a pipeline or plugin manager yourself.
"""

from __future__ import annotations

# Imported so that augcore.plugins.geometric.Rotate etc. work after a plain `import augcore`.
import augcore.manifest
import augcore.plugins.canvas
import augcore.plugins.geometric
import augcore.plugins.pixel  # noqa: F401
from augcore._deprecation import renamed_attributes
from augcore.audit import ReplayResult, Report, replay, report
from augcore.chain import OneOf, SomeOf, Step
from augcore.errors import (
    AnnotationError,
    AugcoreError,
    AugmentOptionError,
    BatchLengthError,
    CanvasError,
    ConfigError,
    DuplicateTransformError,
    ExecutorError,
    ImageDtypeError,
    ImageShapeError,
    InputImageError,
    JobOptionError,
    ManifestError,
    MatrixError,
    MissingExtraError,
    OutputArrayError,
    OutputConflictError,
    PluginContractError,
    PluginError,
    PluginImportError,
    PluginWarning,
    ReplayMismatchError,
    SchedulerUnreachableError,
    StorageError,
    StreamOptionError,
    TargetError,
    UnsafePathError,
    WarpOptionError,
)
from augcore.hookspecs import hookimpl
from augcore.job import Plan, RunSummary, SkippedInput, plan, run
from augcore.manager import PluginManager
from augcore.pipeline import Pipeline
from augcore.record import Record, RecordSequence
from augcore.stream import AugmentStream, Batch
from augcore.targets import Boxes, Keypoints, Masks, TargetOptions, Targets
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
    "AnnotationError",
    "AugcoreError",
    "AugmentOptionError",
    "AugmentStream",
    "Batch",
    "BatchLengthError",
    "Boxes",
    "CanvasError",
    "ConfigError",
    "DuplicateTransformError",
    "ExecutorError",
    "GeometricTransform",
    "ImageDtypeError",
    "ImageShapeError",
    "InputImageError",
    "JobOptionError",
    "Keypoints",
    "ManifestError",
    "Masks",
    "MatrixError",
    "MissingExtraError",
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
    "SchedulerUnreachableError",
    "SkippedInput",
    "SomeOf",
    "Step",
    "StorageError",
    "StreamOptionError",
    "TargetError",
    "TargetOptions",
    "Targets",
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
