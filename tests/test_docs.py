"""Every code example in README.md and docs/**/*.md runs as written.

How a page is run (one test per page, so pages added later are covered without touching this):
- Its ``python`` blocks run in order in one namespace, as one session, in a fresh folder that
  holds the files the pages talk about: ``photos/`` (the sample images under two class folders,
  ``cats/`` and ``dogs/``; ``cats/x.png`` and ``cats/0.png`` among them), ``list.txt`` naming
  them, ``train_images.npy`` / ``train_labels.npy``, and ``augmented/``, the output of
  ``augcore run photos/ --out augmented --per-image 3 --seed 0`` (the README's command, so
  pages that repeat it resume a finished run).
- A ``toml`` or ``json`` block whose first line is a comment naming a file (``# chain.toml``)
  is written to that file when it is reached, so later blocks can read it.
- A ``bash`` block made only of ``augcore ...`` command lines runs too, each line as
  ``python -m augcore ...``, and each must exit 0. Other shell blocks (installs, pipelines
  through other tools) are not run.
- A block opts out only visibly, in its fence: ```` ```python no-run: <reason> ```` (the reason
  is required). The test lists every opt-out it honours.
- A block that imports an optional package that is not installed (torch, keras...) is not run;
  the page's other blocks still run and must pass, then the test is reported as skipped with
  the blocks it could not run and why.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import augcore

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
SAMPLES = ROOT / "augcore" / "data" / "samples"
# Import names of optional extras (pyproject.toml) and bench peers: a missing one skips a block.
OPTIONAL_MODULES = frozenset(
    {
        "torch",
        "torchvision",
        "keras",
        "jax",
        "tensorflow",
        "pandas",
        "matplotlib",
        "dask",
        "distributed",
        "fsspec",
        "s3fs",
        "pycocotools",
        "albumentations",
        "cv2",
        "scipy",
    }
)
_FENCE = re.compile(r"^```(\S*)(.*)$")
_NO_RUN = re.compile(r"^\s*no-run:\s*(\S.*)$")
_FILE_COMMENT = re.compile(r"^\s*(?:#|//)\s*([\w.-]+\.(?:toml|json))\b")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    language: str
    info: str
    code: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    found, current, lines = [], None, page.read_text(encoding="utf-8").splitlines()
    for number, text in enumerate(lines, 1):
        if current is None:
            match = _FENCE.match(text)
            if match:
                current = (number, match.group(1), match.group(2), [])
        elif text.startswith("```"):
            found.append(Block(page, current[0], current[1], current[2], "\n".join(current[3])))
            current = None
        else:
            current[3].append(text)
    assert current is None, f"{page.relative_to(ROOT)}:{current[0]}: unclosed code fence"
    return found


@pytest.fixture(scope="module")
def sample_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("docs-samples")
    photos = folder / "photos"
    samples = sorted(SAMPLES.iterdir())
    for subfolder, chosen in (("cats", samples[:4]), ("dogs", samples[4:])):
        (photos / subfolder).mkdir(parents=True)
        for index, sample in enumerate(chosen):
            name = "x" + sample.suffix if index == 0 else sample.name
            shutil.copy(sample, photos / subfolder / name)
    # docs/migrating-from-keras.md reads photos/cats/0.png, as its own test's folder has it.
    Image.open(samples[0]).convert("RGB").save(photos / "cats" / "0.png")
    listed = sorted(str(path) for path in photos.rglob("*.*"))
    (folder / "list.txt").write_text("\n".join(listed) + "\n")
    rng = np.random.default_rng(0)
    np.save(folder / "train_images.npy", rng.integers(0, 256, (96, 28, 28, 3), dtype=np.uint8))
    np.save(folder / "train_labels.npy", np.arange(96) % 10)
    return folder


def _missing_optional(exc: ModuleNotFoundError) -> str | None:
    name = (exc.name or "").split(".")[0]
    return name if name in OPTIONAL_MODULES else None


def _run_shell(block: Block, cwd: Path) -> None:
    for line in block.code.splitlines():
        words = shlex.split(line, comments=True)
        if not words:
            continue
        result = subprocess.run(
            [sys.executable, "-m", "augcore", *words[1:]],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, (
            f"{block.where}: `{line.strip()}` exited {result.returncode}\n{result.stderr}"
        )


def _runnable_shell(block: Block) -> bool:
    commands = [shlex.split(line, comments=True) for line in block.code.splitlines()]
    commands = [words for words in commands if words]
    return bool(commands) and all(words[0] == "augcore" for words in commands)


def run_page(page: Path, work: Path) -> tuple[dict[str, object], list[str]]:
    """Run a page's blocks in ``work`` (the current folder): its namespace, what did not run."""
    # Made here, not copied: a run's manifest records its sources' absolute paths.
    augcore.run(["photos/"], "augmented", per_image=3, seed=0, quiet=True)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    not_run: list[str] = []
    for block in blocks(page):
        opt_out = _NO_RUN.match(block.info)
        if block.info.strip() and not opt_out:
            pytest.fail(f"{block.where}: unknown fence option {block.info!r} (only 'no-run: why')")
        if opt_out:
            not_run.append(f"{block.where} opted out: {opt_out.group(1)}")
            continue
        if block.language in ("toml", "json"):
            named = _FILE_COMMENT.match(block.code.splitlines()[0]) if block.code else None
            if named:
                (work / named.group(1)).write_text(block.code + "\n")
        elif block.language == "bash" and _runnable_shell(block):
            _run_shell(block, work)
        elif block.language == "python":
            try:
                exec(compile(block.code, block.where, "exec"), namespace)
            except ModuleNotFoundError as exc:
                missing = _missing_optional(exc)
                if missing is None:
                    raise
                not_run.append(f"{block.where} needs {missing}, which is not installed")
    return namespace, not_run


