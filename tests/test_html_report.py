"""The HTML report: what it counts, checked against the manifest and the sampler; rendered in a
real headless Chromium; bad manifests and huge runs give messages, not tracebacks."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import augcore
from augcore.cli import main
from augcore.cli.job import EXIT_ERROR, EXIT_OK
from augcore.html_report import MOST_THUMBNAILS, write_html_report
from augcore.run_stats import chain_transforms, composed_pull, gather, geometry_of

#: The largest report, documented in docs/preview.md ("How big the report gets").
DOCUMENTED_MAX_BYTES = 4 * 1024 * 1024
BAR_COLOUR = (59, 110, 168)  # the histograms' bars, #3b6ea8
_PROBE = """<script>
addEventListener("load", () => {
  const ok = (img) => img.complete && img.naturalWidth > 0;
  const count = (selector) => [...document.querySelectorAll(selector)].filter(ok).length;
  document.body.dataset.histograms = count("img.histogram");
  document.body.dataset.thumbnails = count("img.thumb");
  document.body.dataset.broken = [...document.images].filter((img) => !ok(img)).length;
});
</script>"""


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    pytest.skip("no chromium on PATH (.ci/run installs Debian's chromium)")


def _open_in_chromium(page, tmp_path):
    """Load ``page`` in headless Chromium: (DOM after load with the probe's counts, console
    lines, screenshot as an array)."""
    probed = tmp_path / "probed.html"
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", _PROBE + "</body>"))
    common = [
        _chromium(),
        "--headless",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=10000",
    ]
    dom = subprocess.run(
        [*common, "--dump-dom", probed.as_uri()], capture_output=True, text=True, timeout=120
    )
    shot = tmp_path / "shot.png"
    subprocess.run(
        [*common, "--window-size=1200,2400", f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    return dom.stdout, console, np.asarray(Image.open(shot).convert("RGB"))


def _probe(dom, name):
    marker = f'data-{name}="'
    start = dom.index(marker) + len(marker)
    return int(dom[start : dom.index('"', start)])


def _entries(out):
    lines = (out / "manifest.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines[1:]]


def _parameters(entries):
    """(chain position, transform, parameter) drawn by some output, from the manifest."""
    return {
        (step["step"], step["name"], name)
        for entry in entries
        for step in entry["record"]["steps"]
        for name in step["params"]
        if not name.endswith("seed")
    }


def test_the_report_renders_in_headless_chromium_with_every_histogram(tmp_path):
    out = tmp_path / "out"
    augcore.run([], out, samples=True, per_image=3, seed=0, quiet=True)
    written = write_html_report(out, tmp_path / "reports" / "report.html")  # folder made
    expected = len(_parameters(_entries(out)))
    assert expected == 6  # rotate, shift x and y, shear, zoom x and y; flips draw nothing
    assert written.histograms == expected and written.thumbnails == MOST_THUMBNAILS

    dom, console, shot = _open_in_chromium(written.path, tmp_path)
    assert console == []
    assert _probe(dom, "histograms") == expected  # decoded by the browser, not just present
    assert _probe(dom, "thumbnails") == written.thumbnails
    assert _probe(dom, "broken") == 0
    assert shot.std() > 20  # not blank
    assert (np.abs(shot.astype(int) - BAR_COLOUR).sum(axis=2) < 10).sum() > 2000  # bars drawn


def test_the_browser_check_catches_console_errors_and_broken_images(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text(
        '<!DOCTYPE html><html><body><img class="histogram" src="data:image/png;base64,AAAA">'
        '<script>console.error("boom")</script></body></html>'
    )
    dom, console, _ = _open_in_chromium(page, tmp_path)
    assert len(console) == 1 and "boom" in console[0]
    assert _probe(dom, "broken") == 1 and _probe(dom, "histograms") == 0


def test_fired_counts_and_parameter_values_are_the_manifest_s(tmp_path):
    config = {
        "steps": [
            {"transform": "rotate", "degrees": 10, "p": 0.3},
            {"transform": "brightness", "factor": 0.2},
            {"transform": "rotate", "degrees": [50, 60], "p": 0.5},
        ]
    }
    out = tmp_path / "out"
    augcore.run([], out, samples=True, per_image=5, seed=1, config=config, quiet=True)
    entries = _entries(out)
    stats = gather(out)
    assert stats.outputs == len(entries) == 40
    assert [(s.position, s.name, s.probability) for s in stats.steps] == [
        (0, "rotate", 0.3),
        (1, "brightness", 1.0),
        (2, "rotate", 0.5),
    ]
    for summary in stats.steps:  # the same transform twice is counted per position
        fired = [
            step
            for entry in entries
            for step in entry["record"]["steps"]
            if step["step"] == summary.position
        ]
        assert summary.fired == len(fired)
        for name, values in summary.values.items():
            assert values == [step["params"][name] for step in fired]
    assert all(50 <= value <= 60 for value in stats.steps[2].values["degrees"])


def test_the_probability_of_firing_matches_the_sampler_in_groups():
    config = {
        "steps": [
            {"transform": "rotate", "p": 0.3},
            {
                "one_of": [{"transform": "zoom"}, {"transform": "shear", "p": 0.5}],
                "weights": [1, 3],
                "p": 0.8,
            },
            {
                "some_of": [
                    {"transform": "brightness"},
                    {"transform": "contrast"},
                    {"transform": "flip_horizontal"},
                ],
                "n": [1, 2],
            },
        ]
    }
    pipeline = augcore.Pipeline.from_config(config)
    computed = [member.probability for member in chain_transforms(pipeline.to_config()["steps"])]
    assert computed == pytest.approx([0.3, 0.2, 0.3, 0.5, 0.5, 0.5])
    _, records = pipeline.augment_batch(np.zeros((1, 4, 4), np.uint8), seed=3, per_image=20000)
    counts = np.zeros(len(computed))
    for record in records:
        for step in record.steps:
            counts[step["step"]] += 1
    np.testing.assert_allclose(counts / 20000, computed, atol=0.015)  # the sampler agrees


def test_rotation_and_magnification_of_fused_warps():
    image = np.zeros((10, 20), np.uint8)
    rotate30 = {"transform": "rotate", "degrees": [30, 30]}
    cases = [  # chain -> (degrees, magnification) as seen
        ([rotate30], (30.0, 1.0)),
        ([rotate30, {"transform": "flip_horizontal"}], (-30.0, 1.0)),
        ([{"transform": "zoom", "factor": [2, 2]}], (0.0, 2.0)),
        (
            [{"transform": "rotate", "degrees": [-20, -20]}, {"transform": "zoom", "factor": 0}],
            (-20.0, 1.0),
        ),
        (
            [{"transform": "zoom", "factor": [0.5, 0.5]}, {"transform": "contrast"}, rotate30],
            (30.0, 0.5),
        ),  # two warps, composed
    ]
    pulls = []
    for steps, _ in cases:
        _, record = augcore.Pipeline.from_config({"steps": steps}).augment(image, seed=0, key="a")
        pulls.append(composed_pull(record.to_dict()["fused"]))
    pulls.append(np.zeros((2, 2)))  # everything from one point: no rotation, infinite zoom
    degrees, magnification = geometry_of(np.array(pulls))
    np.testing.assert_allclose(degrees[:-1], [d for _, (d, _) in cases], atol=1e-9)
    np.testing.assert_allclose(magnification[:-1], [m for _, (_, m) in cases], atol=1e-9)
    assert degrees[-1] == 0 and magnification[-1] == np.inf


def test_the_extremes_are_the_outputs_with_the_largest_recorded_values(tmp_path):
    config = {"steps": [{"transform": "rotate", "degrees": 45}, {"transform": "zoom"}]}
    out = tmp_path / "out"
    augcore.run([], out, samples=True, per_image=4, seed=2, config=config, quiet=True)
    entries = _entries(out)

    def recorded(name, entry):
        return next(s["params"] for s in entry["record"]["steps"] if s["name"] == name)

    by_rotation = sorted(entries, key=lambda e: -abs(recorded("rotate", e)["degrees"]))
    by_zoom = sorted(entries, key=lambda e: -recorded("zoom", e)["y"])
    extremes = gather(out).extremes
    assert [x.output.path for x in extremes["most rotated"]] == [e["path"] for e in by_rotation[:4]]
    assert [x.output.path for x in extremes["most zoomed in"]] == [e["path"] for e in by_zoom[:4]]
    assert [x.output.path for x in extremes["most zoomed out"]] == [
        e["path"] for e in by_zoom[::-1][:4]
    ]
    top = extremes["most rotated"][0]
    assert top.degrees == pytest.approx(recorded("rotate", by_rotation[0])["degrees"])


def test_skipped_inputs_and_why(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for name in ("a.png", "b.png", "c.png"):
        Image.new("RGB", (8, 8), (10, 20, 30)).save(data / name)
    (data / "empty.png").write_bytes(b"")
    out = tmp_path / "out"
    augcore.run([data], out, per_image=2, seed=0, on_error="skip", quiet=True)
    manifest = out / "manifest.jsonl"
    lines = manifest.read_text().splitlines(keepends=True)
    manifest.write_text("".join(lines[:-1]))  # c.png's last output: as if the run was killed
    stats = gather(out)
    reasons = dict(stats.skipped)
    assert set(reasons) == {str(data / "empty.png"), str(data / "c.png")}
    assert "empty file" in reasons[str(data / "empty.png")]
    assert "1 of 2 outputs recorded" in reasons[str(data / "c.png")]
    html = write_html_report(out, tmp_path / "report.html").path.read_text()
    assert "Skipped inputs (2)" in html and "empty file" in html

    (data / "a.png").rename(data / "moved.png")
    assert gather(out).skipped_note.startswith("the inputs at the run's sources are not the ones")


def _damage(out, how):
    manifest = out / "manifest.jsonl"
    lines = manifest.read_text().splitlines()
    if how == "corrupt line":
        lines[3] = lines[3][:40]
    elif how == "record without steps":
        entry = json.loads(lines[2])
        del entry["record"]["steps"]
        lines[2] = json.dumps(entry)
    elif how == "bad matrix":
        entry = json.loads(lines[2])
        entry["record"]["fused"][0]["matrix"] = [[1, 0], [0, 1]]
        lines[2] = json.dumps(entry)
    elif how == "another format":
        lines[0] = lines[0].replace('"augcore_manifest":1', '"augcore_manifest":2')
    elif how == "not a manifest":
        lines[0] = "hello"
    manifest.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("corrupt line", "line 4 is corrupt"),
        ("record without steps", "line 3: the record needs 'steps' and 'fused' lists"),
        ("bad matrix", "line 3: a fused matrix is not 3x3 numbers"),
        ("another format", "written in manifest format 2, and this augcore reads format 1"),
        ("not a manifest", "not an augcore manifest"),
    ],
)
def test_a_damaged_manifest_is_a_message_naming_the_line(tmp_path, capsys, how, message):
    out = tmp_path / "out"
    augcore.run([], out, samples=True, per_image=1, seed=0, quiet=True)
    _damage(out, how)
    assert main(["report", str(out), "--html", str(tmp_path / "r.html")]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("augcore: error:") and message in err and "Traceback" not in err
    assert not (tmp_path / "r.html").exists()


def test_no_manifest_is_a_message(tmp_path, capsys):
    assert main(["report", str(tmp_path), "--html", str(tmp_path / "r.html")]) == EXIT_ERROR
    assert "no manifest here" in capsys.readouterr().err


def test_an_empty_run_gives_a_page_that_says_so(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    (data / "empty.png").write_bytes(b"")
    out = tmp_path / "out"
    augcore.run([data], out, per_image=2, seed=0, on_error="skip", quiet=True)
    assert main(["report", str(out), "--html", str(tmp_path / "r.html")]) == EXIT_OK
    captured = capsys.readouterr()
    assert "0 histograms, 0 thumbnails" in captured.out
    assert "has no outputs recorded" in captured.err
    html = (tmp_path / "r.html").read_text()
    assert "No outputs are recorded" in html and "empty file" in html


def test_without_matplotlib_the_page_says_what_to_install(tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    augcore.run([], out, samples=True, per_image=1, seed=0, quiet=True)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    assert main(["report", str(out), "--html", str(tmp_path / "r.html")]) == EXIT_OK
    captured = capsys.readouterr()
    assert "0 histograms" in captured.out
    assert 'pip install "augcore[report]"' in captured.err
    html = (tmp_path / "r.html").read_text()
    assert "pip install &quot;augcore[report]&quot;" in html and 'img class="histogram"' not in html


def test_names_are_escaped(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    Image.new("RGB", (8, 8)).save(data / "<b>bold.png")
    out = tmp_path / "out"
    augcore.run([data], out, per_image=1, seed=0, quiet=True)
    html = write_html_report(out, tmp_path / "r.html").path.read_text()
    assert "<b>bold" not in html and "&lt;b&gt;bold__k0.png" in html


def test_100000_outputs_give_a_report_of_bounded_size(tmp_path):
    """A synthetic manifest of 100,000 lines over worst-case (noise, alpha) output files."""
    data = tmp_path / "data"
    data.mkdir()
    rng = np.random.default_rng(0)
    for index in range(8):
        noise = rng.integers(0, 256, (200, 200, 4), dtype=np.uint8)
        Image.fromarray(noise).save(data / f"noise{index}.png")
    out = tmp_path / "out"
    augcore.run([data], out, per_image=2, seed=0, quiet=True)
    manifest = out / "manifest.jsonl"
    header, *lines = manifest.read_text().splitlines(keepends=True)
    manifest.write_text(header + "".join(lines[i % len(lines)] for i in range(100_000)))

    written = write_html_report(out, tmp_path / "r.html")
    assert written.outputs == 100_000
    html = written.path.read_text()
    assert "100000 outputs" in html
    assert html.count('<img class="thumb alpha"') == MOST_THUMBNAILS  # noise with alpha: PNG
    assert html.count('<img class="histogram"') == 6
    assert written.bytes == written.path.stat().st_size < DOCUMENTED_MAX_BYTES


def test_an_edited_manifest_shows_as_unexpected_rates_and_another_version(tmp_path):
    out = tmp_path / "out"
    augcore.run([], out, samples=True, per_image=3, seed=0, quiet=True)
    manifest = out / "manifest.jsonl"
    header, *lines = manifest.read_text().splitlines()
    header = header.replace('"augcore_version":"0.1.0"', '"augcore_version":"0.0.9"')
    entries = [json.loads(line) for line in lines]
    for entry in entries:  # as if flip_horizontal (p = 0.5) had never fired
        entry["record"]["steps"] = [
            s for s in entry["record"]["steps"] if s["name"] != "flip_horizontal"
        ]
    manifest.write_text("\n".join([header, *map(json.dumps, entries)]) + "\n")
    html = write_html_report(out, tmp_path / "r.html").path.read_text()
    rows = {
        cells[1]: cells
        for cells in (re.findall(r"<td>(.*?)</td>", row) for row in html.split("<tr>"))
        if len(cells) == 6
    }
    assert rows["flip_horizontal"][2:] == ["0.5", "0", "0", "UNEXPECTED"]
    assert rows["rotate"][2:] == ["1", "24", "1", "as expected"]
    assert "Written by augcore 0.0.9" in html


def test_parameters_that_never_vary_and_pooled_lists_get_their_histograms(tmp_path):
    config = {
        "steps": [
            {"transform": "rotate", "degrees": [30, 30]},  # one value only
            {"transform": "channel_shift", "intensity": 10},  # three offsets per output
            {"transform": "gaussian_noise", "sigma": 2},  # its noise seed is not a value
        ]
    }
    out = tmp_path / "out"
    augcore.run([], out, samples=True, per_image=2, seed=0, config=config, quiet=True)
    stats = gather(out)
    assert set(stats.steps[0].values["degrees"]) == {30.0}
    offsets = [
        value
        for entry in _entries(out)
        for step in entry["record"]["steps"]
        if step["name"] == "channel_shift"
        for value in np.ravel(step["params"]["offsets"])
    ]
    assert stats.steps[1].values["offsets"] == offsets
    assert set(stats.steps[2].values) == {"sigma"}
    written = write_html_report(out, tmp_path / "r.html")
    assert written.histograms == 3 == len(_parameters(_entries(out)))


def test_a_header_with_damaged_fields_still_gives_a_page_that_says_what_is_unknown(tmp_path):
    out = tmp_path / "out"
    augcore.run([], out, samples=True, per_image=2, seed=0, quiet=True)
    manifest = out / "manifest.jsonl"
    first, *lines = manifest.read_text().splitlines()
    header = json.loads(first)
    header["header"]["per_image"] = "two"
    del header["header"]["chain"]
    manifest.write_text("\n".join([json.dumps(header), *lines]) + "\n")
    stats = gather(out)
    assert [s.probability for s in stats.steps] == [None] * len(stats.steps)
    assert "no per_image count" in stats.skipped_note
    html = write_html_report(out, tmp_path / "r.html").path.read_text()
    assert "not in the header&#x27;s chain" in html and "no per_image count" in html


def test_a_url_is_refused_with_what_to_do(tmp_path, capsys):
    assert main(["report", "memory://run", "--html", str(tmp_path / "r.html")]) == EXIT_ERROR
    assert "reads a local run folder" in capsys.readouterr().err
