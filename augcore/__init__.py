"""augcore: fast, auditable, plugin-based image augmentation.

Importing augcore has no side effects: no plugin is loaded, no RNG is seeded and no global
state is created until you build a pipeline or plugin manager yourself.
"""

from __future__ import annotations

import augcore.manifest  # noqa: F401  (augcore.manifest.read_manifest after `import augcore`)
from augcore._deprecation import renamed_attributes
from augcore.audit import ReplayResult, Report, replay, report
from augcore.chain import OneOf, SomeOf, Step
from augcore.contact_sheet import preview
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
    PreviewError,
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

# The built-in transforms, as Albumentations exports its own: augcore.Rotate(degrees=30, p=0.5).
from augcore.plugins.canvas import Affine, Crop, Pad, Perspective, RandomResizedCrop, Resize
from augcore.plugins.geometric import FlipHorizontal, FlipVertical, Rotate, Shear, Shift, Zoom
from augcore.plugins.pixel import Brightness, ChannelShift, Contrast, GaussianNoise, Grayscale
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
    "Affine",
    "AnnotationError",
    "AugcoreError",
    "AugmentOptionError",
    "AugmentStream",
    "Batch",
    "BatchLengthError",
    "Boxes",
    "Brightness",
    "CanvasError",
    "ChannelShift",
    "ConfigError",
    "Contrast",
    "Crop",
    "DuplicateTransformError",
    "ExecutorError",
    "FlipHorizontal",
    "FlipVertical",
    "GaussianNoise",
    "GeometricTransform",
    "Grayscale",
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
    "Pad",
    "Param",
    "Perspective",
    "Pipeline",
    "PixelTransform",
    "Plan",
    "PluginContractError",
    "PluginError",
    "PluginImportError",
    "PluginManager",
    "PluginWarning",
    "PreviewError",
    "RandomResizedCrop",
    "Record",
    "RecordSequence",
    "ReplayMismatchError",
    "ReplayResult",
    "Report",
    "Resize",
    "Rotate",
    "RunSummary",
    "SchedulerUnreachableError",
    "Shear",
    "Shift",
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
    "Zoom",
    "__version__",
    "hookimpl",
    "is_affine",
    "plan",
    "preview",
    "replay",
    "report",
    "run",
    "warp_affine",
    "warp_affine_batch",
    "warp_perspective",
    "warp_perspective_batch",
]

__getattr__ = renamed_attributes(__name__, {"Records": ("augcore.RecordSequence", RecordSequence)})
