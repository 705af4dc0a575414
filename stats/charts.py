"""Line charts laid out on the server for an SVG the template draws (the ops dashboard's approach: the
template only places what is computed here, attributes only, no script, no inline style for the CSP).

A chart has a date axis (days placed by date, so that a missed snapshot leaves a gap rather than squeezing
time) and one or more series; a value of None breaks the line. A single day of data is drawn as dots.
The viewBox is narrow (360 units) so that the text stays readable when the chart shrinks to a phone's width.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 360
HEIGHT = 190


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    day: dt.date
    value: float


@dataclass(frozen=True)
class SeriesLayout:
    key: str  # a CSS class suffix
    label: str
    color: str  # the stroke attribute, for when the stylesheet is not loaded
    path: str  # SVG path data, one "M … L …" run per stretch without a gap
    dots: list[Point]  # points with no neighbour to join: drawn as circles


@dataclass(frozen=True)
class Gridline:
    value: float
    y: float


@dataclass(frozen=True)
class XLabel:
    x: float
    day: dt.date
    anchor: str  # text-anchor: start, middle or end


@dataclass(frozen=True)
class TableRow:
    day: dt.date
    values: list[float | None]


@dataclass(frozen=True)
class LineChart:
    series: list[SeriesLayout]
    gridlines: list[Gridline]
    x_labels: list[XLabel]
    rows: list[TableRow]  # the same figures, for the table alternative (newest first)
    percent: bool
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: int = 36
    plot_right: int = WIDTH - 12
    plot_top: int = 10
    plot_bottom: int = HEIGHT - 26

    @property
    def empty(self) -> bool:
        return not self.rows


def nice_step(maximum: float, lines: int = 4) -> float:
    """The smallest 1, 2 or 5 × 10^k step (k ≥ 0) that covers `maximum` in at most `lines` steps."""
    raw = max(maximum, 1) / lines
    magnitude = 10 ** max(0, math.floor(math.log10(raw)))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10 * magnitude


def line_chart(
    days: Sequence[dt.date],
    series: Sequence[tuple[str, str, str, Sequence[float | None]]],
    *,
    percent: bool = False,
) -> LineChart:
    """Lay out `series` — (key, label, colour, one value per day of `days`) — over `days` (ascending)."""
    chart = LineChart(series=[], gridlines=[], x_labels=[], rows=[], percent=percent)
    left, right, top, bottom = chart.plot_left, chart.plot_right, chart.plot_top, chart.plot_bottom
    rows = [TableRow(day=day, values=[values[i] for _, _, _, values in series]) for i, day in enumerate(days)]
    if not days:
        return chart
    known = [value for _, _, _, values in series for value in values if value is not None]
    top_value = 100.0 if percent else None
    if top_value is None:
        step = nice_step(max(known, default=0))
        top_value = step * max(1, math.ceil(max(known, default=0) / step))
    else:
        step = 25.0
    scale = (bottom - top) / top_value
    first, span = days[0], (days[-1] - days[0]).days

    def x_of(day: dt.date) -> float:
        if span == 0:
            return round((left + right) / 2, 1)
        return round(left + (day - first).days / span * (right - left), 1)

    layouts = []
    for key, label, color, values in series:
        commands: list[str] = []
        dots: list[Point] = []
        run: list[Point] = []
        for index, day in enumerate(days):
            value = values[index]
            adjacent = index > 0 and (day - days[index - 1]).days == 1
            if value is None or not adjacent:
                _close(run, commands, dots)
                run = []
            if value is not None:
                run.append(Point(x=x_of(day), y=round(bottom - value * scale, 1), day=day, value=value))
        _close(run, commands, dots)
        layouts.append(SeriesLayout(key=key, label=label, color=color, path=" ".join(commands), dots=dots))
    gridlines = []
    value = 0.0
    while value <= top_value + 1e-9:
        gridlines.append(Gridline(value=value, y=round(bottom - value * scale, 1)))
        value += step
    if span == 0:
        x_labels = [XLabel(x=x_of(first), day=first, anchor="middle")]
    else:
        x_labels = [
            XLabel(x=x_of(first), day=first, anchor="start"),
            XLabel(x=x_of(days[-1]), day=days[-1], anchor="end"),
        ]
        if span >= 14:
            middle = first + dt.timedelta(days=span // 2)
            x_labels.insert(1, XLabel(x=x_of(middle), day=middle, anchor="middle"))
    return LineChart(series=layouts, gridlines=gridlines, x_labels=x_labels, rows=rows[::-1], percent=percent)


def _close(run: list[Point], commands: list[str], dots: list[Point]) -> None:
    """End a stretch of consecutive days: a path if it has two points or more, else a dot."""
    if len(run) == 1:
        dots.append(run[0])
    elif run:
        commands.append("M " + " L ".join(f"{point.x} {point.y}" for point in run))
