"""The evidence pictures (matplotlib, PNG and SVG), drawn from a snapshot's frozen figures alone.

Labels are point codes, dates, units and numbers, so the pictures read the same beside a Chinese or an English page
(the caption around them is the page's). A gap is drawn as a gap: a day with no reading breaks the line.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from typing import Any

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["svg.hashsalt"] = "emc-evidence"  # the same figures draw the same SVG
matplotlib.rcParams["svg.fonttype"] = "none"

from matplotlib.colors import ListedColormap  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from meters.figures import LEVELS  # noqa: E402

CHARTS = ("daily", "completeness", "gaps", "pue")
FORMATS = {"png": "image/png", "svg": "image/svg+xml"}
WIDTH = 9.0  # inches; a tablet shows it at full width
MAX_LABELLED_METERS = 40
MAX_GAP_METERS = 30
COMPLETENESS_COLOURS = ListedColormap(
    [
        "#b2182b",
        "#d6604d",
        "#e7845e",
        "#f4a582",
        "#f7c59f",
        "#fddbc7",
        "#e0e6c8",
        "#c7e0a6",
        "#a6d96a",
        "#66bd63",
        "#1a9850",
    ]
)


class NoChart(LookupError):
    """The snapshot has nothing to draw for this picture (e.g. PUE for a unit that is not a data centre)."""


def _dates(figures: dict[str, Any]) -> list[dt.date]:
    start = dt.date.fromisoformat(figures["start"])
    return [start + dt.timedelta(days=n) for n in range(int(figures["days"]))]


def _daily(fig: Figure, figures: dict[str, Any]) -> None:
    series = figures.get("daily") or []
    if not series:
        raise NoChart("no meter counted anything in the period")
    dates = _dates(figures)
    fig.set_size_inches(WIDTH, 1.2 + 1.6 * len(series))
    axes = fig.subplots(len(series), 1, sharex=True, squeeze=False)[:, 0]
    for ax, s in zip(axes, series, strict=True):
        values = [float(v) if v is not None else math.nan for v in s["values"]]
        ax.plot(dates, values, linewidth=1.0, color="#2b6cb0")
        ax.set_ylabel(f"T{s['tier']} {s['energy_type']}\n{s['unit']}/day", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(True, linewidth=0.3)
    fig.autofmt_xdate()


def _completeness(fig: Figure, figures: dict[str, Any]) -> None:
    rows = figures.get("completeness") or []
    if not rows:
        raise NoChart("no meters registered")
    grid = [[LEVELS.index(c) for c in row["days"]] for row in rows]
    dates = _dates(figures)
    fig.set_size_inches(WIDTH, min(12.0, 1.8 + 0.18 * len(rows)))
    ax = fig.subplots()
    image = ax.imshow(
        grid,
        aspect="auto",
        interpolation="nearest",
        cmap=COMPLETENESS_COLOURS,
        vmin=0,
        vmax=len(LEVELS) - 1,
        extent=(0, len(dates), len(rows), 0),
    )
    if len(rows) <= MAX_LABELLED_METERS:
        ax.set_yticks([n + 0.5 for n in range(len(rows))], [f"T{r['tier']} {r['meter']}" for r in rows], fontsize=7)
    else:
        ax.set_ylabel(f"{len(rows)} meters", fontsize=8)
    ticks = list(range(0, len(dates), max(1, len(dates) // 8)))
    ax.set_xticks([t + 0.5 for t in ticks], [dates[t].isoformat() for t in ticks], fontsize=7, rotation=30)
    bar = fig.colorbar(image, ax=ax, ticks=[0, 5, 10], fraction=0.03)
    bar.ax.set_yticklabels(["0 %", "50 %", "100 %"], fontsize=7)


def _gaps(fig: Figure, figures: dict[str, Any]) -> None:
    gaps = (figures.get("gaps") or {}).get("rows") or []
    dates = _dates(figures)
    start = dt.datetime.combine(dates[0], dt.time())
    end = dt.datetime.combine(dates[-1] + dt.timedelta(days=1), dt.time())
    meters: list[str] = []
    for g in gaps:
        if g["meter"] not in meters and len(meters) < MAX_GAP_METERS:
            meters.append(g["meter"])
    fig.set_size_inches(WIDTH, 1.6 + 0.3 * max(1, len(meters)))
    ax = fig.subplots()
    for n, meter in enumerate(meters):
        spans = [
            (dt.datetime.fromisoformat(g["from"]), dt.datetime.fromisoformat(g["to"]))
            for g in gaps
            if g["meter"] == meter
        ]
        # matplotlib takes datetimes on a date axis; its stubs say float.
        ax.broken_barh([(a, b - a) for a, b in spans], (n + 0.1, 0.8), color="#b2182b")  # type: ignore[misc]
    ax.set_xlim(start, end)  # type: ignore[arg-type]
    ax.set_ylim(max(1, len(meters)), 0)
    ax.set_yticks([n + 0.5 for n in range(len(meters))], meters, fontsize=7)
    ax.tick_params(axis="x", labelsize=7)
    ax.grid(True, axis="x", linewidth=0.3)
    total = (figures.get("gaps") or {}).get("count", 0)
    ax.set_title(f"{total} gaps of 1 h or more" if total else "no gap of 1 h or more", fontsize=9)
    fig.autofmt_xdate()


def _pue(fig: Figure, figures: dict[str, Any]) -> None:
    months = figures.get("pue")
    if not months:
        raise NoChart("no IT-load meter in the period")
    fig.set_size_inches(WIDTH, 3.2)
    ax = fig.subplots()
    labels = [m["month"] for m in months]
    ax.plot(labels, [float(m["pue"]) for m in months], marker="o", linewidth=1.2, color="#2b6cb0")
    retire = figures.get("pue_retire_above")
    if retire:
        ax.axhline(float(retire), linestyle="--", linewidth=0.8, color="#b2182b")
        ax.annotate(f"{retire}", (0, float(retire)), fontsize=7, color="#b2182b")
    ax.set_ylabel("PUE", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(True, linewidth=0.3)
    fig.autofmt_xdate()


DRAW = {"daily": _daily, "completeness": _completeness, "gaps": _gaps, "pue": _pue}


def render(figures: dict[str, Any], chart: str, fmt: str) -> bytes:
    """One picture of a snapshot's figures as PNG or SVG bytes; NoChart when there is nothing to draw."""
    if chart not in DRAW or fmt not in FORMATS:
        raise NoChart(f"no picture {chart}.{fmt}; pictures: {', '.join(CHARTS)} as {' or '.join(FORMATS)}")
    if not figures:
        raise NoChart("this snapshot was taken before pictures were kept")
    fig = Figure(layout="constrained")
    DRAW[chart](fig, figures)
    out = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    fig.savefig(out, format=fmt, dpi=110, metadata=metadata)
    return out.getvalue()
