"""The run/plan/report/replay commands: arguments, messages and documented exit codes."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import shutil
import struct
import subprocess
import sys
import termios

import pytest
from test_job import make_tree, snapshot

from augcore.cli import main
from augcore.cli.job import (
    EXIT_BAD_INPUT,
    EXIT_MISMATCH,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_REFUSED,
    EXIT_USAGE,
)
from augcore.sources import discover


def test_the_readme_command_works_on_the_shipped_samples(tmp_path):
    """`augcore run --samples --out augmented --per-image 3 --seed 0`, as an installed script."""
    executable = shutil.which("augcore") or pytest.fail("the augcore console script is missing")
    done = subprocess.run(
        [executable, "run", "--samples", "--out", "augmented", "--per-image", "3", "--seed", "0"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == EXIT_OK, done.stderr
    samples = len(discover(samples=True).items)
    written = [p for p in (tmp_path / "augmented").iterdir() if p.name != "manifest.jsonl"]
    assert len(written) == 3 * samples
    assert f"{samples} inputs x 3 = {3 * samples} outputs" in done.stdout


def test_run_then_rerun_resumes_and_reports_a_summary_line(tmp_path, capsys):
    data = make_tree(tmp_path / "data", ("cats/x.png", "dogs/x.png"))
    argv = ["run", str(data), "--out", str(tmp_path / "out"), "--per-image", "2", "--jobs", "1"]
    assert main(argv) == EXIT_OK
    first = capsys.readouterr()
    assert "2 inputs x 2 = 4 outputs" in first.out and "4 written, 0 already there" in first.out
    assert first.err == ""  # stderr is not a terminal here: no progress bar
    assert main(argv) == EXIT_OK
    assert "0 written, 4 already there" in capsys.readouterr().out


def test_quiet_prints_nothing_on_success(tmp_path, capsys):
    data = make_tree(tmp_path / "data", ("a.png",))
    argv = ["run", str(data), "--out", str(tmp_path / "out"), "--per-image", "1", "--quiet"]
    assert main(argv) == EXIT_OK
    assert capsys.readouterr() == ("", "")


def test_from_list_size_and_format_reach_the_job(tmp_path):
    data = make_tree(tmp_path / "data", ("a.png", "b.png"))
    listing = tmp_path / "list.txt"
    listing.write_text(f"{data / 'a.png'}\n{data / 'b.png'}\n{data / 'a.png'}\n")
    argv = ["run", "--from-list", str(listing), "--out", str(tmp_path / "out")]
    argv += ["--per-image", "3", "--size", "28x28", "--format", "tif", "--quiet", "--seed", "9"]
    assert main(argv) == EXIT_OK
    names = set(snapshot(tmp_path / "out"))
    assert len(names) == 9 + 1 and "a~2__k2.tif" in names
    header = json.loads((tmp_path / "out" / "manifest.jsonl").read_text().splitlines()[0])
    assert header["header"]["size"] == [28, 28] and header["header"]["seed"] == 9


def test_a_bad_input_exits_3_naming_the_file(tmp_path, capsys):
    data = make_tree(tmp_path / "data", ("a.png",))
    (data / "broken.png").write_bytes(b"not an image")
    argv = ["run", str(data), "--out", str(tmp_path / "out"), "--per-image", "1", "--jobs", "1"]
    assert main(argv) == EXIT_BAD_INPUT
    assert "broken.png: not an image" in capsys.readouterr().err


def test_skip_exits_5_and_lists_what_was_skipped(tmp_path, capsys):
    data = make_tree(tmp_path / "data", ("a.png",))
    (data / "broken.png").write_bytes(b"")
    argv = ["run", str(data), "--out", str(tmp_path / "out"), "--per-image", "2"]
    assert main([*argv, "--on-error", "skip", "--jobs", "1"]) == EXIT_PARTIAL
    captured = capsys.readouterr()
    assert "skipped" in captured.err and "broken.png: empty file" in captured.err
    assert "1 skipped" in captured.out


def test_a_conflicting_run_exits_4_and_leaves_the_folder_alone(tmp_path, capsys):
    data = make_tree(tmp_path / "data", ("a.png",))
    out = tmp_path / "out"
    argv = ["run", str(data), "--out", str(out), "--per-image", "1", "--quiet"]
    assert main(argv) == EXIT_OK
    before = snapshot(out)
    assert main([*argv, "--seed", "1"]) == EXIT_REFUSED
    assert "different run" in capsys.readouterr().err
    assert snapshot(out) == before
    assert main([*argv, "--seed", "1", "--overwrite"]) == EXIT_OK
    assert snapshot(out) != before


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--out", "x"],  # --per-image missing
        ["run", "--out", "x", "--per-image", "two"],
        ["run", "--out", "x", "--per-image", "1", "--format", "gif"],
    ],
)
def test_bad_command_lines_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == EXIT_USAGE
    assert "usage:" in capsys.readouterr().err


def test_bad_option_values_exit_2_with_a_message(tmp_path, capsys):
    data = make_tree(tmp_path / "data", ("a.png",))
    argv = ["run", str(data), "--out", str(tmp_path / "out"), "--per-image", "0"]
    assert main(argv) == EXIT_USAGE
    assert "per_image must be a positive integer" in capsys.readouterr().err


def test_plan_prints_counts_and_names_and_writes_nothing(tmp_path, capsys):
    data = make_tree(tmp_path / "data", ("cats/x.png", "dogs/x.png"))
    (data / "broken.png").write_bytes(b"")
    argv = ["plan", str(data), "--out", str(tmp_path / "out"), "--per-image", "3"]
    assert main(argv) == EXIT_OK
    text = capsys.readouterr().out
    assert "inputs found: 3" in text and "2 x 3 per image = 6 outputs" in text
    assert "cats/x__k0.png" in text and "broken.png" in text and "empty file" in text
    assert not (tmp_path / "out").exists()


def test_report_and_replay_through_the_cli(tmp_path, capsys):
    data = make_tree(tmp_path / "data", ("a.png", "b.png"))
    out = tmp_path / "out"
    assert main(["run", str(data), "--out", str(out), "--per-image", "2", "--quiet"]) == EXIT_OK
    assert main(["report", str(out)]) == EXIT_OK
    table = capsys.readouterr().out
    assert table.startswith("4 outputs in") and "rotate" in table and "degrees" in table
    assert main(["replay", str(out), "--check"]) == EXIT_OK
    assert "4 of 4 outputs match" in capsys.readouterr().out
    (out / "b__k1.png").write_bytes(b"tampered")
    assert main(["replay", str(out), "--check"]) == EXIT_MISMATCH
    assert "tampered (file differs from its record): b__k1.png" in capsys.readouterr().out


def test_report_on_a_folder_without_a_manifest_is_a_clear_error(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 1
    assert "no manifest here" in capsys.readouterr().err


def test_python_dash_m_augcore_runs_the_cli_and_its_workers_write_the_same_bytes(tmp_path):
    """A fresh process with no threads forks its workers; the files equal a one-process run."""
    data = make_tree(tmp_path / "data", [f"f{i:02d}.png" for i in range(16)])
    main(["run", str(data), "--out", str(tmp_path / "one"), "--per-image", "2", "--jobs", "1"])
    argv = [sys.executable, "-m", "augcore", "run", str(data), "--out", str(tmp_path / "two")]
    argv += ["--per-image", "2", "--jobs", "2"]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert done.returncode == EXIT_OK, done.stderr
    assert "16 inputs x 2 = 32 outputs" in done.stdout
    assert snapshot(tmp_path / "one") == snapshot(tmp_path / "two")


def test_a_progress_bar_is_drawn_when_stderr_is_a_terminal(tmp_path):
    data = make_tree(tmp_path / "data", ("a.png", "b.png"))
    executable = shutil.which("augcore") or pytest.fail("the augcore console script is missing")
    terminal, attached = pty.openpty()
    fcntl.ioctl(attached, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 100 columns
    argv = [executable, "run", str(data), "--out", str(tmp_path / "out"), "--per-image", "2"]
    done = subprocess.run(argv, stderr=attached, stdout=subprocess.PIPE, check=False)
    os.close(attached)
    drawn = os.read(terminal, 65536).decode(errors="replace")
    os.close(terminal)
    assert done.returncode == EXIT_OK
    assert "augcore" in drawn and "4/4" in drawn and "img/s" in drawn


def test_an_unwritable_output_folder_is_a_message_not_a_traceback(tmp_path, capsys):
    data = make_tree(tmp_path / "data", ("a.png",))
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    argv = ["run", str(data), "--out", str(blocker / "out"), "--per-image", "1", "--jobs", "1"]
    assert main(argv) == 1
    assert capsys.readouterr().err.startswith("augcore: error:")
