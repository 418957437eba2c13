"""augcore: fast, auditable, plugin-based image augmentation.

Importing augcore has no side effects: no plugin is loaded, no RNG is seeded and no global
state is created until you build a pipeline or plugin manager yourself.

Imports are lazy, so that ``import augcore`` stays cheap (a command that only reads a config,
or a worker process, pays for numpy, Pillow, tqdm or multiprocessing only when it uses them).
Rules for this module:

- Every public name lives in ``_EXPORTS`` (name -> module defining it) and in ``__all__``; the
  module-level ``__getattr__`` imports the module on first use and caches the object here, so
  ``from augcore import X``, ``augcore.X`` and ``dir(augcore)`` behave as with eager imports.
  To export a new name, add one line to ``_EXPORTS`` and its name to ``__all__`` (a test checks
  that both agree and that every entry resolves).
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
    # augcore.errors
    "AugcoreError": "augcore.errors",
    "AugmentOptionError": "augcore.errors",
    "BatchLengthError": "augcore.errors",
    "CanvasError": "augcore.errors",
    "ConfigError": "augcore.errors",
    "DuplicateTransformError": "augcore.errors",
    "ImageDtypeError": "augcore.errors",
    "ImageShapeError": "augcore.errors",
    "InputImageError": "augcore.errors",
    "JobOptionError": "augcore.errors",
    "ManifestError": "augcore.errors",
    "MatrixError": "augcore.errors",
    "OutputArrayError": "augcore.errors",
    "OutputConflictError": "augcore.errors",
    "PluginContractError": "augcore.errors",
    "PluginError": "augcore.errors",
    "PluginImportError": "augcore.errors",
    "PluginWarning": "augcore.errors",
    "ReplayMismatchError": "augcore.errors",
    "StreamOptionError": "augcore.errors",
    "UnsafePathError": "augcore.errors",
    "WarpOptionError": "augcore.errors",
    # augcore.transform
    "GeometricTransform": "augcore.transform",
    "Param": "augcore.transform",
    "PixelTransform": "augcore.transform",
    "Transform": "augcore.transform",
    # augcore.chain
    "OneOf": "augcore.chain",
    "SomeOf": "augcore.chain",
    "Step": "augcore.chain",
    # augcore.pipeline
    "Pipeline": "augcore.pipeline",
    # augcore.record
    "Record": "augcore.record",
    "RecordSequence": "augcore.record",
    # augcore.manager
    "PluginManager": "augcore.manager",
    # augcore.hookspecs
    "hookimpl": "augcore.hookspecs",
    # augcore.warp
    "is_affine": "augcore.warp",
    "warp_affine": "augcore.warp",
    "warp_affine_batch": "augcore.warp",
    "warp_perspective": "augcore.warp",
    "warp_perspective_batch": "augcore.warp",
    # augcore.stream
    "AugmentStream": "augcore.stream",
    "Batch": "augcore.stream",
    # augcore.job
    "Plan": "augcore.job",
    "RunSummary": "augcore.job",
    "SkippedInput": "augcore.job",
    "plan": "augcore.job",
    "run": "augcore.job",
    # augcore.audit
    "ReplayResult": "augcore.audit",
    "Report": "augcore.audit",
    "replay": "augcore.audit",
    "report": "augcore.audit",
}

# Old names still served, with a DeprecationWarning: old -> (new public name, its module).
_RENAMED: dict[str, tuple[str, str]] = {"Records": ("RecordSequence", "augcore.record")}

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
