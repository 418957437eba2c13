"""``augcore report DIR --html report.html``: one self-contained page about a finished run.

Rules this module keeps:

- One file, readable offline: styles inline, every image a ``data:`` URI, no script, nothing
  fetched. Everything shown is escaped, so a key or path cannot inject markup.
- Its size does not grow with the run: at most ``EXTREMES`` x 3 + ``SAMPLED`` thumbnails of at
  most ``THUMBNAIL_SIDE`` px, and one chart per sampled parameter (the chain decides how many).
  A run of 100,000 outputs gives a page of the same size as one of 100 (docs/preview.md).
- Charts are drawn by matplotlib (the ``report`` extra), imported here only, through its Agg
  canvas (no pyplot: the caller's backend and global figure state are left alone). Without it
  the page is still written, and says what to install where the charts would be.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from augcore.errors import AugcoreError, PreviewError
from augcore.run_stats import EXTREMES, SAMPLED, Extreme, OutputRef, RunStats, StepStats, gather
from augcore.safefile import write_atomic
from augcore.sources import safe_output_path
from augcore.tiles import caption_lines

if TYPE_CHECKING:
    from matplotlib.axes import Axes

THUMBNAIL_SIDE = 128
MOST_THUMBNAILS = EXTREMES * 3 + SAMPLED
INSTALL_CHARTS = 'pip install "augcore[report]"'
_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222;
       padding: 0 1em; background: #fff; }
h1 { font-size: 1.5em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; } td, th { padding: 3px 10px; border-bottom: 1px solid #eee;
       text-align: left; vertical-align: top; }
.grid { display: flex; flex-wrap: wrap; gap: 12px; }
figure { margin: 0; font-size: 12px; } figure.thumb { width: 160px; }
figure.thumb img { width: 128px; height: 128px; object-fit: contain; image-rendering: pixelated;
       background: #ccc; }
img.alpha { background: repeating-conic-gradient(#ccc 0 25%, #999 0 50%) 0 0 / 16px 16px; }
.note { background: #fff6d6; border-left: 4px solid #e0b000; padding: 6px 10px; }
.bad { color: #b00020; } pre { background: #f6f6f6; padding: 8px; overflow-x: auto; }
"""


@dataclass
class HtmlReport:
    """What ``write_html_report`` wrote: the file, its size and what it holds."""

    path: Path
    bytes: int
    outputs: int
    histograms: int
    thumbnails: int
    notes: list[str] = field(default_factory=list)


def write_html_report(out: str | os.PathLike[str], target: str | os.PathLike[str]) -> HtmlReport:
    """Write the HTML report of the run in ``out`` to ``target`` (atomically; its folder is
    created if needed).

    Raises:
        ManifestError: no manifest in ``out``, or a damaged one, or one of another format.
        PreviewError: ``out`` is a URL (the report reads local folders).

    Example:
        >>> augcore.html_report.write_html_report("augmented", "report.html")  # doctest: +SKIP
    """
    if "://" in str(out):
        raise PreviewError(
            f"{out}: the HTML report reads a local run folder (its thumbnails are the files); "
            "copy the run here (e.g. with fsspec or your store's sync command) and report that"
        )
    stats = gather(out)
    page = _Page(stats)
    text = page.render()
    data = text.encode("utf-8")
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, data)
    return HtmlReport(
        Path(target), len(data), stats.outputs, page.histograms, page.thumbnails, page.notes
    )


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _escape(value: object) -> str:
    return html.escape(str(value), quote=True)


