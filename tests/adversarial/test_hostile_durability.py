"""Issue 12, class 4: durability, and a resume that checks what it keeps.

Members tried: the order of syncs against manifest appends (every line appended only after a
sync that covers its file; the header synced before its rename and its folder after), with
``syncfs`` and with the per-file fallback; recorded outputs that are empty or replaced by a
link to another output (redone by any resume), truncated or changed in place with the same size
(redone with ``verify``); the CLI's ``--verify``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from test_job import make_tree, snapshot

import augcore
import augcore.job.write
import augcore.safefile
from augcore.cli import main
from augcore.manifest import ManifestWriter


def _traced_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **options) -> list[str]:
    trace = tmp_path / "trace.txt"
    monkeypatch.setenv("AUGCORE_FAULT_TRACE", str(trace))
    data = make_tree(tmp_path / "data", [f"f{index}.png" for index in range(5)])
    augcore.run([data], tmp_path / "out", per_image=2, seed=0, jobs=1, **options)
    monkeypatch.delenv("AUGCORE_FAULT_TRACE")
    return [line.split()[2] for line in trace.read_text().splitlines()]


def test_the_header_is_placed_whole_and_synced_before_any_line(tmp_path, monkeypatch):
    points = _traced_run(tmp_path, monkeypatch)
    first = points.index("create")
    assert points[first : first + 3] == ["create", "write", "rename"]  # the header, atomically
    assert points.index("sync") < points.index("manifest-append")  # durable before any line


def test_a_manifest_writer_alone_syncs_its_header(tmp_path, monkeypatch):
    trace = tmp_path / "trace.txt"
    monkeypatch.setenv("AUGCORE_FAULT_TRACE", str(trace))
    ManifestWriter(tmp_path / "manifest.jsonl", {"seed": 1}).open()
    points = [line.split()[2] for line in trace.read_text().splitlines()]
    assert points == ["create", "write", "fsync", "rename", "fsync-folder"]


@pytest.mark.parametrize("syncfs", [True, False])
def test_every_manifest_line_follows_a_sync_of_its_file(tmp_path, monkeypatch, syncfs):
    if not syncfs:
        monkeypatch.setattr(augcore.safefile, "_syncfs", lambda: None)
    monkeypatch.setattr(augcore.job.write.Recorder, "SYNC_OUTPUTS", 3)
    synced: set[str] = set()
    appended: list[str] = []
    fsynced: list[int] = []
    sync_files = augcore.safefile.sync_files
    write_lines = ManifestWriter.write_lines
    fsync = os.fsync

    def recording_sync(root, paths):
        paths = list(paths)
        sync_files(root, paths)
        synced.update(paths)

    def checking_write(self, lines):
        for line in lines:
            path = json.loads(line)["path"]
            assert path in synced, f"{path} recorded before its file was synced"
            appended.append(path)
        return write_lines(self, lines)

    monkeypatch.setattr(augcore.job.write, "sync_files", recording_sync)
    monkeypatch.setattr(ManifestWriter, "write_lines", checking_write)
    monkeypatch.setattr(os, "fsync", lambda fd: fsynced.append(fd) or fsync(fd))
    data = make_tree(tmp_path / "data", [f"f{index}.png" for index in range(5)])
    augcore.run([data], tmp_path / "out", per_image=2, seed=0, jobs=1)
    assert len(appended) == 10 and synced == {*appended, "manifest.jsonl"}  # header too
    if not syncfs:  # each output, its folder, the header, its folder, the manifest at the end
        assert len(fsynced) >= 10 + 3


def _done_run(tmp_path: Path) -> tuple[Path, Path, dict[str, bytes]]:
    data = make_tree(tmp_path / "data", ("a.png", "b.png"))
    out = tmp_path / "out"
    augcore.run([data], out, per_image=2, seed=0, jobs=1)
    return data, out, snapshot(out)


@pytest.mark.parametrize(
    ("damage", "verify"),
    [
        (lambda path: path.write_bytes(b""), False),  # the 0-byte "done" file of a power loss
        (lambda path: (path.unlink(), os.symlink(path.with_name("b__k0.png"), path)), False),
        (lambda path: path.write_bytes(path.read_bytes()[:-10]), True),  # truncated in place
    ],
    ids=["empty", "link to another output", "truncated (verify)"],
)
def test_a_resume_redoes_a_recorded_output_that_is_not_whole(tmp_path, damage, verify):
    data, out, before = _done_run(tmp_path)
    damage(out / "a__k1.png")
    summary = augcore.run([data], out, per_image=2, seed=0, jobs=1, verify=verify)
    assert (summary.written, summary.already_there) == (1, 3)
    assert snapshot(out) == before


def test_verify_redoes_an_output_changed_in_place_with_the_same_size(tmp_path):
    data, out, before = _done_run(tmp_path)
    target = out / "b__k0.png"
    changed = bytearray(target.read_bytes())
    changed[-20] ^= 0xFF
    target.write_bytes(bytes(changed))
    plain = augcore.run([data], out, per_image=2, seed=0, jobs=1)
    assert plain.written == 0  # sizes are checked; contents only with verify
    checked = augcore.run([data], out, per_image=2, seed=0, jobs=1, verify=True)
    assert (checked.written, checked.already_there) == (1, 3)
    assert snapshot(out) == before


def test_the_cli_verify_flag(tmp_path, capsys):
    data, out, before = _done_run(tmp_path)
    target = out / "a__k0.png"
    changed = bytearray(target.read_bytes())
    changed[-20] ^= 0xFF
    target.write_bytes(bytes(changed))
    argv = ["run", str(data), "--out", str(out), "--per-image", "2", "--jobs", "1"]
    assert main([*argv, "--verify"]) == 0
    assert "1 written, 3 already there" in capsys.readouterr().out
    assert snapshot(out) == before
