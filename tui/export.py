"""Write a report to a file, the format chosen by extension: rendered (.html .svg .txt) or data (.json .csv).

Imports rich and the standard library only. Files are written atomically: a temporary file in the
same directory, then os.replace.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from html import escape as html_escape
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console, RenderableType

from tui.points import grid_points

if TYPE_CHECKING:
    from costmodel.fit import Estimate
    from costmodel.predict import Prediction

FORMATS = (".html", ".svg", ".txt", ".json", ".csv")


def export_dirs(paths: Sequence[str | Path]) -> list[Path]:
    """The directories among --export paths (an existing one, or a path ending in /): figures go there too."""
    return [Path(str(p)).expanduser() for p in paths if _is_dir(str(p))]


def _is_dir(text: str) -> bool:
    return Path(text).expanduser().is_dir() or text.endswith(("/", os.sep))


def export_targets(path: str | Path, name: str) -> list[Path]:
    """The files an export to `path` writes: the file itself (`~` expanded), or, for a directory (an
    existing one, or a path ending in /), the report in every format, named `tradeoff-NAME.EXT`."""
    text = str(path)
    p = Path(text).expanduser()
    if _is_dir(text):
        return [p / f"tradeoff-{name}{ext}" for ext in FORMATS]
    return [p]


def check_export_path(path: str | Path) -> None:
    """Raise ValueError (one line) unless `path` has a known extension in a writable directory.

    Creates nothing: the CLI calls it before measuring.
    """
    p = Path(path).expanduser()
    if p.is_dir():
        raise ValueError("is a directory: the report is written there in every format")
    if p.suffix.lower() not in FORMATS:
        raise ValueError(
            f"unknown extension {p.suffix or '(none)'!r}; allowed: {', '.join(FORMATS)}, or a directory"
        )
    parent = p.parent
    if not parent.is_dir():
        raise ValueError(f"directory {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"directory {str(parent)!r} is not writable")


def export(
    path: str | Path,
    renderables: Sequence[RenderableType],
    *,
    records: Sequence[dict] | None = None,
    rows: Sequence[dict] | None = None,
    predictions: Sequence[Prediction] | None = None,
    findings: Sequence | None = None,
    figures: Mapping[str, str] | None = None,
    width: int = 140,
    title: str = "tradeoff-tui",
) -> Path:
    """Write the report to `path` and return it (ValueError for a path check_export_path refuses).

    .html .svg .txt: the renderables, as a console `width` cells wide would show them (`title`
    heads the SVG); .html also embeds `figures` (name -> SVG text, tui.figures.report_figures),
    inline: no script, nothing fetched. .json: {"generated", "records" (the full records, Record.to_dict()),
    "predictions", "findings" (costmodel.findings TaskFindings as data)}, plus "rows" when no records
    are given. .csv: one line per grid point, the
    union of the flat rows' columns, the point's kind and the predicted columns.
    """
    check_export_path(path)
    p = Path(path).expanduser()
    fmt = p.suffix.lower()
    if fmt == ".json":
        text = _json(records, rows, predictions, findings)
    elif fmt == ".csv":
        text = _csv(rows or (), predictions)
    else:
        text = render(renderables, fmt, width=width, title=title)
        if fmt == ".html" and figures:
            text = with_figures(text, figures)
    _write(p, text)
    return p


def with_figures(html: str, figures: Mapping[str, str]) -> str:
    """The HTML report with each figure inlined after the text, as `<figure id="figure-NAME">`, its
    ids prefixed with NAME (tui.figures.inline_svg: a point is `NAME-point-KEY`)."""
    from tui.figures import inline_svg

    parts = [
        f'<figure id="figure-{name}" style="margin:1em 0">{inline_svg(svg, name)}'
        f"<figcaption>{html_escape(name)}</figcaption></figure>"
        for name, svg in figures.items()
    ]
    section = '<section id="figures"><h2>Figures</h2>\n' + "\n".join(parts) + "\n</section>\n"
    at = html.rindex("</body>")
    return html[:at] + section + html[at:]


def figure_files(directory: Path, stem: str, figures: Mapping[str, str]) -> list[Path]:
    """Write each figure to `directory` as `STEM-FIGURE.svg` (STEM: the report's, tradeoff-NAME);
    the paths written."""
    out = []
    for fig, svg in figures.items():
        path = directory / f"{stem}-{fig}.svg"
        _write(path, svg)
        out.append(path)
    return out


def render(
    renderables: Sequence[RenderableType], fmt: str, *, width: int = 140, title: str = "tradeoff-tui"
) -> str:
    """The renderables as text, HTML or SVG (`fmt` is .txt, .html or .svg)."""
    console = Console(
        record=True,
        width=width,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        highlight=False,
    )
    for r in renderables:
        console.print(r)
    # each export empties the record buffer by default (clear=True): one export per console
    if fmt == ".txt":
        return console.export_text()
    if fmt == ".html":
        return console.export_html(inline_styles=True)
    if fmt == ".svg":
        return console.export_svg(title=title)
    raise ValueError(f"cannot render {fmt!r}; allowed: .txt, .html, .svg")


def prediction_dict(p: Prediction) -> dict:
    """A Prediction as plain data: the point, its kind, the batch predicted for "auto" and every
    estimate with its interval."""
    row = p.row
    keys = ("family", "size", "task", "input_len", "batch_request", "batch_size", "device", "dtype")
    return {
        "key": row.get("key", ""),
        **{k: row.get(k) for k in keys},
        "kind": p.kind,
        "in_fit": p.in_fit,
        "extrapolated": p.extrapolated,
        "low_confidence": p.low_confidence,
        "notes": list(p.notes),
        "batch": None if p.batch is None else _estimate(p.batch),
        "estimates": {q: _estimate(e) for q, e in p.estimates.items()},
    }


def _estimate(e: Estimate) -> dict:
    return {
        "value": e.value,
        "low": e.low,
        "high": e.high,
        "extrapolated": e.extrapolated,
        "measured": e.measured,
    }


def _plain(value: object) -> object:
    """JSON-safe: non-finite floats become null, tuples lists."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _json(
    records: Sequence[dict] | None,
    rows: Sequence[dict] | None,
    predictions: Sequence[Prediction] | None,
    findings: Sequence | None = None,
) -> str:
    from tui.findings_view import findings_data

    payload: dict = {
        "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "records": list(records or ()),
        "predictions": [prediction_dict(p) for p in predictions or ()],
        "findings": findings_data(findings or ()),
    }
    if records is None and rows is not None:
        payload["rows"] = list(rows)
    return json.dumps(_plain(payload), indent=2, allow_nan=False, default=str) + "\n"


