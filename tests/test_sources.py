"""Input discovery, unique keys, output names, and refusing paths that leave the output folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from augcore.errors import InputImageError, UnsafePathError
from augcore.sources import (
    check_output_paths,
    discover,
    output_relpath,
    read_list,
    safe_output_path,
    samples_dir,
    unique_keys,
)


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def test_folders_are_walked_recursively_sorted_images_only_hidden_skipped(tmp_path):
    for name in ("dogs/b.JPG", "cats/x.png", "cats/a/y.tif", "notes.txt", ".hidden.png"):
        touch(tmp_path / "data" / name)
    touch(tmp_path / "data" / ".cache" / "z.png")
    found = discover([tmp_path / "data"])
    assert [item.key for item in found.items] == ["cats/a/y.tif", "cats/x.png", "dogs/b.JPG"]
    assert found.items[1].path == tmp_path / "data" / "cats" / "x.png"
    assert found.bad == []


def test_symlinked_folders_are_not_followed(tmp_path):
    touch(tmp_path / "elsewhere" / "secret.png")
    touch(tmp_path / "data" / "a.png")
    os.symlink(tmp_path / "elsewhere", tmp_path / "data" / "link")
    assert [item.key for item in discover([tmp_path / "data"]).items] == ["a.png"]


def test_same_name_in_different_folders_keeps_distinct_keys_and_names(tmp_path):
    a = touch(tmp_path / "cats" / "x.png")
    b = touch(tmp_path / "dogs" / "x.png")
    keys = [item.key for item in discover([a, b]).items]
    assert keys == ["cats/x.png", "dogs/x.png"]
    assert {output_relpath(key, 0, ".png") for key in keys} == {"cats/x__k0.png", "dogs/x__k0.png"}


def test_a_file_listed_twice_becomes_two_inputs_with_distinct_keys(tmp_path):
    image = touch(tmp_path / "imgs" / "x.png")
    listing = tmp_path / "list.txt"
    listing.write_text(f"  {image}  \n\n{image}\n{tmp_path / 'imgs' / 'y.png'}\n")
    touch(tmp_path / "imgs" / "y.png")
    found = discover(from_list=listing)
    assert [item.key for item in found.items] == ["x.png", "x~2.png", "y.png"]
    assert [item.path for item in found.items][:2] == [image, image]


def test_unique_keys_never_reuse_an_output_stem():
    keys = unique_keys(["x.png", "x.jpg", "x~2.png", "x.png", "a/x.png"])
    assert keys == ["x.png", "x~2.jpg", "x~2~2.png", "x~3.png", "a/x.png"]
    stems = [os.path.splitext(key)[0] for key in keys]
    assert len(set(stems)) == len(stems)


def test_relative_list_entries_are_relative_to_the_working_directory(tmp_path, monkeypatch):
    touch(tmp_path / "work" / "pics" / "a.png")
    listing = tmp_path / "list.txt"
    listing.write_text("pics/a.png\n")
    monkeypatch.chdir(tmp_path / "work")
    found = discover(from_list=listing)
    assert [(item.path, item.key) for item in found.items] == [
        (tmp_path / "work" / "pics" / "a.png", "a.png")
    ]


def test_missing_paths_and_unknown_extensions_are_reported_not_raised(tmp_path):
    touch(tmp_path / "ok.png")
    touch(tmp_path / "notes.txt")
    found = discover([tmp_path / "ok.png", tmp_path / "gone.png", tmp_path / "notes.txt"])
    assert [item.key for item in found.items] == ["ok.png"]
    reasons = {Path(bad.path).name: bad.reason for bad in found.bad}
    assert reasons["gone.png"] == "no such file or directory"
    assert reasons["notes.txt"].startswith("unknown image extension")


def test_an_unreadable_list_file_is_an_input_error_naming_it(tmp_path):
    with pytest.raises(InputImageError, match=r"missing\.txt: list file not found"):
        read_list(tmp_path / "missing.txt")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(InputImageError, match=r"binary\.txt: .* it is UTF-16 text"):
        read_list(binary)
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"a.png\ncaf\xe9.png\n")
    with pytest.raises(InputImageError, match=r"latin\.txt: .*not UTF-8 text \(byte 0xe9 on"):
        read_list(latin)


def test_the_shipped_samples_are_found():
    found = discover(samples=True)
    assert len(found.items) >= 8
    assert all(item.path.parent == samples_dir() for item in found.items)


def test_output_names_mirror_folders_and_carry_the_variant():
    assert output_relpath("cats/x.png", 2, ".tif") == "cats/x__k2.tif"
    assert output_relpath("x~2.png", 0, ".png") == "x~2__k0.png"


@pytest.mark.parametrize("relpath", ["../x.png", "a/../../x.png", "/etc/x.png", "", "a\\..\\x"])
def test_output_paths_that_climb_out_are_refused(tmp_path, relpath):
    with pytest.raises(UnsafePathError, match="not a plain relative path"):
        safe_output_path(tmp_path, relpath)
    with pytest.raises(UnsafePathError, match="not a plain relative path"):
        check_output_paths(tmp_path, ["fine.png", relpath])


def test_output_paths_through_a_symlink_out_of_the_folder_are_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", out / "cats")
    with pytest.raises(UnsafePathError, match="symbolic link"):
        safe_output_path(out, "cats/x__k0.png")
    with pytest.raises(UnsafePathError, match=r"cats/a/x__k1\.png"):
        check_output_paths(out, ["dogs/x__k0.png", "cats/a/x__k1.png", "cats/a/x__k2.png"])
    assert safe_output_path(out, "dogs/x__k0.png") == out / "dogs" / "x__k0.png"
    check_output_paths(out, ["dogs/x__k0.png", "x__k0.png"])
