"""What a finished run did, gathered from its manifest for the HTML report.

Rules this module keeps:

- Everything comes from ``DIR/manifest.jsonl`` (and, for skipped inputs, the run's sources as
  its header names them); nothing is re-sampled. One pass over the entries, holding per output
  only a few floats, so a run of 100,000 outputs is gathered in seconds.
- A chain member is identified by its position among the chain's transforms (the record's
  ``step``), so the same transform used twice is counted twice, each against its own ``p``.
- The probability a step fires is computed from the chain config in the header: its ``p``, times
  its share in a ``one_of`` (weight / sum of weights) or ``some_of`` (mean n / members), times
  the probability of the groups around it.
- A manifest that is damaged, or written in another format, is a ManifestError naming the file,
  the line and what to do; never a traceback from inside the data.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from augcore.errors import AugcoreError, ManifestError
from augcore.imageio import read_image
from augcore.manifest import FORMAT_KEY, FORMAT_VERSION, MANIFEST_NAME, Manifest, read_manifest
from augcore.sources import SourceItem, discover
from augcore.validation import is_integer, is_number

CHECKED_SKIPS = 100  # inputs without outputs read again to say why; the rest are only counted
EXTREMES = 4  # outputs shown per extreme (most rotated, most zoomed in, most zoomed out)
SAMPLED = 24  # outputs shown as an even sample of the run


@dataclass(frozen=True)
class ChainTransform:
    """A transform of the chain, in chain order, and how likely it is to fire on an output."""

    name: str
    probability: float


@dataclass
class StepStats:
    """One chain position: how often it fired and every numeric value it drew, by parameter."""

    position: int
    name: str
    probability: float | None
    fired: int = 0
    values: dict[str, list[float]] = field(default_factory=dict)


@dataclass(frozen=True)
class OutputRef:
    """An output of the run: its file (relative to the run folder) and its record."""

    path: str
    record: Mapping[str, Any]


@dataclass(frozen=True)
class Extreme:
    """An output at an extreme of the fused geometry, and the measure that put it there."""

    output: OutputRef
    degrees: float
    magnification: float


@dataclass
class RunStats:
    """Everything the HTML report shows about a run."""

    out: Path
    header: dict[str, Any]
    outputs: int
    torn_tail: bool
    steps: list[StepStats]
    extremes: dict[str, list[Extreme]]
    sample: list[OutputRef]
    skipped: list[tuple[str, str]]
    skipped_note: str | None


# --- the chain -------------------------------------------------------------------------------
def chain_transforms(steps: Sequence[Any], chance: float = 1.0) -> list[ChainTransform]:
    """The transforms of a chain config's ``steps`` in position order, with the probability
    each fires.

    Read from the config alone (no plugin is loaded), so a run made with a plugin that is not
    installed here is still reported.
    """
    found: list[ChainTransform] = []
    for step in steps:
        if not isinstance(step, Mapping):
            raise ValueError(f"chain step {step!r} is not a mapping")
        here = chance * float(step.get("p", 1.0))
        if "one_of" in step:
            members = list(step["one_of"])
            weights = [float(w) for w in step.get("weights") or [1.0] * len(members)]
            for member, weight in zip(members, weights, strict=True):
                found += chain_transforms([member], here * weight / sum(weights))
        elif "some_of" in step:
            members = list(step["some_of"])
            count = step.get("n", 1)
            low, high = (count, count) if is_number(count) else count
            for member in members:
                found += chain_transforms([member], here * (low + high) / 2 / len(members))
        else:
            found.append(ChainTransform(str(step["transform"]), here))
    return found


# --- geometry ------------------------------------------------------------------------------------
def composed_pull(fused: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """The 2x2 linear part of an output's warps composed into one pull map.

    Pull maps compose as M1 @ M2 @ ... (each warp reads the previous one's output).
    """
    total = np.eye(3)
    for run in fused:
        matrix = np.asarray(run["matrix"], dtype=np.float64)
        if matrix.shape != (3, 3):
            raise ValueError(f"a fused matrix has the shape {matrix.shape}, not (3, 3)")
        total = total @ matrix
    return total[:2, :2]


def geometry_of(pulls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rotation in degrees, magnification) of each (2, 2) pull map in ``pulls`` (n, 2, 2).

    The rotation is that of the forward map's orthogonal factor, positive counter-clockwise as
    seen (a mirrored output counts as mirrored left-right first, then rotated); the
    magnification is the forward map's area scale, sqrt(1 / |det|) of the pull map (above 1:
    zoomed in). A singular map (everything from one line) gets rotation 0 and magnification inf.
    A projective map is measured by its linear part (the report ranks outputs; it does not
    need the exact local scale of a perspective warp).
    """
    determinant = np.linalg.det(pulls)
    usable = np.isfinite(determinant) & (determinant != 0.0)
    forward = np.linalg.inv(np.where(usable[:, None, None], pulls, np.eye(2)))
    forward[determinant < 0] = forward[determinant < 0] @ np.diag([1.0, -1.0])
    upper, _, lower = np.linalg.svd(forward)
    rotation = upper @ lower
    degrees = np.where(usable, np.degrees(np.arctan2(rotation[:, 1, 0], rotation[:, 0, 0])), 0.0)
    with np.errstate(divide="ignore"):
        magnification = np.where(usable, np.sqrt(1.0 / np.abs(determinant)), np.inf)
    return degrees, magnification


# --- reading the manifest ----------------------------------------------------------------------
def load_manifest(out: Path) -> Manifest:
    """``read_manifest``, with a manifest of another format version named as such."""
    path = out / MANIFEST_NAME
    try:
        return read_manifest(path)
    except ManifestError:
        version = _format_version(path)
        if version is not None and version != FORMAT_VERSION:
            raise ManifestError(
                f"{path}: written in manifest format {version!r}, and this augcore reads format "
                f"{FORMAT_VERSION}; report it with the augcore version that wrote it"
            ) from None
        raise


def _format_version(path: Path) -> Any:
    try:
        with open(path, "rb") as handle:
            first = json.loads(handle.readline())
    except (OSError, ValueError):
        return None
    return first.get(FORMAT_KEY) if isinstance(first, dict) else None


def _damaged(path: Path, line: int, what: str) -> ManifestError:
    return ManifestError(
        f"{path}: line {line}: {what}; the manifest is damaged or not from this augcore "
        "(augcore replay names every unusable line; rerun the job to rewrite it)"
    )


def _check_entry(entry: Any, path: Path, line: int) -> NoReturn:
    """Raise a ManifestError saying what is wrong with an entry ``_tally`` could not read."""
    if not isinstance(entry, Mapping):
        raise _damaged(path, line, "an output line must be a JSON object")
    record = entry.get("record")
    if not isinstance(entry.get("path"), str) or not isinstance(record, Mapping):
        raise _damaged(path, line, "an output line needs a 'path' and a 'record'")
    steps, fused = record.get("steps"), record.get("fused")
    if not isinstance(steps, list) or not isinstance(fused, list):
        raise _damaged(path, line, "the record needs 'steps' and 'fused' lists")
    for step in steps:
        if not (
            isinstance(step, Mapping)
            and isinstance(step.get("name"), str)
            and is_integer(step.get("step"))
            and isinstance(step.get("params"), Mapping)
        ):
            raise _damaged(path, line, f"step {step!r} is not {{name, step, params}}")
    for run in fused:
        matrix = run.get("matrix") if isinstance(run, Mapping) else None
        if not (
            isinstance(matrix, list)
            and len(matrix) == 3
            and all(isinstance(row, list) and len(row) == 3 for row in matrix)
            and all(is_number(value) for row in matrix for value in row)
        ):
            raise _damaged(path, line, "a fused matrix is not 3x3 numbers")
    raise _damaged(path, line, "the record cannot be read")


def _tally(entry: Mapping[str, Any], steps: dict[tuple[int, str], StepStats]) -> np.ndarray:
    """Count an output's steps and values into ``steps``; its composed pull map.

    Trusts the entry's shape (the fast path over 100,000 lines); raises KeyError, TypeError or
    ValueError when it is not what a record holds, and ``_check_entry`` then says what.
    """
    if type(entry["path"]) is not str:
        raise TypeError("path")
    record = entry["record"]
    for step in record["steps"]:
        identity = (step["step"], step["name"])  # not in the chain: a record of another one
        if type(identity[0]) is not int or type(identity[1]) is not str:
            raise TypeError("step")
        stats = steps.get(identity) or steps.setdefault(
            identity, StepStats(*identity, probability=None)
        )
        stats.fired += 1
        for name, value in step["params"].items():
            if not name.endswith("seed"):  # seeds are identifiers, not values
                values = stats.values.setdefault(name, [])
                if type(value) is float:
                    values.append(value)
                else:
                    values += _numbers(value)
    return composed_pull(record["fused"])


def _numbers(value: Any) -> list[float]:
    """The numeric content of a sampled value: a number, a bool (0/1), or a list of numbers."""
    if isinstance(value, bool):
        return [float(value)]
    if is_number(value):
        return [float(value)] if math.isfinite(value) else []
    if isinstance(value, list):
        return [number for item in value for number in _numbers(item)]
    return []


def gather(out: str | Path) -> RunStats:
    """Read ``out/manifest.jsonl`` and gather what the report shows. Raises ManifestError."""
    out = Path(out)
    manifest = load_manifest(out)
    path = out / MANIFEST_NAME
    try:
        chain = chain_transforms(manifest.header["chain"]["steps"])
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        chain = []  # the report still shows what fired; expected rates are left blank
    steps = {
        (position, member.name): StepStats(position, member.name, member.probability)
        for position, member in enumerate(chain)
    }
    pulls = np.empty((len(manifest.entries), 2, 2))
    refs = []
    for index, entry in enumerate(manifest.entries):
        try:
            pulls[index] = _tally(entry, steps)
        except (KeyError, TypeError, ValueError, AttributeError):
            _check_entry(entry, path, line=index + 2)
        refs.append(OutputRef(entry["path"], entry["record"]))
    skipped, note = skipped_inputs(manifest, out)
    return RunStats(
        out=out,
        header=manifest.header,
        outputs=len(refs),
        torn_tail=manifest.torn_tail,
        steps=sorted(steps.values(), key=lambda stats: (stats.position, stats.name)),
        extremes=_extremes(refs, *geometry_of(pulls)),
        sample=[refs[i] for i in _even(len(refs), SAMPLED)],
        skipped=skipped,
        skipped_note=note,
    )


def _even(count: int, most: int) -> list[int]:
    """At most ``most`` indices spread evenly over range(count), first and last included."""
    return sorted(set(np.linspace(0, count - 1, min(count, most)).round().astype(int).tolist()))


def _extremes(
    refs: Sequence[OutputRef], rotation: np.ndarray, magnification: np.ndarray
) -> dict[str, list[Extreme]]:
    if not refs:
        return {}
    orders = {
        "most rotated": np.argsort(-np.abs(rotation), kind="stable"),
        "most zoomed in": np.argsort(-magnification, kind="stable"),
        "most zoomed out": np.argsort(magnification, kind="stable"),
    }
    return {
        title: [
            Extreme(refs[i], float(rotation[i]), float(magnification[i])) for i in order[:EXTREMES]
        ]
        for title, order in orders.items()
    }


# --- skipped inputs ----------------------------------------------------------------------------
def inputs_digest(items: Sequence[SourceItem]) -> str:
    """The header's ``inputs_sha256``: sha256 over ``key \\0 path \\n`` of every input, in order."""
    digest = hashlib.sha256()
    for item in items:
        digest.update(f"{item.key}\0{item.path}\n".encode())
    return digest.hexdigest()


def skipped_inputs(manifest: Manifest, out: Path) -> tuple[list[tuple[str, str]], str | None]:
    """The inputs of the run with fewer outputs than K, and why; or a note saying why the
    inputs cannot be listed (sources moved or changed since the run).

    The manifest records outputs, not inputs; the sources named in its header are found again,
    and when they are the same inputs (the header's digest), each input without its K outputs
    is read to say why.
    """
    header = manifest.header
    per_image = header.get("per_image")
    if not is_integer(per_image):
        return [], "the manifest header has no per_image count; skipped inputs are unknown"
    counts: dict[str, int] = {}
    for entry in manifest.entries:
        counts[str(entry.get("key"))] = counts.get(str(entry.get("key")), 0) + 1
    try:
        discovery = discover(
            header.get("sources") or [],
            from_list=header.get("from_list"),
            samples=bool(header.get("samples")),
            skip=out,
        )
    except (AugcoreError, OSError, TypeError) as exc:
        return [], f"the run's sources cannot be read again ({exc}); skipped inputs unknown"
    missing = int(header.get("inputs") or 0) - len(counts)
    if inputs_digest(discovery.items) != header.get("inputs_sha256"):
        return [], (
            f"the inputs at the run's sources are not the ones it read (moved or changed "
            f"since); {max(missing, 0)} of its {header.get('inputs')} inputs have no outputs"
        )
    skipped = [(bad.path, bad.reason) for bad in discovery.bad]
    short = [item for item in discovery.items if counts.get(item.key, 0) < per_image]
    for item in short[:CHECKED_SKIPS]:
        done = counts.get(item.key, 0)
        try:
            read_image(item.path)
            reason = f"{done} of {per_image} outputs recorded: the run stopped before it; rerun"
        except AugcoreError as exc:
            reason = str(exc)
        skipped.append((str(item.path), reason))
    if len(short) > CHECKED_SKIPS:
        return skipped, f"{len(short) - CHECKED_SKIPS} more inputs have fewer than K outputs"
    return skipped, None
