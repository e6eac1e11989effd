"""axe-core (packaged by axe-playwright-python) over every main page, in one browser context.

The run fails on any serious or critical violation of WCAG 2.1 A/AA and prints them all.
"""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.utils import timezone

from tests.factories import make_session
from treatments.services.sessions import sign_session

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WCAG_21_AA = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
BLOCKING = {"serious", "critical"}


def _violations(axe: Axe, page) -> list[dict]:
    return axe.run(page, options=WCAG_21_AA).response["violations"]


def _describe(name: str, violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{name}: {violation['id']} ({violation['impact']}) {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"    {', '.join(map(str, node['target']))}: {node['failureSummary']}")
    return "\n".join(lines)


def _signed_in_cookie(client_for, user, base_url: str) -> dict:
    session_id = client_for(user).cookies[settings.SESSION_COOKIE_NAME].value
    return {"name": settings.SESSION_COOKIE_NAME, "value": session_id, "url": base_url}


def test_main_pages_have_no_serious_wcag_violations(
    live_server,
    page,
    client_for,
    practitioner,
    catalogue_admin,
    planned_map,
    lots,
    treatment_consent,
):
    patient = planned_map.patient
    session = make_session(planned_map, lots=lots)
    # A signed session earlier, for the chart's history and a locked session page.
    signed = sign_session(
        session=make_session(
            planned_map, lots=lots, performed_at=timezone.now() - timedelta(weeks=8)
        ),
        user=practitioner,
        render_pdf=lambda session: b"%PDF-1.7",
    )
    lot = lots["Phosphatidylcholine"]
    clinical_pages = {
        "dashboard": "/",
        "patient list": "/patients/",
        "chart": f"/patients/{patient.pk}/",
        "patient form": "/patients/new/",
        "consent form": f"/patients/{patient.pk}/consents/new/",
        "photo form": f"/patients/{patient.pk}/photos/new/",
        "map editor": f"/patients/{patient.pk}/maps/new/",
        "zone plan": f"/maps/{planned_map.pk}/zones/",
        "session form": f"/patients/{patient.pk}/sessions/new/?map={planned_map.pk}",
        "session page": f"/sessions/{session.pk}/",
        "sign page": f"/sessions/{session.pk}/sign/",
        "signed session page": f"/sessions/{signed.pk}/",
        "print view": f"/sessions/{session.pk}/print/",
        "lot recall": f"/lots/{lot.pk}/recall/",
    }
    # Forms shown again with their errors (error text has its own colours), by their button.
    submitted_empty = {
        "patient form": "Save",
        "map editor": "Save and plan the zones",
        "session form": "Save draft",
    }
    axe = Axe()
    found: dict[str, list[dict]] = {}

    def visit(name, path):
        response = page.goto(live_server.url + path)
        assert response.status == 200, f"{name}: {path} answered {response.status}"
        # Not sent elsewhere (a sign-in or second-factor page would be checked instead).
        assert page.url == live_server.url + path, f"{name}: {path} went to {page.url}"
        # Folded content too (the zone list of the map editor): axe skips what is hidden.
        page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
        found[name] = _violations(axe, page)

    visit("sign-in", "/accounts/login/")
    page.context.add_cookies([_signed_in_cookie(client_for, practitioner, live_server.url)])
    for name, path in clinical_pages.items():
        visit(name, path)
        if name in submitted_empty:
            page.get_by_role("button", name=submitted_empty[name], exact=True).click()
            page.wait_for_load_state()
            assert page.locator(".invalid-feedback, .alert-danger").count(), name
            found[f"{name}, errors"] = _violations(axe, page)
    page.context.clear_cookies()
    page.context.add_cookies([_signed_in_cookie(client_for, catalogue_admin, live_server.url)])
    visit("console compound list", "/admin/treatments/compound/")
    assert page.get_by_role("link", name="Phosphatidylcholine").count() == 1

    counts = {
        name: (
            sum(len(v["nodes"]) for v in violations if v["impact"] in BLOCKING),
            sum(len(v["nodes"]) for v in violations),
        )
        for name, violations in found.items()
    }
    print("\naxe WCAG 2.1 A/AA, elements in violation (serious+critical / all):")
    for name, (blocking, total) in counts.items():
        print(f"  {name:24} {blocking:3} / {total:3}")
    blocking = [
        _describe(name, [v for v in violations if v["impact"] in BLOCKING])
        for name, violations in found.items()
        if any(v["impact"] in BLOCKING for v in violations)
    ]
    assert not blocking, "Serious or critical WCAG 2.1 A/AA violations:\n" + "\n".join(blocking)