def _csv(rows: Sequence[dict], predictions: Sequence[Prediction] | None) -> str:
    lines = []
    columns: dict[str, None] = {"kind": None}
    quantities: dict[str, None] = {}
    for point in grid_points(rows, predictions):
        line = {**point.row, "kind": point.kind}
        columns.update(dict.fromkeys(point.row))
        if point.prediction is not None:
            line["in_fit"] = point.prediction.in_fit
            for q, e in point.prediction.estimates.items():
                quantities[q] = None
                line.update(
                    {
                        f"predicted_{q}": e.value,
                        f"predicted_{q}_low": e.low,
                        f"predicted_{q}_high": e.high,
                        f"predicted_{q}_extrapolated": e.extrapolated,
                    }
                )
        lines.append(line)
    if quantities:
        columns["in_fit"] = None
    for q in quantities:
        columns.update(dict.fromkeys(f"predicted_{q}{s}" for s in ("", "_low", "_high", "_extrapolated")))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), restval="")
    writer.writeheader()
    writer.writerows({k: _cell(v) for k, v in line.items()} for line in lines)
    return out.getvalue()


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet reads as the start of a formula


def _cell(value: object) -> object:
    """A text cell a spreadsheet would run as a formula (an error message, a path), quoted with ' first."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def _write(path: Path, text: str) -> None:
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
