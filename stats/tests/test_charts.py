"""The SVG line charts: laid out with data, with one day of data, with none; gaps break the line."""

from __future__ import annotations

import datetime as dt

from django.template.loader import render_to_string
from django.utils import translation

from stats.charts import line_chart, nice_step

DAY = dt.date(2026, 11, 20)


def days(n: int, start: dt.date = DAY) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range(n)]


def render(chart) -> str:
    with translation.override("fr"):
        return _render(chart)


def _render(chart) -> str:
    return render_to_string(
        "stats/_chart.html",
        {"chart": chart, "chart_id": "c", "labelledby": "t s", "caption": "Légende", "none_label": "aucun"},
    )


def test_a_series_over_many_days_is_one_line_scaled_to_a_round_maximum():
    chart = line_chart(days(30), [("median", "Médiane", "#000", [float(v) for v in range(30, 0, -1)])])

    assert nice_step(30) == 10
    assert [line.value for line in chart.gridlines] == [0, 10, 20, 30]
    (series,) = chart.series
    assert series.path.count("M ") == 1 and series.path.count(" L ") == 29
    assert series.dots == []
    assert series.path.startswith(f"M {chart.plot_left}.0 {chart.plot_top}.0")  # 30 days: the top
    assert [label.day for label in chart.x_labels] == [
        DAY,
        DAY + dt.timedelta(days=14),
        DAY + dt.timedelta(days=29),
    ]
    html = render(chart)
    assert '<svg class="stats-chart"' in html and 'role="img"' in html and 'aria-labelledby="t s"' in html
    assert html.count('<tr><th scope="row">') == 30  # the table alternative, a row a day
    assert '<path d="M ' in html


def test_one_day_of_data_is_drawn_as_dots_centred():
    chart = line_chart([DAY], [("median", "Médiane", "#000", [5.0]), ("p90", "9 sur 10", "#111", [None])])

    median, p90 = chart.series
    assert median.path == "" and len(median.dots) == 1
    assert median.dots[0].x == (chart.plot_left + chart.plot_right) / 2
    assert p90.dots == [] and p90.path == ""
    html = render(chart)
    assert html.count("<circle") == 1
    assert "<td>aucun</td>" in html  # what an empty value means, said in the table


def test_no_data_draws_no_chart_and_says_so():
    chart = line_chart([], [("median", "Médiane", "#000", [])])

    assert chart.empty
    html = render(chart)
    assert "<svg" not in html
    assert "Pas encore de relevé" in html


def test_a_missing_value_or_a_missed_day_breaks_the_line():
    values = [1.0, 2.0, None, 4.0, 5.0, 6.0]
    chart = line_chart(days(6), [("median", "Médiane", "#000", values)])
    assert chart.series[0].path.count("M ") == 2

    gap = [DAY, DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=5)]
    chart = line_chart(gap, [("median", "Médiane", "#000", [1.0, 2.0, 3.0])])
    (series,) = chart.series
    assert series.path.count("M ") == 1 and len(series.dots) == 1  # the lone day after the gap


def test_percent_charts_run_from_0_to_100():
    chart = line_chart(days(3), [("week", "Sous 7 jours", "#000", [10.0, 20.0, 30.0])], percent=True)

    assert [line.value for line in chart.gridlines] == [0, 25, 50, 75, 100]
    assert "25&#8239;%" in render(chart)
