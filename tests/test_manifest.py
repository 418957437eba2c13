"""The manifest file on disk: header once, one flushed line per entry, torn tails tolerated."""

from __future__ import annotations

import json

import pytest

from augcore.errors import ManifestError
from augcore.manifest import ManifestWriter, encode_entry, read_manifest

HEADER = {"seed": 7, "per_image": 3, "chain": {"steps": [{"name": "rotate"}]}}


def test_round_trip_keeps_header_and_entries_in_order(tmp_path):
    path = tmp_path / "out" / "manifest.jsonl"
    with ManifestWriter(path, HEADER) as writer:
        writer.write({"path": "a__k0.png", "k": 0})
        writer.write({"path": "a__k1.png", "k": 1})
    manifest = read_manifest(path)
    assert manifest.header == HEADER
    assert [e["path"] for e in manifest.entries] == ["a__k0.png", "a__k1.png"]
    assert not manifest.torn_tail
    lines = path.read_bytes().split(b"\n")
    assert len(lines) == 4 and lines[-1] == b""  # header + 2 entries, newline-terminated


def test_each_entry_is_on_disk_before_the_writer_closes(tmp_path):
    path = tmp_path / "manifest.jsonl"
    with ManifestWriter(path, HEADER) as writer:
        writer.write({"path": "x.png"})
        assert read_manifest(path).entries == [{"path": "x.png"}]


def test_reopening_with_the_same_header_appends_without_a_second_header(tmp_path):
    path = tmp_path / "manifest.jsonl"
    with ManifestWriter(path, HEADER) as writer:
        writer.write({"path": "a.png"})
    with ManifestWriter(path, json.loads(json.dumps(HEADER))) as writer:
        writer.write({"path": "b.png"})
    manifest = read_manifest(path)
    assert [e["path"] for e in manifest.entries] == ["a.png", "b.png"]
    assert path.read_text().count("augcore_manifest") == 1


def test_reopening_with_a_different_header_is_refused_and_leaves_the_file_alone(tmp_path):
    path = tmp_path / "manifest.jsonl"
    with ManifestWriter(path, HEADER) as writer:
        writer.write({"path": "a.png"})
    before = path.read_bytes()
    with pytest.raises(ManifestError, match="different run"):
        ManifestWriter(path, {**HEADER, "seed": 8}).open()
    assert path.read_bytes() == before


def test_a_torn_last_line_is_dropped_by_the_reader_and_cut_off_by_the_writer(tmp_path):
    path = tmp_path / "manifest.jsonl"
    with ManifestWriter(path, HEADER) as writer:
        writer.write({"path": "a.png"})
    with open(path, "ab") as handle:
        handle.write(b'{"path": "b.p')  # a run killed in the middle of a write
    torn = read_manifest(path)
    assert torn.torn_tail and [e["path"] for e in torn.entries] == ["a.png"]
    with ManifestWriter(path, HEADER) as writer:
        writer.write({"path": "c.png"})
    healed = read_manifest(path)
    assert not healed.torn_tail
    assert [e["path"] for e in healed.entries] == ["a.png", "c.png"]


def test_a_torn_header_is_rewritten(tmp_path):
    path = tmp_path / "manifest.jsonl"
    path.write_bytes(b'{"augcore_manifest": 1, "hea')
    with ManifestWriter(path, HEADER) as writer:
        writer.write({"path": "a.png"})
    assert read_manifest(path).header == HEADER


def test_corruption_before_the_last_line_is_an_error_naming_the_line(tmp_path):
    path = tmp_path / "manifest.jsonl"
    with ManifestWriter(path, HEADER) as writer:
        writer.write({"path": "a.png"})
    path.write_bytes(path.read_bytes() + b"garbage\n" + b'{"path": "b.png"}\n')
    with pytest.raises(ManifestError, match="line 3"):
        read_manifest(path)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "no manifest"),
        (b"", "empty"),
        (b'{"seed": 1}\n', "not an augcore manifest header"),
        (b"\x89PNG\r\n", "not JSON"),
    ],
)
def test_missing_or_foreign_files_are_refused_clearly(tmp_path, content, reason):
    path = tmp_path / "manifest.jsonl"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ManifestError, match=reason):
        read_manifest(path)


def test_entries_that_are_not_plain_json_are_refused_before_anything_is_written(tmp_path):
    path = tmp_path / "manifest.jsonl"
    with ManifestWriter(path, HEADER) as writer:
        with pytest.raises(ManifestError, match="not plain JSON"):
            writer.write({"value": {1, 2}})
        with pytest.raises(ManifestError, match="must be a dict"):
            writer.write(["a.png"])  # type: ignore[arg-type]
    assert read_manifest(path).entries == []


def test_writing_after_close_is_an_error(tmp_path):
    writer = ManifestWriter(tmp_path / "manifest.jsonl", HEADER)
    with writer:
        pass
    with pytest.raises(ManifestError, match="not open"):
        writer.write({"path": "a.png"})


def test_lines_encoded_elsewhere_are_appended_in_one_go(tmp_path):
    path = tmp_path / "manifest.jsonl"
    lines = [encode_entry({"path": f"x__k{k}.png", "k": k}) for k in range(3)]
    with ManifestWriter(path, HEADER) as writer:
        writer.write_lines(lines)
        writer.write_lines([])
        with pytest.raises(ManifestError, match="encode_entry"):
            writer.write_lines([b'{"path": "half'])
        with pytest.raises(ManifestError, match="encode_entry"):
            writer.write_lines([b'{"a": 1}\n{"b": 2}\n'])
    assert [e["k"] for e in read_manifest(path).entries] == [0, 1, 2]


def test_encode_entry_refuses_what_json_cannot_hold():
    with pytest.raises(ManifestError, match="not plain JSON"):
        encode_entry({"value": float("nan")})
