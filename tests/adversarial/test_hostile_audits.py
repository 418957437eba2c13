"""Issue 12, class 6: audits are complete.

Members tried on ``replay --check``: a deleted line, a duplicated line, a line for an output the
plan does not have, a line that is not JSON, a line with fields of the wrong type, a header
whose size is malformed, inputs skipped by ``--on-error skip``, sources moved since the run.
On ``report``: lines that are not JSON, records that are not objects, steps that are not lists
or not objects, step names that are not strings, parameters that are not objects, a parameter
beyond float range. Neither ever raises a traceback; the CLI exits 6 (replay) or 0 (report).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_job import make_tree

import augcore
from augcore.cli import main
from augcore.errors import ManifestError

TREE = ("a.png", "b.png", "sub/c.png")


@pytest.fixture
def finished(tmp_path: Path) -> Path:
    data = make_tree(tmp_path / "data", TREE)
    out = tmp_path / "out"
    augcore.run([data], out, per_image=2, seed=1, jobs=1)
    return out


def _lines(out: Path) -> list[str]:
    return (out / "manifest.jsonl").read_text().splitlines()


def _write(out: Path, lines: list[str]) -> None:
    (out / "manifest.jsonl").write_text("\n".join(lines) + "\n")


def test_an_untouched_run_is_complete(finished):
    result = augcore.replay(finished)
    assert result.ok and result.matched == result.checked == 6
    assert (result.unrecorded, result.extra, result.duplicated, result.notes) == ([], [], [], [])


def test_a_deleted_line_is_named_unrecorded(finished):
    lines = _lines(finished)
    gone = json.loads(lines.pop(3))["path"]
    _write(finished, lines)
    result = augcore.replay(finished)
    assert not result.ok and result.unrecorded == [gone]
    assert result.matched == 5
    assert any(gone in line and "unrecorded" in line for line in result.lines())


def test_all_lines_of_one_input_deleted_are_named(finished):
    lines = [line for line in _lines(finished) if '"key":"b.png"' not in line]
    _write(finished, lines)
    assert augcore.replay(finished).unrecorded == ["b__k0.png", "b__k1.png"]


def test_a_duplicated_line_is_named_and_checked_once(finished):
    lines = _lines(finished)
    _write(finished, [*lines, lines[2]])
    result = augcore.replay(finished)
    path = json.loads(lines[2])["path"]
    assert not result.ok and result.duplicated == [f"{path} (lines 3 and 8)"]
    assert result.checked == result.matched == 6


def test_a_line_for_an_output_outside_the_plan_is_named_extra(finished):
    lines = _lines(finished)
    entry = json.loads(lines[1])
    forged = {**entry, "path": entry["path"].replace("__k0", "__k7"), "k": 7}
    (finished / forged["path"]).write_bytes((finished / entry["path"]).read_bytes())
    _write(finished, [*lines, json.dumps(forged)])
    result = augcore.replay(finished)
    assert forged["path"] in result.extra and not result.ok


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        ("garbage", "line 3 is corrupt"),
        ('["not", "an", "object"]', "line 3 is not a JSON object"),
        (lambda entry: {**entry, "k": "zero"}, "line 3: no valid k"),
        (lambda entry: {**entry, "path": None, "sha256": 5}, "line 3: no valid path, sha256"),
    ],
)
def test_a_damaged_line_is_named_and_the_rest_still_checked(finished, damage, named):
    lines = _lines(finished)
    lines[2] = damage if isinstance(damage, str) else json.dumps(damage(json.loads(lines[2])))
    _write(finished, lines)
    result = augcore.replay(finished)
    assert not result.ok
    assert any(named in problem for problem in result.corrupt), result.corrupt
    assert result.matched == 5  # the five other outputs
    assert len(result.unrecorded) == 1  # and the damaged line's output is not recorded


def test_a_malformed_header_size_is_a_manifest_error(finished):
    lines = _lines(finished)
    first = json.loads(lines[0])
    first["header"]["size"] = ["wide", None]
    _write(finished, [json.dumps(first), *lines[1:]])
    with pytest.raises(ManifestError, match="size"):
        augcore.replay(finished)


def test_inputs_skipped_by_the_run_are_listed_not_failed(tmp_path):
    data = make_tree(tmp_path / "data", ("a.png",))
    (data / "broken.png").write_bytes(b"not an image")
    out = tmp_path / "out"
    augcore.run([data], out, per_image=2, seed=0, jobs=1, on_error="skip")
    result = augcore.replay(out)
    assert result.ok and result.matched == 2
    assert [line.split(":")[0] for line in result.skipped_inputs] == [
        "broken__k0.png",
        "broken__k1.png",
    ]


def test_moved_sources_are_noted_not_guessed(finished, tmp_path):
    (tmp_path / "data" / "new.png").write_bytes((tmp_path / "data" / "a.png").read_bytes())
    result = augcore.replay(finished)
    assert result.ok and result.unrecorded == []
    assert "inputs_sha256" in result.notes[0]


REPORT_DAMAGE = [
    "garbage",
    json.dumps({"path": "x.png", "record": "not an object"}),
    json.dumps({"path": "x.png", "record": {"steps": {"not": "a list"}}}),
    json.dumps({"path": "x.png", "record": {"steps": ["not an object"]}}),
    json.dumps({"path": "x.png", "record": {"steps": [{"name": 5, "params": {}}]}}),
    json.dumps({"path": "x.png", "record": {"steps": [{"name": "rotate", "params": [1, 2]}]}}),
]


def test_report_names_damaged_lines_and_counts_the_rest(finished, capsys):
    lines = _lines(finished)
    _write(finished, [*lines, *REPORT_DAMAGE])
    summary = augcore.report(finished)
    assert summary.outputs == 6
    numbers = [int(re.match(r"line (\d+)", problem).group(1)) for problem in summary.damaged]
    assert numbers == list(range(8, 14))
    assert "6 damaged manifest line(s)" in summary.table()
    assert main(["report", str(finished)]) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_report_ignores_a_parameter_beyond_float_range(finished):
    lines = _lines(finished)
    entry = json.loads(lines[1])
    entry["record"]["steps"][0]["params"]["degrees"] = 10**400
    lines[1] = json.dumps(entry)
    _write(finished, lines)
    summary = augcore.report(finished)
    rotate = next(stats for stats in summary.transforms if stats.name == "rotate")
    assert rotate.outputs == 6 and rotate.params["degrees"].count == 5


def test_the_cli_replay_exits_6_on_a_deleted_line(finished, capsys):
    lines = _lines(finished)
    del lines[1]
    _write(finished, lines)
    assert main(["replay", str(finished), "--check"]) == 6
    assert "unrecorded" in capsys.readouterr().out
