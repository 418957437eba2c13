"""The ``augcore`` entry point itself: dispatch and behaviour as a pipeline member."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from augcore.cli import main


def test_every_sub_command_is_registered(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    listing = capsys.readouterr().out
    for command in ("run", "plan", "report", "replay", "plugins"):
        assert command in listing


def test_a_closed_pipe_ends_quietly_with_sigpipe_status():
    """`augcore plugins | head -1` must not end in a BrokenPipeError traceback."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before augcore writes a byte
    process = subprocess.run(
        [sys.executable, "-m", "augcore", "plugins", "--json"],
        stdout=write_end,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )
    os.close(write_end)
    assert "Traceback" not in process.stderr, process.stderr
    assert process.returncode == 141
