"""Measurement trends drawn on the server as SVG coordinates (no charting library)."""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

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
    return Trend(site, unit, points, group[0], group[-1], low, high)
