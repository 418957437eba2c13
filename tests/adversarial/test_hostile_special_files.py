"""Issue 12, class 1: only regular files are read; everything else is named, never a hang.

Members tried: a FIFO, a socket, a character device (through a link), a symbolic-link loop, a
broken link, each inside a source folder and named directly; a folder that cannot be listed; a
list file with a UTF-8 byte-order mark, in UTF-16, in Latin-1, naming a FIFO, being a FIFO, with
a NUL byte in a line; a manifest that is a FIFO; a forged manifest line whose source is a FIFO.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
from test_job import images_in, make_tree

import augcore
from augcore.errors import InputImageError, ManifestError, OutputConflictError

pytestmark = pytest.mark.usefixtures("no_hang")


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _socket(path: Path) -> Path:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()  # the socket file stays
    return path


def _device(path: Path) -> Path:
    os.symlink("/dev/zero", path)
    return path


def _loop(path: Path) -> Path:
    os.symlink(path.name, path)  # a link to itself
    return path


def _broken(path: Path) -> Path:
    os.symlink(path.parent / "nowhere.png", path)
    return path


SPECIAL = {
    "fifo": (_fifo, "FIFO"),
    "socket": (_socket, "socket"),
    "device": (_device, "character device"),
    "loop": (_loop, "symbolic link"),
    "broken": (_broken, "broken symbolic link"),
}


@pytest.mark.parametrize("kind", SPECIAL)
def test_a_special_file_in_a_source_folder_stops_the_run_by_name(tmp_path, kind):
    make, reason = SPECIAL[kind]
    data = make_tree(tmp_path / "data", ("a.png",))
    make(data / "x.png")
    with pytest.raises(InputImageError, match=rf"(?s)nothing was written.*x\.png: .*{reason}"):
        augcore.run([data], tmp_path / "out", per_image=1, seed=0, jobs=1)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("kind", SPECIAL)
def test_a_special_file_is_skipped_by_name_and_the_rest_is_written(tmp_path, kind):
    make, reason = SPECIAL[kind]
    data = make_tree(tmp_path / "data", ("a.png",))
    make(data / "x.png")
    summary = augcore.run([data], tmp_path / "out", per_image=2, seed=0, jobs=1, on_error="skip")
    assert images_in(tmp_path / "out") == {"a__k0.png", "a__k1.png"}
    [skipped] = summary.skipped
    assert skipped.path.endswith("x.png") and reason in skipped.reason


@pytest.mark.parametrize("kind", SPECIAL)
def test_plan_names_a_special_file_without_opening_it(tmp_path, kind):
    make, reason = SPECIAL[kind]
    data = make_tree(tmp_path / "data", ("a.png",))
    make(data / "x.png")
    plan = augcore.plan([data], tmp_path / "out", per_image=1, seed=0)
    assert [Path(item.path).name for item in plan.inputs] == ["a.png"]
    [skipped] = plan.skipped
    assert reason in skipped.reason


@pytest.mark.parametrize("kind", ["fifo", "socket", "device"])
def test_a_special_file_named_directly_is_named(tmp_path, kind):
    make, reason = SPECIAL[kind]
    good = make_tree(tmp_path / "data", ("a.png",)) / "a.png"
    special = make(tmp_path / "x.png")
    with pytest.raises(InputImageError, match=rf"x\.png: .*{reason}"):
        augcore.run([good, special], tmp_path / "out", per_image=1, seed=0, jobs=1)


def test_an_input_swapped_for_a_fifo_after_discovery_is_refused_not_opened(tmp_path):
    from augcore.imageio import probe_image, read_image

    fifo = _fifo(tmp_path / "x.png")
    with pytest.raises(InputImageError, match=r"x\.png is a FIFO"):
        read_image(fifo)
    with pytest.raises(InputImageError, match="FIFO"):
        probe_image(fifo)


def test_a_folder_that_cannot_be_listed_is_named_not_dropped(tmp_path, monkeypatch):
    data = make_tree(tmp_path / "data", ("a.png", "locked/b.png"))
    scandir = os.scandir

    def refusing(path="."):
        if os.fspath(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    with pytest.raises(InputImageError, match=r"(?s)locked: cannot list this folder"):
        augcore.run([data], tmp_path / "out", per_image=1, seed=0, jobs=1)
    summary = augcore.run([data], tmp_path / "out", per_image=1, seed=0, jobs=1, on_error="skip")
    assert [Path(skip.path).name for skip in summary.skipped] == ["locked"]
    assert not summary.complete


def test_a_list_file_with_a_utf8_bom_reads_its_first_path(tmp_path):
    data = make_tree(tmp_path / "data", ("a.png", "b.png"))
    listing = tmp_path / "list.txt"
    listing.write_bytes(b"\xef\xbb\xbf" + f"{data / 'a.png'}\n{data / 'b.png'}\n".encode())
    summary = augcore.run([], tmp_path / "out", per_image=1, seed=0, from_list=listing, jobs=1)
    assert (summary.inputs, summary.skipped) == (2, [])


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("a.png\n".encode("utf-16"), "UTF-16"),
        (b"a.png\ncaf\xe9.png\n", r"not UTF-8 text \(byte 0xe9 on line 2\)"),
    ],
)
def test_a_list_file_in_another_encoding_is_refused_naming_it(tmp_path, content, reason):
    listing = tmp_path / "list.txt"
    listing.write_bytes(content)
    with pytest.raises(InputImageError, match=rf"list\.txt: .*{reason}"):
        augcore.run([], tmp_path / "out", per_image=1, seed=0, from_list=listing, jobs=1)


def test_a_list_file_that_is_a_fifo_or_names_one_never_hangs(tmp_path):
    fifo = _fifo(tmp_path / "list.txt")
    with pytest.raises(InputImageError, match=r"list\.txt is a FIFO"):
        augcore.plan([], tmp_path / "out", per_image=1, seed=0, from_list=fifo)
    listing = tmp_path / "names.txt"
    listing.write_text(f"{_fifo(tmp_path / 'x.png')}\n")
    plan = augcore.plan([], tmp_path / "out", per_image=1, seed=0, from_list=listing)
    assert "FIFO" in plan.skipped[0].reason


def test_a_nul_byte_in_a_listed_path_is_named(tmp_path):
    listing = tmp_path / "list.txt"
    listing.write_bytes(b"a\x00b.png\n")
    with pytest.raises(InputImageError, match="NUL byte"):
        augcore.run([], tmp_path / "out", per_image=1, seed=0, from_list=listing, jobs=1)


def test_a_manifest_that_is_a_fifo_is_refused_by_run_report_and_replay(tmp_path):
    data = make_tree(tmp_path / "data", ("a.png",))
    out = tmp_path / "out"
    out.mkdir()
    _fifo(out / "manifest.jsonl")
    with pytest.raises(OutputConflictError, match="FIFO"):
        augcore.run([data], out, per_image=1, seed=0, jobs=1)
    with pytest.raises(ManifestError, match="FIFO"):
        augcore.report(out)
    with pytest.raises(ManifestError, match="FIFO"):
        augcore.replay(out)


def test_a_forged_manifest_source_that_is_a_fifo_is_named_by_replay(tmp_path):
    data = make_tree(tmp_path / "data", ("a.png",))
    out = tmp_path / "out"
    augcore.run([data], out, per_image=1, seed=0, jobs=1)
    manifest = out / "manifest.jsonl"
    header, line = manifest.read_text().splitlines()
    entry = json.loads(line)
    entry["source"] = str(_fifo(tmp_path / "x.png"))
    manifest.write_text(f"{header}\n{json.dumps(entry)}\n")
    result = augcore.replay(out, check=True)
    assert not result.ok
    assert any("FIFO" in reason for reason in result.unreadable_sources)


def test_an_output_path_taken_by_a_fifo_is_not_read_by_replay(tmp_path):
    data = make_tree(tmp_path / "data", ("a.png",))
    out = tmp_path / "out"
    augcore.run([data], out, per_image=1, seed=0, jobs=1)
    (out / "a__k0.png").unlink()
    _fifo(out / "a__k0.png")
    result = augcore.replay(out, check=True)
    assert not result.ok and result.matched == 0
