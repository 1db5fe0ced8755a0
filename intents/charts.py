"""The overview's charts, drawn on the server as inline SVG: coordinates in a fixed view box,
computed here so that the templates only place them."""

import math
from dataclasses import dataclass
from datetime import date, timedelta

from .reports import DailyPredictions, TrendPoint, predictions_over

WIDTH, WIDE, LEFT, RIGHT, TOP, BOTTOM = 560, 900, 40, 8, 8, 20
# Intents drawn in a colour of their own; the others share one ("other intents").
SERIES = 5


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    points: str  # the polyline's "x,y x,y ..."
    dots: list[tuple[float, float, str]]  # x, y, title
    grid: list[tuple[float, str]]  # y, label
    first_day: date


def _x(day: date, first_day: date, days: int, width: int) -> float:
    return LEFT + (day - first_day).days / max(days - 1, 1) * (width - LEFT - RIGHT)


def _line_chart(
    values: list[tuple[date, float, str]],
    *,
    first_day: date,
    days: int,
    top: float,
    width: int,
    height: int,
) -> LineChart:
    """Each (day, share, title) at its place: the x axis holds every day, the y axis 0..`top`."""
    inner_height = height - TOP - BOTTOM
    dots = [
        (
            round(_x(day, first_day, days, width), 1),
            round(TOP + (1 - min(value / top, 1.0)) * inner_height, 1),
            title,
        )
        for day, value, title in values
    ]
    grid = [
        (round(TOP + (1 - step) * inner_height, 1), f"{top * step:.0%}") for step in (0, 0.5, 1)
    ]
    return LineChart(
        width=width,
        height=height,
        points=" ".join(f"{x},{y}" for x, y, _ in dots),
        dots=dots,
        grid=grid,
        first_day=first_day,
    )


def trend_chart(points: list[TrendPoint], *, today: date, days: int) -> LineChart:
    """The share of agents' verdicts that confirmed the model, on the days that had some."""
    values = [
        (p.day, p.accuracy, f"{p.day:%d %b}: {p.accuracy:.0%} of {p.total} verdicts confirmed")
        for p in points
    ]
    first_day = today - timedelta(days=days - 1)
    return _line_chart(values, first_day=first_day, days=days, top=1.0, width=WIDTH, height=160)


def abstain_chart(daily: list[DailyPredictions]) -> LineChart:
    """The share of messages the model abstained on, per day that had messages. The y axis
    ends at the next ten per cent above the highest day, so that a rate of a few per cent is
    not a flat line on the floor."""
    values = [
        (
            d.day,
            d.abstain_rate,
            f"{d.day:%d %b}: abstained on {d.abstain_rate:.0%} of {d.total} messages",
        )
        for d in daily
        if d.total
    ]
    highest = max((value for _, value, _ in values), default=0.0)
    top = min(1.0, max(0.1, math.ceil(highest * 10 + 1e-9) / 10))
    return _line_chart(
        values, first_day=daily[0].day, days=len(daily), top=top, width=WIDE, height=110
    )


@dataclass(frozen=True)
class Segment:
    x: float
    y: float
    width: float
    height: float
    series: int  # 0..SERIES-1: an intent's colour; SERIES: other intents; SERIES + 1: abstained
    title: str


@dataclass(frozen=True)
class LegendEntry:
    label: str
    series: int
    total: int


@dataclass(frozen=True)
class StackedBars:
    width: int
    height: int
    segments: list[Segment]
    grid: list[tuple[float, str]]
    legend: list[LegendEntry]
    first_day: date
    busiest: int  # the most messages of one day


def _nice_ceiling(value: int) -> int:
    """1, 2 or 5 times a power of ten, at least `value`: the y axis' top."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def predictions_chart(daily: list[DailyPredictions], *, height: int = 200) -> StackedBars:
    """One bar a day, stacked: the most predicted intents of the window each in its colour,
    then the other intents together, then the messages the model abstained on."""
    totals = predictions_over(daily)
    named = sorted((i for i in totals if i), key=lambda intent: (-totals[intent], intent))
    colours = {intent: series for series, intent in enumerate(named[:SERIES])}
    busiest = max((day.total for day in daily), default=0)
    top = _nice_ceiling(busiest)
    inner_width, inner_height = WIDE - LEFT - RIGHT, height - TOP - BOTTOM
    slot = inner_width / len(daily)
    segments = []
    for index, day in enumerate(daily):
        stack = [(colours[i], i, day.counts.get(i, 0)) for i in named[:SERIES]]
        others = sum(
            count for intent, count in day.counts.items() if intent and intent not in colours
        )
        stack += [
            (SERIES, "other intents", others),
            (SERIES + 1, "abstained", day.counts.get("", 0)),
        ]
        base = TOP + inner_height
        for series, label, count in stack:
            if not count:
                continue
            bar = count / top * inner_height
            base -= bar
            segments.append(
                Segment(
                    x=round(LEFT + index * slot + slot * 0.15, 1),
                    y=round(base, 1),
                    width=round(slot * 0.7, 1),
                    height=round(bar, 1),
                    series=series,
                    title=f"{day.day:%d %b}: {label} {count} of {day.total}",
                )
            )
    grid = [
        (round(TOP + (1 - step) * inner_height, 1), f"{round(top * step):,}")
        for step in (0, 0.5, 1)
    ]
    legend = [LegendEntry(intent, colours[intent], totals[intent]) for intent in named[:SERIES]]
    others_total = sum(totals[intent] for intent in named[SERIES:])
    if others_total:
        legend.append(LegendEntry("other intents", SERIES, others_total))
    if totals.get(""):
        legend.append(LegendEntry("abstained", SERIES + 1, totals[""]))
    return StackedBars(
        width=WIDE,
        height=height,
        segments=segments,
        grid=grid,
        legend=legend,
        first_day=daily[0].day,
        busiest=busiest,
    )
