"""augcore: fast, auditable, plugin-based image augmentation.

Importing augcore has no side effects: no plugin is loaded, no RNG is seeded and no global
state is created until you build a pipeline or plugin manager yourself.

Imports are lazy, so that ``import augcore`` stays cheap (a command that only reads a config,
or a worker process, pays for numpy, Pillow, tqdm or multiprocessing only when it uses them).
Rules for this module:

- Every public name lives in ``_EXPORTS`` (name -> module defining it), and ``__all__`` is
  made from it; the module-level ``__getattr__`` imports the module on first use and caches
  the object here, so ``from augcore import X``, ``augcore.X`` and ``dir(augcore)`` behave as
  with eager imports. To export a new name, add one line to ``_EXPORTS`` (a test checks that
  every entry resolves).
- Submodules (``augcore.warp``, ``augcore.plugins.geometric`` ...) are reachable as attributes
  after a plain ``import augcore``: an unknown name that is a submodule is imported on access.
- Nothing here imports anything but the standard library's ``importlib``; a test checks in a
  fresh process that ``import augcore`` loads none of the heavy modules.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # augcore.audit
    "replay": "augcore.audit",
    "ReplayResult": "augcore.audit",
    "Report": "augcore.audit",
    "report": "augcore.audit",
    # augcore.chain
    "OneOf": "augcore.chain",
    "SomeOf": "augcore.chain",
    "Step": "augcore.chain",
    # augcore.contact_sheet
    "preview": "augcore.contact_sheet",
    # augcore.errors
    "AnnotationError": "augcore.errors",
    "AugcoreError": "augcore.errors",
    "AugmentOptionError": "augcore.errors",
    "BatchLengthError": "augcore.errors",
    "CanvasError": "augcore.errors",
    "ConfigError": "augcore.errors",
    "DuplicateTransformError": "augcore.errors",
    "ExecutorError": "augcore.errors",
    "ImageDtypeError": "augcore.errors",
    "ImageShapeError": "augcore.errors",
    "InputImageError": "augcore.errors",
    "JobOptionError": "augcore.errors",
    "ManifestError": "augcore.errors",
    "MatrixError": "augcore.errors",
    "MissingExtraError": "augcore.errors",
    "OutputArrayError": "augcore.errors",
    "OutputConflictError": "augcore.errors",
    "PluginContractError": "augcore.errors",
    "PluginError": "augcore.errors",
    "PluginImportError": "augcore.errors",
    "PluginWarning": "augcore.errors",
    "PreviewError": "augcore.errors",
    "ReplayMismatchError": "augcore.errors",
    "SchedulerUnreachableError": "augcore.errors",
    "StorageError": "augcore.errors",
    "StreamOptionError": "augcore.errors",
    "TargetError": "augcore.errors",
    "UnsafePathError": "augcore.errors",
    "WarpOptionError": "augcore.errors",
    "WorkerLostError": "augcore.errors",
    # augcore.hookspecs
    "hookimpl": "augcore.hookspecs",
    # augcore.job
    "Plan": "augcore.job",
    "plan": "augcore.job",
    "run": "augcore.job",
    "RunSummary": "augcore.job",
    "SkippedInput": "augcore.job",
    # augcore.manager
    "PluginManager": "augcore.manager",
    # augcore.pipeline
    "Pipeline": "augcore.pipeline",
    # augcore.record
    "Record": "augcore.record",
    "RecordSequence": "augcore.record",
    # augcore.stream
    "AugmentStream": "augcore.stream",
    "Batch": "augcore.stream",
    # augcore.targets
    "Boxes": "augcore.targets",
    "Keypoints": "augcore.targets",
    "Masks": "augcore.targets",
    "TargetOptions": "augcore.targets",
    "Targets": "augcore.targets",
    # augcore.transform
    "GeometricTransform": "augcore.transform",
    "Param": "augcore.transform",
    "PixelTransform": "augcore.transform",
    "Transform": "augcore.transform",
    # augcore.warp
    "is_affine": "augcore.warp",
    "warp_affine": "augcore.warp",
    "warp_affine_batch": "augcore.warp",
    "warp_perspective": "augcore.warp",
    "warp_perspective_batch": "augcore.warp",
    # augcore.plugins.canvas
    "Affine": "augcore.plugins.canvas",
    "Crop": "augcore.plugins.canvas",
    "Pad": "augcore.plugins.canvas",
    "Perspective": "augcore.plugins.canvas",
    "RandomResizedCrop": "augcore.plugins.canvas",
    "Resize": "augcore.plugins.canvas",
    # augcore.plugins.color
    "ColorJitter": "augcore.plugins.color",
    "Gamma": "augcore.plugins.color",
    "Hue": "augcore.plugins.color",
    "Saturation": "augcore.plugins.color",
    # augcore.plugins.erase
    "Erase": "augcore.plugins.erase",
    # augcore.plugins.filters
    "GaussianBlur": "augcore.plugins.filters",
    "JpegQuality": "augcore.plugins.filters",
    "Sharpness": "augcore.plugins.filters",
    # augcore.plugins.geometric
    "FlipHorizontal": "augcore.plugins.geometric",
    "FlipVertical": "augcore.plugins.geometric",
    "Rotate": "augcore.plugins.geometric",
    "Shear": "augcore.plugins.geometric",
    "Shift": "augcore.plugins.geometric",
    "Zoom": "augcore.plugins.geometric",
    # augcore.plugins.pixel
    "Brightness": "augcore.plugins.pixel",
    "ChannelShift": "augcore.plugins.pixel",
    "Contrast": "augcore.plugins.pixel",
    "GaussianNoise": "augcore.plugins.pixel",
    "Grayscale": "augcore.plugins.pixel",
    # augcore.plugins.policy_ops
    "Identity": "augcore.plugins.policy_ops",
    "PolicyBrightness": "augcore.plugins.policy_ops",
    "PolicyColor": "augcore.plugins.policy_ops",
    "PolicyContrast": "augcore.plugins.policy_ops",
    "PolicyPosterize": "augcore.plugins.policy_ops",
    "PolicyRotate": "augcore.plugins.policy_ops",
    "PolicySharpness": "augcore.plugins.policy_ops",
    "PolicyShearX": "augcore.plugins.policy_ops",
    "PolicyShearY": "augcore.plugins.policy_ops",
    "PolicySolarize": "augcore.plugins.policy_ops",
    "PolicyTranslateX": "augcore.plugins.policy_ops",
    "PolicyTranslateY": "augcore.plugins.policy_ops",
    # augcore.plugins.tone
    "Autocontrast": "augcore.plugins.tone",
    "Equalize": "augcore.plugins.tone",
    "Invert": "augcore.plugins.tone",
    "Posterize": "augcore.plugins.tone",
    "Solarize": "augcore.plugins.tone",
}

# Old names still served, with a DeprecationWarning: old -> (new public name, its module).
_RENAMED: dict[str, tuple[str, str]] = {"Records": ("RecordSequence", "augcore.record")}

__all__ = ["__version__", *sorted(_EXPORTS, key=str.lower)]


def __getattr__(name: str) -> Any:
    """Import what ``name`` needs on first use (a public name, an old name or a submodule)."""
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    if name in _RENAMED:
        from augcore._deprecation import warn_renamed

        new, module = _RENAMED[name]
        warn_renamed(f"{__name__}.{name}", f"{__name__}.{new}")
        return getattr(importlib.import_module(module), new)
    if not name.startswith("__"):
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
