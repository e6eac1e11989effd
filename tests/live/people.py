"""Practitioners who sign in through the pages (password, authenticator) and a patient of
their own with a planned map: the soak script's and the benchmark's writers."""

import uuid
from dataclasses import dataclass
from datetime import timedelta

from tests.live.browser import Browser, Figures, sign_in


def totp_code(key: bytes) -> str:
    from django_otp.oath import totp  # pure Python: no Django set-up needed

    return f"{totp(key):06d}"


@dataclass
class Person:
    """A practitioner with an authenticator, and a patient with a planned map of their own."""

    username: str
    key: bytes
    patient_id: int
    form: dict  # a valid session form for the map (without csrf, version, notes)

    def code(self) -> str:
        return totp_code(self.key)

    def browser(self, port: int, figures: Figures | None = None) -> Browser:
        from tests.factories import TEST_PASSWORD

        browser = Browser(port, figures)
        sign_in(browser, self.username, TEST_PASSWORD, self.code())
        return browser


def catalogue(prefix: str = "Soak"):
    """A clinic, a two-compound mixture on its formulary, and a lot of each compound
    usable for months yet (the database is kept between runs: expired lots are left)."""
    from django.utils import timezone

    from clinic.models import Location
    from tests.factories import (
        CompoundFactory,
        CompoundLotFactory,
        FormulaFactory,
        LocationFactory,
        list_on_formulary,
    )
    from treatments.models import CompoundLot, Formula

    formula = Formula.objects.filter(name=f"{prefix} mixture").first()
    if formula is None:
        location = LocationFactory(name=f"{prefix} clinic")
        compounds = [CompoundFactory(name=f"{prefix} compound {n}") for n in (1, 2)]
        for compound in compounds:
            list_on_formulary(compound, location.jurisdiction)
        formula = FormulaFactory(name=f"{prefix} mixture", compounds=compounds)
    lots = {}
    for ingredient in formula.ingredients.select_related("compound"):
        compound = ingredient.compound
        usable = timezone.localdate() + timedelta(days=90)
        lots[compound.name] = CompoundLot.objects.filter(
            compound=compound, expiry_date__gt=usable
        ).first() or CompoundLotFactory(
            # The database is kept between runs, and the factory's numbering starts again
            # in each process: a number of its own (a run at a later date needs new lots).
            compound=compound,
            lot_number=f"{prefix.upper()}-{uuid.uuid4().hex[:8]}",
        )
    return Location.objects.get(name=f"{prefix} clinic"), formula, lots


def make_person(
    username: str,
    *,
    prefix: str = "Soak",
    regions: tuple[str, ...] = ("thigh_outer_right", "thigh_outer_left"),
    consent: bool = False,
) -> Person:
    """The practitioner (kept between runs, with a new authenticator each run) and a new
    patient with a map of these zones; with a treatment consent in force if `consent`
    (a session can then be signed)."""
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from clinic.roles import PRACTITIONER
    from patients.models import ConsentTemplate
    from tests.factories import (
        ConsentTemplateFactory,
        MapZoneFactory,
        PatientFactory,
        TreatmentMapFactory,
        UserFactory,
        make_scanned_consent,
    )
    from tests.treatments.session_helpers import session_post

    location, formula, lots = catalogue(prefix)
    user = UserFactory(username=username, roles=[PRACTITIONER])
    TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice.objects.create(user=user, name="load phone", confirmed=True)
    treatment_map = TreatmentMapFactory(
        patient=PatientFactory(), location=location, created_by=user
    )
    for code in regions:
        MapZoneFactory(treatment_map=treatment_map, region_code=code, formula=formula)
    if consent:
        # On the first wording, signed long before the form's sessions (six weeks ago):
        # the wording in force then (tests/treatments/session_helpers.py).
        template = ConsentTemplate.objects.filter(kind="treatment").order_by("version").first()
        make_scanned_consent(
            treatment_map.patient,
            user,
            template=template or ConsentTemplateFactory(kind="treatment"),
            signed_on=timezone.localdate() - timedelta(days=400),
        )
    return Person(
        username, device.bin_key, treatment_map.patient_id, session_post(treatment_map, lots)
    )
