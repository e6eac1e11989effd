from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from clinic.models import AccessLog
from patients.charts import CHART_POINTS, measurement_trends
from patients.models import Measurement
from tests.dates import days_from_today

pytestmark = pytest.mark.django_db


def _record(client, patient, **changes):
    data = {
        "site": "right thigh",
        "landmark": "15 cm above the patella",
        "value": "58.0",
        "unit": "cm",
        "posture": "standing",
        "measured_on": days_from_today(-7).isoformat(),
        "notes": "",
    }
    data.update(changes)
    return client.post(reverse("patients:measurement_new", args=[patient.pk]), data)


def test_record_a_measurement(client_for, practitioner, patient):
    response = _record(client_for(practitioner), patient)
    assert response.status_code == 302
    measurement = Measurement.objects.get()
    assert measurement.site == "Right thigh"
    assert measurement.value == Decimal("58.0")
    assert measurement.posture == "standing"
    assert measurement.recorded_by == practitioner


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"value": "0"}, "greater than or equal to 0.1"),
        ({"value": "-3"}, "greater than or equal to 0.1"),
        ({"value": "abc"}, "Enter a number."),
        ({"value": "900"}, "implausible"),
        ({"site": ""}, "This field is required."),
        ({"measured_on": days_from_today(365).isoformat()}, "in the future"),
        ({"unit": "inch"}, "Select a valid choice"),
    ],
)
def test_invalid_measurements_are_refused(client_for, practitioner, patient, changes, message):
    response = _record(client_for(practitioner), patient, **changes)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Measurement.objects.exists()


def test_assistant_cannot_record(client_for, assistant, patient):
    assert _record(client_for(assistant), patient).status_code == 403


def test_trend_shows_the_change_since_the_first(client_for, practitioner, patient):
    client = client_for(practitioner)
    first, second, third = (days_from_today(days) for days in (-60, -30, -1))
    _record(client, patient, value="60.0", measured_on=first.isoformat())
    _record(client, patient, value="58.5", measured_on=second.isoformat())
    _record(client, patient, value="57.0", measured_on=third.isoformat())
    _record(client, patient, site="Waist", value="80", measured_on=third.isoformat())
    page = client.get(patient.get_absolute_url()).content.decode()
    assert f"(-3.0 cm, -5.0% since {first:%Y-%m-%d})" in page
    assert page.count('data-testid="trend"') == 2
    assert "<polyline" in page


def test_trend_geometry():
    def m(day, value):
        return Measurement(site="Waist", unit="cm", value=Decimal(value), measured_on=day)

    (trend,) = measurement_trends(
        [m(date(2026, 1, 1), "80"), m(date(2026, 1, 11), "70"), m(date(2026, 1, 21), "75")]
    )
    xs = [p.x for p in trend.points]
    ys = [p.y for p in trend.points]
    assert xs == sorted(xs) and xs[1] - xs[0] == pytest.approx(xs[2] - xs[1])
    assert ys[0] == trend.top and ys[1] == trend.bottom  # highest on top, lowest at the bottom
    assert trend.change == Decimal("-5") and trend.change_percent == Decimal("-6.3")


def test_the_chart_draws_the_first_and_the_latest_and_the_page_every_one(
    client_for, practitioner, patient, assistant
):
    """A long-measured patient's chart stays light: each trend draws its baseline and its
    latest CHART_POINTS - 1, the change still from the first; the measurements page draws
    them all, for clinical roles, and logs the look."""
    values = [Decimal("70.0") - i for i in range(CHART_POINTS + 5)]
    days = [days_from_today(-7 * (len(values) - i)) for i in range(len(values))]
    for value, day in zip(values, days, strict=True):
        Measurement.objects.create(
            patient=patient,
            site="Waist",
            unit="cm",
            value=value,
            measured_on=day,
            posture="standing",
            recorded_by=practitioner,
        )
    Measurement.objects.create(
        patient=patient,
        site="Right thigh",
        unit="cm",
        value=Decimal("58"),
        measured_on=days[-1],
        posture="standing",
        recorded_by=practitioner,
    )
    client = client_for(practitioner)
    chart = client.get(patient.get_absolute_url())
    waist, thigh = sorted(chart.context["trends"], key=lambda t: t.site, reverse=True)
    drawn = [point.measurement.value for point in waist.points]
    assert drawn == [values[0], *values[-(CHART_POINTS - 1) :]]
    assert waist.total == len(values) and waist.change == values[-1] - values[0]
    assert (thigh.total, len(thigh.points)) == (1, 1)
    page = chart.content.decode()
    assert page.count('data-testid="trend-part"') == 1
    assert f"{CHART_POINTS} of {len(values)} measurements" in page
    url = reverse("patients:measurements", args=[patient.pk])
    assert f'href="{url}"' in page
    logged = AccessLog.objects.filter(patient_id=patient.pk).count()
    full = client.get(url)
    assert full.status_code == 200
    every = next(t for t in full.context["trends"] if t.site == "Waist")
    assert [point.measurement.value for point in every.points] == values
    assert 'data-testid="trend-part"' not in full.content.decode()
    assert AccessLog.objects.filter(patient_id=patient.pk).count() == logged + 1
    assert client_for(assistant).get(url).status_code == 403
