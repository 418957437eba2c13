"""Issue 12, class 7: resource guards and API traps.

Members tried: output sizes over the pixel limit (from the CLI string, a tuple, a tiny
``max_pixels``), a str and a Path given as the sources (one source each, not their letters),
``--out`` equal to a source, inside it, and holding it; OS errors (no space, read-only, too many
open files) given a sentence saying what to do; ``augcore plan`` and ``run`` into a closed pipe.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys

import pytest
from test_job import images_in, make_tree

import augcore
from augcore.cli import main
from augcore.errors import JobOptionError, OutputConflictError


@pytest.mark.parametrize(
    ("size", "max_pixels"), [("100000x100000", None), ((100000, 100000), None), ("40x30", 1000)]
)
def test_an_output_size_over_the_pixel_limit_is_refused_before_reading(tmp_path, size, max_pixels):
    data = make_tree(tmp_path / "data", ("a.png",))
    options = {"per_image": 1, "seed": 0, "size": size, "max_pixels": max_pixels}
    with pytest.raises(JobOptionError, match="more than the limit"):
        augcore.plan([data], tmp_path / "out", **options)
    with pytest.raises(JobOptionError, match="more than the limit"):
        augcore.run([data], tmp_path / "out", jobs=1, **options)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("step", "match"),
    [
        ({"transform": "resize", "height": 10000, "width": 10000}, "over the pixel limit"),
        ({"transform": "resize", "height": 20000, "width": 20000}, "over the limit"),
        ({"transform": "crop", "height": 500, "width": 20}, "does not fit"),
    ],
)
def test_a_chain_whose_canvas_an_input_cannot_take_is_that_inputs_error(tmp_path, step, match):
    """A canvas step's output size depends on each input: one that would exceed the inputs'
    pixel limit (resize) or cannot be made (a crop larger than the image) is a per-input,
    named error that --on-error skip applies to, never an allocation or a traceback."""
    data = make_tree(tmp_path / "data", ("a.png", "b.png"))
    config = {"steps": [step]}
    with pytest.raises(augcore.AugcoreError, match=match):
        augcore.run([data], tmp_path / "stop", per_image=1, seed=0, config=config)
    summary = augcore.run(
        [data], tmp_path / "skip", per_image=1, seed=0, config=config, on_error="skip"
    )
    assert summary.written == 0 and len(summary.skipped) == 2
    assert all(match in skipped.reason for skipped in summary.skipped)


def test_the_cli_refuses_a_huge_size_with_exit_2(tmp_path, capsys):
    """Through ``plan``: on a version without the guard, ``run`` would be OOM-killed here."""
    data = make_tree(tmp_path / "data", ("a.png",))
    argv = ["plan", str(data), "--out", str(tmp_path / "out"), "--per-image", "1"]
    assert main([*argv, "--size", "100000x100000"]) == 2
    assert "more than the limit" in capsys.readouterr().err


@pytest.mark.parametrize("kind", [str, os.fspath, lambda path: path])
def test_a_single_str_or_path_is_one_source(tmp_path, kind):
    data = make_tree(tmp_path / "data", ("a.png", "b.png"))
    summary = augcore.run(kind(data), tmp_path / "out", per_image=1, seed=0, jobs=1)
    assert (summary.inputs, summary.skipped) == (2, [])
    assert images_in(tmp_path / "out") == {"a__k0.png", "b__k0.png"}
    plan = augcore.plan(kind(data), tmp_path / "other", per_image=1, seed=0)
    assert len(plan.inputs) == 2


@pytest.mark.parametrize("sources", [b"data", 42, [42], [None]])
def test_sources_of_another_type_are_a_named_option_error(tmp_path, sources):
    with pytest.raises(JobOptionError, match="source"):
        augcore.run(sources, tmp_path / "out", per_image=1, seed=0)


def test_out_equal_to_a_source_is_refused_plainly(tmp_path):
    data = make_tree(tmp_path / "data", ("a.png",))
    before = sorted(os.listdir(data))
    with pytest.raises(OutputConflictError, match=r"is the source folder .* itself"):
        augcore.run([data], data, per_image=1, seed=0, jobs=1)
    with pytest.raises(OutputConflictError, match="itself"):
        augcore.plan([data], data / ".", per_image=1, seed=0)
    assert sorted(os.listdir(data)) == before


def test_out_inside_a_source_is_said_plainly(tmp_path, capsys):
    data = make_tree(tmp_path / "data", ("a.png",))
    summary = augcore.run([data], data / "aug", per_image=1, seed=0, jobs=1)
    assert any("inside the source folder" in note for note in summary.notes)
    plan = augcore.plan([data], data / "aug", per_image=1, seed=0)
    assert "note: --out" in plan.describe()
    argv = ["run", str(data), "--out", str(data / "aug2"), "--per-image", "1", "--quiet"]
    assert main(argv) == 0
    assert "note: --out" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("code", "advice"),
    [
        (errno.ENOSPC, "free some space"),
        (errno.EROFS, "read-only; choose another --out"),
        (errno.EMFILE, "ulimit -n"),
        (errno.EACCES, "check the permissions"),
    ],
)
def test_a_raw_os_error_gets_a_sentence_saying_what_to_do(
    tmp_path, monkeypatch, capsys, code, advice
):
    data = make_tree(tmp_path / "data", ("a.png",))
    replace = os.replace

    def failing(source, target):
        if not os.fspath(target).endswith("manifest.jsonl"):
            raise OSError(code, os.strerror(code), os.fspath(target))
        return replace(source, target)

    monkeypatch.setattr(os, "replace", failing)
    argv = ["run", str(data), "--out", str(tmp_path / "out"), "--per-image", "1", "--jobs", "1"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert os.strerror(code) in err and advice in err and "Traceback" not in err


@pytest.mark.parametrize("command", ["plan", "run"])
def test_a_closed_pipe_ends_plan_and_run_quietly(tmp_path, command):
    """`augcore plan ... | head -1`: no traceback, no error message, status 141."""
    data = make_tree(tmp_path / "data", [f"f{index}.png" for index in range(3)])
    read_end, write_end = os.pipe()
    os.close(read_end)
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "augcore",
            command,
            str(data),
            "--out",
            str(tmp_path / "out"),
            "--per-image",
            "2",
        ],
        stdout=write_end,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )
    os.close(write_end)
    assert process.stderr == "" and process.returncode == 141
