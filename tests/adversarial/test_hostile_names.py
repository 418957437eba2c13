"""Issue 12, class 3: names of any legal length.

Members tried: inputs whose output names are 1 byte short of, exactly at, and over the 255-byte
limit; ASCII and multi-byte UTF-8 names (a temporary name cut at a character boundary);
``--on-error stop`` and ``skip``; a deep folder; the manifest header's temporary.
"""

from __future__ import annotations

import os

import pytest
from test_job import images_in, make_image, make_tree, snapshot

import augcore
from augcore.errors import InputImageError
from augcore.safefile import NAME_MAX, TEMP_PREFIX, temporary_name


def _fits(name: str) -> bool:
    return len(os.fsencode(name)) <= NAME_MAX


@pytest.mark.parametrize(
    "stem",
    [
        "a" * 236,  # the 240-byte input name of the issue: its temporary name was 266 bytes
        "a" * (NAME_MAX - len("__k0.png")),  # the output name is exactly 255 bytes
        "é" * 123,  # 246 bytes of two-byte characters
    ],
)
def test_a_long_legal_name_is_written_and_leaves_no_temporary(tmp_path, stem):
    data = tmp_path / "data"
    make_image(data / f"{stem}.png")
    out = tmp_path / "out"
    summary = augcore.run([data], out, per_image=2, seed=0, jobs=1)
    assert summary.written == 2
    assert images_in(out) == {f"{stem}__k0.png", f"{stem}__k1.png"}
    assert not [name for name in os.listdir(out) if name.startswith(TEMP_PREFIX)]
    replayed = augcore.replay(out, check=True)
    assert replayed.ok and replayed.matched == 2


@pytest.mark.parametrize("name", ["x" * 300, "é" * 200, "a" * 251 + ".png" + "b"])
def test_temporary_names_always_fit(name):
    temporary = temporary_name(name)
    assert _fits(temporary) and temporary.startswith(TEMP_PREFIX)
    temporary.encode("utf-8")  # cut at a character boundary: still valid UTF-8


def test_an_output_name_too_long_for_the_file_system_is_a_named_input_error(tmp_path):
    data = make_tree(tmp_path / "data", ("a.png",))
    long_stem = "b" * (NAME_MAX - len(".png"))  # a legal input name; its output name is not
    make_image(data / f"{long_stem}.png", seed=1)
    out = tmp_path / "out"
    with pytest.raises(InputImageError, match=r"(?s)nothing was written.*bytes, more than the 255"):
        augcore.run([data], out, per_image=1, seed=0, jobs=1)
    assert not out.exists()
    summary = augcore.run([data], out, per_image=1, seed=0, jobs=1, on_error="skip")
    assert images_in(out) == {"a__k0.png"}
    [skipped] = summary.skipped
    assert long_stem in skipped.path and "rename the input" in skipped.reason
    plan = augcore.plan([data], tmp_path / "plan", per_image=1, seed=0)
    assert [skip.path for skip in plan.skipped] == [skipped.path]


def test_the_uniqueness_suffix_cannot_push_a_name_over_the_limit_silently(tmp_path):
    stem = "c" * (NAME_MAX - len("__k0.png"))  # fits exactly; its twin gets "~2" and does not
    first = make_image(tmp_path / "data" / f"{stem}.png")
    second = make_image(tmp_path / "data" / f"{stem}.jpg", seed=3)
    summary = augcore.run(
        [first, second], tmp_path / "out", per_image=1, seed=0, jobs=1, on_error="skip"
    )
    assert summary.written == 1 and len(summary.skipped) == 1
    assert "~2__k0.jpg" in summary.skipped[0].reason


def test_long_names_with_two_workers_give_the_bytes_of_one(tmp_path):
    names = [f"{'d' * 230}{index:02d}.png" for index in range(16)]
    data = make_tree(tmp_path / "data", names)
    augcore.run([data], tmp_path / "one", per_image=1, seed=0, jobs=1)
    augcore.run([data], tmp_path / "two", per_image=1, seed=0, jobs=2)
    assert snapshot(tmp_path / "one") == snapshot(tmp_path / "two")