def _fmt(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else str(value)


# --- charts -------------------------------------------------------------------------------
def charts_missing() -> str | None:
    """Why charts cannot be drawn (matplotlib is not installed), or None."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return f"charts need matplotlib, which is not installed: {INSTALL_CHARTS}"
    return None


def _figure_png(draw: Callable[[Axes], None], size: tuple[float, float]) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, dpi=90)
    FigureCanvasAgg(figure)
    draw(figure.add_subplot())
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def histogram_png(values: Sequence[float], title: str) -> bytes:
    """A histogram of ``values`` as PNG bytes (matplotlib, Agg canvas)."""

    def draw(axes: Axes) -> None:
        bins = max(5, min(40, int(math.sqrt(len(values)))))
        axes.hist(values, bins=bins, color="#3b6ea8")
        axes.set_title(title, fontsize=9)
        axes.set_ylabel("outputs", fontsize=8)
        axes.tick_params(labelsize=7)

    return _figure_png(draw, (3.6, 2.4))


def rates_png(steps: Sequence[StepStats], outputs: int) -> bytes:
    """Observed firing rate per chain position (bars) against its probability (marks)."""

    def draw(axes: Axes) -> None:
        labels = [f"{stats.position}: {stats.name}" for stats in steps]
        rows = range(len(steps))
        axes.barh(rows, [s.fired / outputs for s in steps], color="#3b6ea8", label="fired")
        expected = [
            (row, s.probability) for row, s in enumerate(steps) if s.probability is not None
        ]
        axes.plot(
            [p for _, p in expected], [r for r, _ in expected], "k|", markersize=16, label="p"
        )
        axes.set_yticks(list(rows), labels, fontsize=8)
        axes.invert_yaxis()
        axes.set_xlim(0, 1.05)
        axes.set_xlabel("share of outputs", fontsize=8)
        axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))

    return _figure_png(draw, (6.0, 0.6 + 0.35 * len(steps)))


# --- thumbnails ---------------------------------------------------------------------------
def thumbnail_uri(out: Path, relpath: str) -> str | None:
    """An output as a small data URI (PNG with alpha, JPEG without), or None if unreadable."""
    try:
        with Image.open(safe_output_path(out, relpath)) as image:
            image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
            buffer = io.BytesIO()
            if image.mode in ("RGBA", "LA", "P"):
                image.convert("RGBA").save(buffer, format="PNG")
                return _data_uri(buffer.getvalue(), "image/png")
            image.convert("RGB").save(buffer, format="JPEG", quality=85)
            return _data_uri(buffer.getvalue(), "image/jpeg")
    except (AugcoreError, OSError, ValueError, Image.DecompressionBombError):
        return None


# --- the page -----------------------------------------------------------------------------
class _Page:
    """The report's HTML, section by section; counts what it embeds."""

    def __init__(self, stats: RunStats) -> None:
        self.stats = stats
        self.histograms = 0
        self.thumbnails = 0
        self.notes: list[str] = []
        self._uris: dict[str, str | None] = {}
        missing = charts_missing()
        if missing:
            self.notes.append(missing)
        self.charts = missing is None

    def render(self) -> str:
        stats = self.stats
        body = [
            self._summary(),
            self._rates(),
            self._parameters(),
            self._extremes(),
            self._sample(),
            self._skipped(),
            self._settings(),
        ]
        notes = "".join(f'<p class="note">{_escape(note)}</p>' for note in self.notes)
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>augcore report: {_escape(stats.out)}</title><style>{_STYLE}</style></head>"
            f"<body><h1>augcore report: {_escape(stats.out)}</h1>{notes}{''.join(body)}"
            "</body></html>\n"
        )

    def _summary(self) -> str:
        stats, header = self.stats, self.stats.header
        from augcore import __version__

        lines = [
            f"{stats.outputs} outputs, {header.get('per_image')} per input, from "
            f"{header.get('inputs')} inputs found; seed {header.get('seed')}."
        ]
        if header.get("augcore_version") != __version__:
            lines.append(
                f"Written by augcore {header.get('augcore_version')}; this report was made by "
                f"augcore {__version__}."
            )
        if stats.torn_tail:
            lines.append("The manifest's last line was incomplete (a killed run) and is ignored.")
        if not stats.outputs:
            lines.append("No outputs are recorded: nothing to chart. See the skipped inputs.")
            self.notes.append(f"the run in {stats.out} has no outputs recorded")
        return "".join(f"<p>{_escape(line)}</p>" for line in lines)

    def _chart(self, png: bytes, alt: str, kind: str) -> str:
        return f'<img class="{kind}" alt="{_escape(alt)}" src="{_data_uri(png, "image/png")}">'

    def _no_charts(self) -> str:
        return f'<p class="note">Charts need matplotlib: <code>{_escape(INSTALL_CHARTS)}</code></p>'

    def _rates(self) -> str:
        stats = self.stats
        rows = []
        for step in stats.steps:
            rate = step.fired / stats.outputs if stats.outputs else math.nan
            p = "?" if step.probability is None else _fmt(step.probability)
            cells = [str(step.position), step.name, p, str(step.fired), _fmt(rate)]
            cells.append(_agreement(step, stats.outputs))
            rows.append("<tr>" + "".join(f"<td>{_escape(cell)}</td>" for cell in cells) + "</tr>")
        table = (
            "<table><tr><th>#</th><th>transform</th><th>p</th><th>fired</th><th>share</th>"
            f"<th>share vs p</th></tr>{''.join(rows)}</table>"
        )
        chart = ""
        if stats.outputs and stats.steps:
            chart = (
                self._chart(rates_png(stats.steps, stats.outputs), "fired vs p", "rates")
                if self.charts
                else self._no_charts()
            )
        return f"<h2>How often each transform fired</h2>{table}{chart}"

    def _parameters(self) -> str:
        figures = []
        for step in self.stats.steps:
            for name, values in sorted(step.values.items()):
                if not values:
                    continue
                title = f"{step.name} (#{step.position}): {name}"
                summary = (
                    f"{len(values)} values, min {_fmt(min(values))}, "
                    f"mean {_fmt(math.fsum(values) / len(values))}, max {_fmt(max(values))}"
                )
                chart = ""
                if self.charts:
                    chart = self._chart(histogram_png(values, title), title, "histogram")
                    self.histograms += 1
                figures.append(
                    f"<figure>{chart}<figcaption><b>{_escape(title)}</b><br>"
                    f"{_escape(summary)}</figcaption></figure>"
                )
        if not figures:
            return "<h2>Sampled parameters</h2><p>No numeric parameter was sampled.</p>"
        lead = "" if self.charts else self._no_charts()
        return f"<h2>Sampled parameters</h2>{lead}<div class='grid'>{''.join(figures)}</div>"

    def _thumb(self, output: OutputRef, extra: Sequence[str] = ()) -> str:
        if output.path not in self._uris:  # an extreme may also be in the sample: encode once
            self._uris[output.path] = thumbnail_uri(self.stats.out, output.path)
        uri = self._uris[output.path]
        if uri is None:
            picture = "<p class='bad'>(file missing or unreadable)</p>"
        else:
            kind = "thumb alpha" if uri.startswith("data:image/png") else "thumb"
            picture = f'<img class="{kind}" alt="{_escape(output.path)}" src="{uri}">'
            self.thumbnails += 1
        lines = [output.path, *extra, *caption_lines(output.record)]
        return (
            f"<figure class='thumb'>{picture}<figcaption>"
            f"{'<br>'.join(_escape(line) for line in lines)}</figcaption></figure>"
        )

    def _extremes(self) -> str:
        parts = ["<h2>Geometry extremes (the fused warp of each output)</h2>"]
        if not self.stats.extremes:
            return parts[0] + "<p>No outputs.</p>"
        for title, extremes in self.stats.extremes.items():
            figures = [self._thumb(item.output, _measures(item)) for item in extremes]
            parts.append(f"<h3>{_escape(title)}</h3><div class='grid'>{''.join(figures)}</div>")
        return "".join(parts)

    def _sample(self) -> str:
        figures = [self._thumb(output) for output in self.stats.sample]
        shown = f"{len(figures)} of {self.stats.outputs} outputs, evenly spread"
        return (
            f"<h2>A sample of outputs</h2><p>{_escape(shown)}</p>"
            f"<div class='grid'>{''.join(figures)}</div>"
        )

    def _skipped(self) -> str:
        stats = self.stats
        note = f"<p class='note'>{_escape(stats.skipped_note)}</p>" if stats.skipped_note else ""
        if not stats.skipped:
            return f"<h2>Skipped inputs</h2>{note or '<p>None.</p>'}"
        rows = "".join(
            f"<tr><td>{_escape(path)}</td><td>{_escape(reason)}</td></tr>"
            for path, reason in stats.skipped
        )
        return (
            f"<h2>Skipped inputs ({len(stats.skipped)})</h2>"
            f"<table><tr><th>input</th><th>why</th></tr>{rows}</table>{note}"
        )

    def _settings(self) -> str:
        header = dict(self.stats.header)
        chain = header.pop("chain", None)
        rows = "".join(
            f"<tr><th>{_escape(name)}</th><td>{_escape(json.dumps(value))}</td></tr>"
            for name, value in header.items()
        )
        return (
            f"<h2>Run settings (the manifest header)</h2><table>{rows}</table>"
            f"<h3>chain</h3><pre>{_escape(json.dumps(chain, indent=2))}</pre>"
        )


def _measures(item: Extreme) -> list[str]:
    return [f"rotation {item.degrees:.1f}°", f"magnification {item.magnification:.3g}"]


def _agreement(step: StepStats, outputs: int) -> str:
    """Whether the share fired is within binomial noise of p (4 standard deviations)."""
    if step.probability is None or not outputs:
        return "not in the header's chain" if step.probability is None else ""
    p = step.probability
    spread = 4.0 * math.sqrt(p * (1.0 - p) / outputs) + 1.0 / outputs
    return "as expected" if abs(step.fired / outputs - p) <= spread else "UNEXPECTED"
