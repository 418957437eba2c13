"""Runs made by an earlier augcore, pinned byte for byte (tests/data/pinned, tests/make_pinned.py).

Every other draw test compares the code with itself; these compare it with files on disk. They
fail when a draw number, a gate, a group choice, a stream number, a fused matrix, a record field
or an output byte changes: the promise that a dataset made with one version of augcore can be
audited with the next (docs/glossary.md, "What may change draws").
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import augcore
from augcore.cli import main
from augcore.cli.job import EXIT_MISMATCH, EXIT_OK

PINNED = Path(__file__).parent / "data" / "pinned"
CHAINS = ("default", "groups")
SEED, PER_IMAGE = 0, 3  # as in tests/make_pinned.py
# Header fields that depend on the checkout (absolute input paths) or on the version itself.
UNPINNED_HEADER = ("augcore_version", "inputs_sha256")


def _lines(manifest: Path) -> list[dict]:
    return [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines()]


def _absolute_sources(manifest: Path, inputs: Path) -> None:
    """The pinned manifest names sources relative to tests/data/pinned: make them absolute."""
    lines = _lines(manifest)
    lines[0]["header"]["sources"] = [str(inputs)]
    for entry in lines[1:]:
        entry["source"] = str(inputs / Path(entry["source"]).relative_to("inputs"))
    manifest.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


def _files(folder: Path) -> list[Path]:
    return sorted(path.relative_to(folder) for path in folder.rglob("*") if path.is_file())


@pytest.fixture
def inputs(tmp_path):
    return shutil.copytree(PINNED / "inputs", tmp_path / "inputs")


def _pinned_copy(chain: str, tmp_path: Path, inputs: Path) -> Path:
    out = shutil.copytree(PINNED / chain / "out", tmp_path / chain)
    _absolute_sources(out / "manifest.jsonl", inputs)
    return out


@pytest.mark.parametrize("chain", CHAINS)
def test_todays_code_remakes_the_pinned_run_byte_for_byte(chain, tmp_path, inputs):
    config = json.loads((PINNED / chain / "config.json").read_text())
    out = tmp_path / "remade"
    augcore.run([inputs], out, per_image=PER_IMAGE, seed=SEED, config=config, quiet=True)

    pinned_files = _files(PINNED / chain / "out")
    assert _files(out) == pinned_files
    pinned_lines = _lines(PINNED / chain / "out" / "manifest.jsonl")
    remade_lines = _lines(out / "manifest.jsonl")
    for line in (pinned_lines[0], remade_lines[0]):
        for field in UNPINNED_HEADER:
            line["header"].pop(field)
    remade_lines[0]["header"]["sources"] = ["inputs"]
    for entry in remade_lines[1:]:
        entry["source"] = str(Path("inputs") / Path(entry["source"]).relative_to(inputs))
    assert remade_lines == pinned_lines  # every record: draws, gates, positions, matrices
    for name in pinned_files:
        if name.suffix == ".png":
            assert (out / name).read_bytes() == (PINNED / chain / "out" / name).read_bytes(), name


@pytest.mark.parametrize("chain", CHAINS)
def test_the_pinned_run_passes_replay_check(chain, tmp_path, inputs, capsys):
    out = _pinned_copy(chain, tmp_path, inputs)
    assert main(["replay", str(out), "--check"]) == EXIT_OK
    outputs = len(_lines(out / "manifest.jsonl")) - 1
    assert f"{outputs} of {outputs} outputs match byte for byte" in capsys.readouterr().out


def _forge(out: Path, victim: int, donor: int, fields: str) -> str:
    """Give entry ``victim`` the identity (seed, key, k) of entry ``donor``; its path."""
    lines = _lines(out / "manifest.jsonl")
    target, source = lines[1 + victim], lines[1 + donor]
    for name in ("seed", "key", "k"):
        target["record"][name] = source["record"][name]
        if fields == "entry and record" and name != "seed":
            target[name] = source[name]
    text = "".join(json.dumps(line) + "\n" for line in lines)
    (out / "manifest.jsonl").write_text(text, encoding="utf-8")
    return target["path"]


@pytest.mark.parametrize("fields", ["record", "entry and record"])
@pytest.mark.parametrize(("victim", "donor"), [(1, 0), (4, 7)])  # same source; another source
def test_replay_check_catches_an_identity_forged_from_another_output(
    fields, victim, donor, tmp_path, inputs
):
    out = _pinned_copy("groups", tmp_path, inputs)
    forged = _forge(out, victim, donor, fields)

    result = augcore.replay(out, check=True)
    assert result.unsampled == [forged]
    # Its parameters, file and checksum are untouched: only the identity gives it away.
    assert result.tampered == result.irreproducible == result.missing == []
    assert result.matched == result.checked == len(_lines(out / "manifest.jsonl")) - 1
    assert main(["replay", str(out), "--check"]) == EXIT_MISMATCH
