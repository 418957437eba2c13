"""Every exception augcore raises on purpose.

Each class says what went wrong in its name and inherits from the builtin a caller would
naturally catch (``ValueError``, ``TypeError``, ``OSError``...), so ``except ValueError`` keeps
working while ``except augcore.AugcoreError`` catches everything augcore-specific.
"""

from __future__ import annotations


class AugcoreError(Exception):
    """Base class of all augcore errors."""


# --- the warp kernel -------------------------------------------------------------------------
class ImageShapeError(AugcoreError, ValueError):
    """An image is not a numpy array, or has the wrong number of dimensions or an empty axis.

    The one error for "this is not an image array" everywhere (pipeline, warp, stream).
    """


class ImageDtypeError(AugcoreError, TypeError):
    """An image array has a dtype augcore does not handle (uint8 and float32 are supported)."""


class MatrixError(AugcoreError, ValueError):
    """An affine matrix has the wrong shape or holds NaN/inf."""


class OutputArrayError(AugcoreError, ValueError):
    """An ``out=`` array has the wrong shape or dtype, is not writable, or overlaps the input."""


class WarpOptionError(AugcoreError, ValueError):
    """An unknown interpolation order or fill mode, or a bad ``cval``/``threads`` value."""


class BatchLengthError(AugcoreError, ValueError):
    """A batch call got a different number of images than of matrices (or keys)."""


# --- plugins, transforms and configuration -------------------------------------------------
class PluginError(AugcoreError):
    """A plugin could not be loaded or broke the transform contract; names the plugin."""


class PluginImportError(PluginError, ImportError):
    """A plugin's entry point failed to import."""


class DuplicateTransformError(PluginError, ValueError):
    """Two plugins provide a transform with the same ``name``."""


class PluginContractError(PluginError, TypeError):
    """A plugin returned something that is not a Transform, or bad data from a transform."""


class ConfigError(AugcoreError, ValueError):
    """A chain configuration names an unknown transform/parameter or has a bad value."""


class CanvasError(AugcoreError, ValueError):
    """A canvas step cannot make its canvas from this input (a crop larger than the image),
    or the canvas it would make is too large to allocate."""


class AugmentOptionError(AugcoreError, ValueError, TypeError):
    """``augment``/``augment_batch`` got a bad seed, source key, k, per_image or threads.

    Both a ValueError and a TypeError: a wrong value and a wrong type are caught either way.
    """


# --- the job -----------------------------------------------------------------------------------
class JobOptionError(AugcoreError, ValueError):
    """A job option (per_image, seed, jobs, size, format, on_error...) has a bad value."""


class InputImageError(AugcoreError, OSError):
    """An input is missing, unreadable, not an image, truncated, unsupported, or a bomb."""


class OutputConflictError(AugcoreError, FileExistsError):
    """The output folder holds files from a different run; refused unless asked to overwrite."""


class UnsafePathError(AugcoreError, ValueError):
    """A path would resolve outside the output folder."""


class ManifestError(AugcoreError, ValueError):
    """A manifest is missing, corrupt, or does not describe this output folder."""


class WorkerLostError(AugcoreError, RuntimeError):
    """A worker process died mid-run (the OOM killer, a signal); the run can be resumed."""


class ReplayMismatchError(AugcoreError):
    """Replaying a manifest produced bytes that differ from the files on disk."""


class ExecutorError(AugcoreError, RuntimeError):
    """The job's executor cannot run it: an unknown executor, its optional extra is not
    installed, or the cluster lost a batch (it kept killing its workers)."""


class SchedulerUnreachableError(ExecutorError, ConnectionError):
    """The Dask scheduler given with ``--scheduler`` (``scheduler=``) cannot be reached."""


class StorageError(AugcoreError, OSError):
    """An fsspec URL cannot be used: fsspec or the protocol's package is missing, the protocol
    is unknown, or outputs cannot be published atomically there."""


# --- the training-loop stream ---------------------------------------------------------------
class StreamOptionError(AugcoreError, ValueError):
    """An ``AugmentStream`` got a bad option or source (batch size, keys, resize, folder...)."""


# --- labelled data: boxes, keypoints, masks and annotation files -----------------------------
class TargetError(AugcoreError, ValueError):
    """Boxes, keypoints or masks given with an image are malformed or do not fit the image."""


class AnnotationError(AugcoreError, ValueError):
    """An annotation file is malformed or inconsistent; names the file and the line or id."""


class MissingExtraError(AugcoreError, ImportError):
    """A feature needs an optional extra that is not installed; names the ``pip install``."""


# --- looking at a chain or a run: preview sheets and reports -----------------------------------
class PreviewError(AugcoreError, ValueError):
    """A preview or an HTML report got a bad option (a sheet above the limit, a URL where a
    local run folder is needed...)."""


# --- plugin problems reported as warnings ------------------------------------------------------
class PluginWarning(UserWarning):
    """A plugin was skipped (import failure, broken contract, duplicate name) in warn mode."""
