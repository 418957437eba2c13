"""report and replay, checked against the manifest read as plain JSON and the files on disk."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict

import pytest
from test_job import make_tree, pixels_of

import augcore
from augcore.errors import ManifestError, UnsafePathError
from augcore.imageio import encode_image

TREE = ("a.png", "b.png", "sub/c.png")


@pytest.fixture
def finished_run(tmp_path):
    data = make_tree(tmp_path / "data", TREE)
    out = tmp_path / "out"
    augcore.run([data], out, per_image=4, seed=3, jobs=1)
    return out


def _entries(out):
    lines = (out / "manifest.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines[1:]]


def test_report_counts_and_ranges_match_the_manifest(finished_run):
    summary = augcore.report(finished_run)
    entries = _entries(finished_run)
    touched: dict[str, int] = defaultdict(int)
    values: dict[tuple[str, str], list[float]] = defaultdict(list)
    for entry in entries:
        for name in {step["name"] for step in entry["record"]["steps"]}:
            touched[name] += 1
        for step in entry["record"]["steps"]:
            for param, value in step["params"].items():
                values[step["name"], param].append(value)
    assert summary.outputs == len(entries) == 12
    assert {stats.name: stats.outputs for stats in summary.transforms} == touched
    for stats in summary.transforms:
        for param, found in stats.params.items():
            expected = values[stats.name, param]
            assert found.count == len(expected)
            assert found.minimum == min(expected) and found.maximum == max(expected)
            assert found.mean == pytest.approx(sum(expected) / len(expected))
    table = summary.table()
    assert table.splitlines()[0] == f"12 outputs in {finished_run}"
    assert all(name in table for name in touched)


def test_replay_of_an_untouched_run_matches_every_file(finished_run):
    result = augcore.replay(finished_run)
    assert (result.ok, result.checked, result.matched) == (True, 12, 12)


def test_replay_names_tampered_and_missing_files(finished_run):
    (finished_run / "a__k1.png").write_bytes((finished_run / "a__k2.png").read_bytes())
    (finished_run / "sub" / "c__k3.png").unlink()
    result = augcore.replay(finished_run, check=True)
    assert not result.ok
    assert result.tampered == ["a__k1.png"]
    assert result.missing == ["sub/c__k3.png"]
    assert result.matched == 10
    assert not (finished_run / "sub" / "c__k3.png").exists()  # --check writes nothing


def test_replay_without_check_restores_missing_files_but_never_overwrites(finished_run):
    original = (finished_run / "b__k0.png").read_bytes()
    (finished_run / "b__k0.png").unlink()
    (finished_run / "a__k0.png").write_bytes(b"edited")
    result = augcore.replay(finished_run, check=False)
    assert result.restored == ["b__k0.png"]
    assert (finished_run / "b__k0.png").read_bytes() == original
    assert result.tampered == ["a__k0.png"]
    assert (finished_run / "a__k0.png").read_bytes() == b"edited"


def test_a_record_that_does_not_reproduce_its_checksum_is_irreproducible(finished_run):
    manifest = finished_run / "manifest.jsonl"
    lines = manifest.read_text().splitlines()
    entry = json.loads(lines[1])
    entry["record"]["steps"][0]["params"]["degrees"] += 1.0
    lines[1] = json.dumps(entry)
    manifest.write_text("\n".join(lines) + "\n")
    result = augcore.replay(finished_run)
    assert result.irreproducible == [entry["path"]]
    assert result.unsampled == [entry["path"]]
    assert result.matched == 11


def test_a_forged_record_file_and_checksum_are_caught_by_resampling(finished_run, tmp_path):
    """Edit a record, and make the file and checksum agree with it: the bytes check passes,
    but (seed, key, k) does not sample that record."""
    manifest = finished_run / "manifest.jsonl"
    lines = manifest.read_text().splitlines()
    entry = json.loads(lines[1])
    entry["record"]["steps"][0]["params"]["degrees"] = 0.0
    forged = augcore.Pipeline.default().apply_record(
        pixels_of(tmp_path / "data" / entry["key"]), augcore.Record.from_dict(entry["record"])
    )
    data = encode_image(forged, ".png")
    (finished_run / entry["path"]).write_bytes(data)
    entry["sha256"] = hashlib.sha256(data).hexdigest()
    lines[1] = json.dumps(entry)
    manifest.write_text("\n".join(lines) + "\n")
    result = augcore.replay(finished_run)
    assert (result.tampered, result.irreproducible) == ([], [])
    assert result.unsampled == [entry["path"]]
    assert not result.ok


def test_an_unusable_record_is_named_and_the_others_are_still_checked(finished_run):
    manifest = finished_run / "manifest.jsonl"
    lines = manifest.read_text().splitlines()
    entry = json.loads(lines[1])
    entry["record"]["steps"][0]["params"] = {"no such parameter": 1.0}
    lines[1] = json.dumps(entry)
    manifest.write_text("\n".join(lines) + "\n")
    result = augcore.replay(finished_run)
    assert len(result.corrupt) == 1
    assert entry["record"]["steps"][0]["name"] in result.corrupt[0]
    assert result.matched == result.checked - 1 == 11
    assert not result.ok
    assert any(line.startswith("record unusable: ") for line in result.lines())


def test_replay_refuses_manifest_paths_that_leave_the_folder(finished_run, tmp_path):
    manifest = finished_run / "manifest.jsonl"
    lines = manifest.read_text().splitlines()
    entry = json.loads(lines[1])
    entry["path"] = "../outside.png"
    lines[1] = json.dumps(entry)
    manifest.write_text("\n".join(lines) + "\n")
    with pytest.raises(UnsafePathError, match=r"\.\./outside\.png"):
        augcore.replay(finished_run, check=False)
    assert not (tmp_path / "outside.png").exists()


def test_a_missing_source_is_reported_not_crashed_on(finished_run, tmp_path):
    (tmp_path / "data" / "b.png").unlink()
    result = augcore.replay(finished_run)
    assert not result.ok
    assert len(result.unreadable_sources) == 1 and "b.png" in result.unreadable_sources[0]
    assert result.matched == 8


def test_report_and_replay_need_a_manifest(tmp_path):
    with pytest.raises(ManifestError, match="no manifest here"):
        augcore.report(tmp_path)
    with pytest.raises(ManifestError, match="no manifest here"):
        augcore.replay(tmp_path)
