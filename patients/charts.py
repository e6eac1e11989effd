"""Measurement trends drawn on the server as SVG coordinates (no charting library)."""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from patients.models import Measurement

WIDTH, HEIGHT = 320, 120
PAD_X, PAD_Y = 36, 14


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    measurement: Measurement


@dataclass(frozen=True)
class Trend:
    site: str
    unit: str
    points: list[Point]
    first: Measurement
    last: Measurement
    low: Decimal
    high: Decimal
    total: int  # the measurements of the trend, drawn or not (see chart_measurements)

    @property
    def change(self) -> Decimal:
        return self.last.value - self.first.value

    @property
    def change_percent(self) -> Decimal | None:
        if not self.first.value:
            return None
        return (self.change / self.first.value * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    width = WIDTH
    height = HEIGHT
    left = PAD_X
    right = WIDTH - PAD_X / 3
    top = PAD_Y
    bottom = HEIGHT - PAD_Y


# On the chart, each trend draws its baseline and its latest measurements, this many in
# all; the patient's measurements page draws every one. A long-treated patient's chart
# drew 104 points with a tooltip each: 20 ms of its page (issue 24).
CHART_POINTS = 12


def chart_measurements(measurements: QuerySet) -> list[Measurement]:
    """Of each (site, unit), the first measurement and the latest CHART_POINTS - 1, in
    one query, each annotated with `of` (how many the trend has in all); sorted by site
    and date, as measurement_trends takes them."""
    trend = [F("site"), F("unit")]
    ranked = measurements.annotate(
        newest=Window(
            RowNumber(), partition_by=trend, order_by=[F("measured_on").desc(), F("id").desc()]
        ),
        oldest=Window(
            RowNumber(), partition_by=trend, order_by=[F("measured_on").asc(), F("id").asc()]
        ),
        of=Window(Count("id"), partition_by=trend),
    )
    return list(
        ranked.filter(Q(newest__lt=CHART_POINTS) | Q(oldest=1)).order_by(
            "site", "measured_on", "id"
        )
    )


def measurement_trends(measurements: list[Measurement]) -> list[Trend]:
    """One trend per (site, unit), oldest first, given measurements sorted by site and date."""
    groups: dict[tuple[str, str], list[Measurement]] = {}
    for measurement in measurements:
        groups.setdefault((measurement.site, measurement.unit), []).append(measurement)
    return [_trend(site, unit, group) for (site, unit), group in groups.items()]


def _trend(site: str, unit: str, group: list[Measurement]) -> Trend:
    group = sorted(group, key=lambda m: (m.measured_on, m.pk or 0))
    low = min(m.value for m in group)
    high = max(m.value for m in group)
    start, end = group[0].measured_on, group[-1].measured_on
    span_days = max((end - start).days, 1)
    span_value = float(high - low) or 1.0
    plot_w = WIDTH - PAD_X - PAD_X / 3
    plot_h = HEIGHT - 2 * PAD_Y

    def x_of(day: date, index: int) -> float:
        if start == end:  # all on one day: spread evenly
            return PAD_X + plot_w * (index / max(len(group) - 1, 1))
        return PAD_X + plot_w * (day - start).days / span_days

    def y_of(value: Decimal) -> float:
        if high == low:
            return PAD_Y + plot_h / 2
        return PAD_Y + plot_h * (1 - float(value - low) / span_value)

    points = [Point(x_of(m.measured_on, i), y_of(m.value), m) for i, m in enumerate(group)]
    total = getattr(group[-1], "of", len(group))
    return Trend(site, unit, points, group[0], group[-1], low, high, total)