@pytest.fixture
def work(sample_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the sample folder as the current folder, set up as the pages expect."""
    work = tmp_path / "work"
    shutil.copytree(sample_folder, work)
    monkeypatch.chdir(work)
    monkeypatch.setenv("KERAS_BACKEND", os.environ.get("KERAS_BACKEND", "jax"))
    for plugin_source in sorted((ROOT / "examples").glob("*/src")):
        monkeypatch.syspath_prepend(str(plugin_source))
    return work


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_page_examples_run(page: Path, work: Path) -> None:
    _, not_run = run_page(page, work)
    skipped = [reason for reason in not_run if "not installed" in reason]
    if skipped:
        pytest.skip("; ".join(skipped))


def test_keras_example_trains_on_stream_epochs_0_to_2(work: Path) -> None:
    """Keras 3 calls a PyDataset's own epoch hooks once before training: the page must not
    count them (it did, and trained ``epochs=3`` on stream epochs 1-3)."""
    pytest.importorskip("keras", reason="keras is not installed (the keras-goldens extra)")
    pytest.importorskip("jax", reason="the example runs Keras on jax, which is not installed")
    namespace, _ = run_page(ROOT / "docs" / "training-loops.md", work)
    seen: list[tuple[int, int]] = []

    class Logged(namespace["AugmentedSequence"]):  # type: ignore[misc, valid-type]
        def __getitem__(self, index: int):
            seen.append((self.epoch, index))
            return super().__getitem__(index)

    stream = namespace["stream"]
    sequence = Logged(stream, namespace["labels"])
    model = namespace["model"]
    model.fit(sequence, epochs=3, callbacks=[namespace["SetEpoch"](sequence)], verbose=0)
    per_epoch = stream.batches_per_epoch
    trained = seen[-3 * per_epoch :]  # Keras fetches one batch before training, for shapes
    assert len(seen) - len(trained) <= 1
    assert [epoch for epoch, _ in trained] == [0] * per_epoch + [1] * per_epoch + [2] * per_epoch
    for epoch in range(3):
        indices = sorted(index for e, index in trained if e == epoch)
        assert indices == list(range(per_epoch))


def test_opt_outs_give_a_reason() -> None:
    for page in PAGES:
        for block in blocks(page):
            if "no-run" in block.info:
                assert _NO_RUN.match(block.info), f"{block.where}: 'no-run:' needs a reason"
