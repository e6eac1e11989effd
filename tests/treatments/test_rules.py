"""Each clinical rule, called through the service that writes (no form, no page): any write
path (console, import, API) gets the same answer. The pages are in test_rules_pages.py."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.utils import timezone

from patients.images import clean_image
from patients.models import Consent, ConsentTemplate, Measurement, Photo
from patients.services import (
    add_photo,
    archive_patient,
    record_consent,
    record_measurement,
    restore_patient,
    save_patient,
    withdraw_consent,
)
from tests.factories import CompoundFactory, list_on_formulary, make_formula
from tests.uploads import upload
from treatments.models import (
    Amendment,
    Checklist,
    CompoundLot,
    Injection,
    MapZone,
    SideEffect,
    TreatmentMap,
    TreatmentSession,
)
from treatments.services.maps import create_map, plan_zones, set_status
from treatments.services.sessions import (
    PlannedInjection,
    add_amendment,
    add_side_effect,
    resolve_side_effect,
    review_side_effect,
    save_session,
    sign_session,
    signing_problems,
)

pytestmark = pytest.mark.django_db


def _planned(zone: MapZone, lots: dict, **changes) -> PlannedInjection:
    """What the map planned for the zone, with the usable lot of each compound."""
    injection = Injection(
        map_zone=zone,
        region=zone.region,
        formula=zone.formula,
        volume_ml=Decimal("2"),
        points=20,
        depth_mm=Decimal("4"),
        needle_length_mm=Decimal("4"),
        gauge=30,
        technique="nappage",
    )
    for name, value in changes.items():
        setattr(injection, name, value)
    compounds = [i.compound for i in zone.formula.ingredients.all()]
    return PlannedInjection(injection, [lots[compound.name] for compound in compounds])


def _session(planned_map, practitioner, *, days_ago: int = 3, **fields) -> TreatmentSession:
    return TreatmentSession(
        patient=planned_map.patient,
        treatment_map=planned_map,
        location=planned_map.location,
        practitioner=practitioner,
        performed_at=fields.pop("performed_at", timezone.now() - timedelta(days=days_ago)),
        **{f"check_{name}": True for name, _ in Checklist.ITEMS},
        **fields,
    )


def _save(planned_map, practitioner, lots, *, session=None, **changes) -> TreatmentSession:
    zones = list(planned_map.zones.select_related("region", "formula"))
    return save_session(
        session=session or _session(planned_map, practitioner),
        injections=[_planned(zone, lots, **changes) for zone in zones],
        expected_version=None,
    )


def _messages(raised: pytest.ExceptionInfo) -> str:
    return " ".join(raised.value.messages)


@pytest.fixture
def dark_skin(map_patient):
    """Phototype VI: the reference rule's default needle is 6 mm."""
    map_patient.phototype = 6
    map_patient.save()
    return map_patient


class TestNeedle:
    def test_a_session_with_another_needle_needs_a_reason(
        self, dark_skin, planned_map, practitioner, lots
    ):
        with pytest.raises(ValidationError) as raised:
            _save(planned_map, practitioner, lots)
        assert "default needle for phototype VI is 6 mm: give the reason for 4 mm" in _messages(
            raised
        )
        assert not TreatmentSession.objects.exists()

        _save(planned_map, practitioner, lots, needle_override_reason="Thin skin over the knee")
        assert set(Injection.objects.values_list("needle_override_reason", flat=True)) == {
            "Thin skin over the knee"
        }

    def test_the_default_needle_needs_no_reason(self, dark_skin, planned_map, practitioner, lots):
        _save(planned_map, practitioner, lots, needle_length_mm=Decimal("6"))
        assert Injection.objects.count() == 2

    def test_the_plan_obeys_the_same_rule(self, dark_skin, planned_map):
        zones = list(planned_map.zones.select_related("region"))
        with pytest.raises(ValidationError) as raised:
            plan_zones(treatment_map=planned_map, zones=zones, expected_version=1)
        assert "default needle for phototype VI is 6 mm" in _messages(raised)
        for zone in zones:
            zone.needle_override_reason = "Lipoatrophy: thin fat layer"
        plan_zones(treatment_map=planned_map, zones=zones, expected_version=1)
        assert MapZone.objects.filter(needle_override_reason__startswith="Lipo").count() == 2

    def test_signing_checks_the_needle_again(
        self, dark_skin, planned_map, practitioner, lots, treatment_consent
    ):
        session = _save(planned_map, practitioner, lots, needle_override_reason="Thin skin")
        # A draft saved before the rule existed (or edited in SQL) has no reason.
        Injection.objects.filter(session=session).update(needle_override_reason="")
        problems = " ".join(signing_problems(TreatmentSession.objects.get(pk=session.pk)))
        assert "default needle for phototype VI is 6 mm" in problems

    def test_depth_never_exceeds_the_needle(self, planned_map, practitioner, lots):
        with pytest.raises(ValidationError) as raised:
            _save(planned_map, practitioner, lots, depth_mm=Decimal("5"))
        assert "The depth cannot exceed the needle length (4 mm)." in _messages(raised)
        zones = list(planned_map.zones.select_related("region"))
        zones[0].depth_mm = Decimal("6")
        with pytest.raises(ValidationError) as raised:
            plan_zones(treatment_map=planned_map, zones=zones, expected_version=1)
        assert "The depth cannot exceed the needle length (4 mm)." in _messages(raised)


class TestVolume:
    def test_one_cap_for_the_plan_and_the_session(self, planned_map, practitioner, lots):
        zones = list(planned_map.zones.select_related("region"))
        zones[0].planned_volume_ml = Decimal("15")  # the map used to take up to 20 mL
        with pytest.raises(ValidationError) as raised:
            plan_zones(treatment_map=planned_map, zones=zones, expected_version=1)
        assert "At most 10 mL in one zone per session." in _messages(raised)
        with pytest.raises(ValidationError) as raised:
            _save(planned_map, practitioner, lots, volume_ml=Decimal("10.5"))
        assert "At most 10 mL in one zone per session." in _messages(raised)
        _save(planned_map, practitioner, lots, volume_ml=Decimal("10"))
        assert Injection.objects.filter(volume_ml=10).count() == 2


class TestLots:
    def test_a_lot_expired_on_the_session_date_is_refused(self, planned_map, practitioner, lots):
        lot = lots["Phosphatidylcholine"]
        lot.expiry_date = timezone.localdate() - timedelta(days=10)  # session: 3 days ago
        lot.save()
        with pytest.raises(ValidationError) as raised:
            _save(planned_map, practitioner, lots)
        assert f"Lot {lot.lot_number} of Phosphatidylcholine expired on" in _messages(raised)
        assert not TreatmentSession.objects.exists()

    def test_a_lot_valid_on_the_session_date_is_accepted(self, planned_map, practitioner, lots):
        lot = lots["Phosphatidylcholine"]
        lot.expiry_date = timezone.localdate() - timedelta(days=1)  # expired since
        lot.save()
        _save(planned_map, practitioner, lots)
        assert Injection.objects.count() == 2

    def test_the_lot_must_be_of_a_compound_of_the_mixture(self, planned_map, practitioner, lots):
        zone = planned_map.zones.select_related("region", "formula").first()
        planned = _planned(zone, lots)
        planned.lots = [lots["Aminophylline"]]
        with pytest.raises(ValidationError) as raised:
            save_session(
                session=_session(planned_map, practitioner),
                injections=[planned],
                expected_version=None,
            )
        text = _messages(raised)
        assert "Choose the lot of Phosphatidylcholine used." in text
        assert "which is not in Lipolysis A" in text

    def test_every_compound_needs_its_lot(self, planned_map, practitioner, lots):
        zone = planned_map.zones.select_related("region", "formula").first()
        planned = _planned(zone, lots)
        planned.lots = []
        with pytest.raises(ValidationError) as raised:
            save_session(
                session=_session(planned_map, practitioner),
                injections=[planned],
                expected_version=None,
            )
        assert "Choose the lot of Phosphatidylcholine used." in _messages(raised)


class TestSessionDates:
    def test_not_before_its_map(self, planned_map, practitioner, lots):
        before = planned_map.mapped_at - timedelta(days=1)
        with pytest.raises(ValidationError) as raised:
            _save(
                planned_map,
                practitioner,
                lots,
                session=_session(planned_map, practitioner, performed_at=before),
            )
        assert "A session cannot come before its treatment map" in _messages(raised)

    @pytest.mark.parametrize(
        ("ahead", "accepted"), [(timedelta(minutes=5), True), (timedelta(hours=2), False)]
    )
    def test_not_in_the_future_beyond_a_few_minutes(
        self, planned_map, practitioner, lots, ahead, accepted
    ):
        session = _session(planned_map, practitioner, performed_at=timezone.now() + ahead)
        if accepted:
            _save(planned_map, practitioner, lots, session=session)
            assert TreatmentSession.objects.count() == 1
        else:
            with pytest.raises(ValidationError) as raised:
                _save(planned_map, practitioner, lots, session=session)
            assert "This date is in the future." in _messages(raised)

    def test_next_appointment_after_the_session(self, planned_map, practitioner, lots):
        session = _session(planned_map, practitioner)
        session.next_appointment = session.performed_at - timedelta(hours=1)
        with pytest.raises(ValidationError) as raised:
            _save(planned_map, practitioner, lots, session=session)
        assert "The next appointment must come after this session." in _messages(raised)


class TestConsent:
    def test_in_force_means_signed_current_wording_not_withdrawn_by_then(
        self, treatment_consent, map_patient
    ):
        in_force = Consent.objects.filter(patient=map_patient).in_force
        now = timezone.now()
        signed = timezone.make_aware(
            timezone.datetime.combine(treatment_consent.signed_on, timezone.datetime.min.time())
        )
        assert list(in_force(kind="treatment")) == [treatment_consent]
        assert not in_force(kind="treatment", at=signed - timedelta(days=1)).exists()
        assert not in_force(kind="photography").exists()

        treatment_consent.withdrawn_at = now - timedelta(days=1)
        treatment_consent.save()
        assert not in_force(kind="treatment").exists()
        # In force before it was withdrawn: a session of that day was consented.
        assert in_force(kind="treatment", at=now - timedelta(days=2)).exists()

        treatment_consent.withdrawn_at = None
        treatment_consent.save()
        ConsentTemplate.objects.create(kind="treatment", title="Treatment", text="New wording")
        assert not in_force(kind="treatment").exists()  # signed on version 1 of 2
        # Yesterday version 1 was the newest wording: it was in force then.
        assert in_force(kind="treatment", at=now - timedelta(days=1)).exists()

    def test_a_wording_published_after_the_session_does_not_block_its_signature(
        self, planned_map, practitioner, lots, treatment_consent
    ):
        session = _save(planned_map, practitioner, lots)
        ConsentTemplate.objects.create(kind="treatment", title="Treatment", text="New wording")
        assert signing_problems(session) == []

    def test_signing_needs_a_consent_signed_on_or_before_the_session(
        self, planned_map, practitioner, lots, treatment_consent
    ):
        session = _save(planned_map, practitioner, lots)
        treatment_consent.signed_on = timezone.localdate() - timedelta(days=1)  # after it
        treatment_consent.save()
        assert any("No treatment consent is in force" in p for p in signing_problems(session))
        with pytest.raises(ValidationError):
            sign_session(session=session, user=practitioner, render_pdf=lambda s: b"%PDF")
        assert not TreatmentSession.objects.get(pk=session.pk).is_signed

        treatment_consent.signed_on = timezone.localdate() - timedelta(days=13)
        treatment_consent.save()
        assert signing_problems(session) == []

    def test_an_off_label_compound_needs_an_off_label_consent(
        self, planned_map, practitioner, lots, treatment_consent, location
    ):
        compound = CompoundFactory(name="Off-label lipolytic", off_label=True)
        list_on_formulary(compound, location.jurisdiction)
        CompoundLot.objects.create(
            compound=compound,
            lot_number="OFF-1",
            expiry_date=timezone.localdate() + timedelta(days=90),
            received_on=timezone.localdate() - timedelta(days=90),
        )
        lots = {**lots, compound.name: compound.lots.get()}
        planned_map.zones.update(formula=make_formula("Off-label mix", [compound]))
        session = _save(planned_map, practitioner, lots)
        problems = " ".join(signing_problems(session))
        assert "Off-label lipolytic is used off-label" in problems

        Consent.objects.create(
            patient=planned_map.patient,
            template=ConsentTemplate.objects.create(kind="off_label", title="Off", text="..."),
            signed_on=treatment_consent.signed_on,
            signed_by="the patient",
            method=Consent.Method.SCAN,
            signature=treatment_consent.signature.name,
            recorded_by=practitioner,
        )
        assert signing_problems(session) == []


class TestSideEffects:
    @pytest.fixture
    def session(self, planned_map, practitioner, lots):
        return _save(planned_map, practitioner, lots)

    def _effect(self, session, **fields) -> SideEffect:
        return SideEffect(session=session, **{"severity": "mild", "kind": "swelling", **fields})

    def test_resolves_after_it_began(self, session, practitioner):
        onset = session.performed_at + timedelta(hours=2)
        with pytest.raises(ValidationError) as raised:
            add_side_effect(
                side_effect=self._effect(
                    session, onset=onset, resolved_at=onset - timedelta(minutes=1)
                ),
                user=practitioner,
            )
        assert "It cannot resolve before it began." in _messages(raised)
        effect = add_side_effect(side_effect=self._effect(session, onset=onset), user=practitioner)
        with pytest.raises(ValidationError) as raised:
            resolve_side_effect(side_effect=effect, resolved_at=onset - timedelta(hours=1))
        assert "It cannot resolve before it began." in _messages(raised)
        with pytest.raises(ValidationError) as raised:
            resolve_side_effect(side_effect=effect, resolved_at=timezone.now() + timedelta(days=1))
        assert "cannot be in the future" in _messages(raised)
        effect.refresh_from_db()
        assert effect.resolved_at is None

    def test_begins_after_its_session(self, session, practitioner):
        with pytest.raises(ValidationError) as raised:
            add_side_effect(
                side_effect=self._effect(session, onset=session.performed_at - timedelta(hours=1)),
                user=practitioner,
            )
        assert "cannot begin before it" in _messages(raised)
        assert not SideEffect.objects.exists()

    def test_a_reviewed_flag_leaves_the_lists_and_keeps_its_history(self, session, practitioner):
        infection = add_side_effect(
            side_effect=self._effect(session, kind="infection", onset=session.performed_at),
            user=practitioner,
        )
        swelling = add_side_effect(
            side_effect=self._effect(
                session,
                onset=session.performed_at,
                resolved_at=session.performed_at + timedelta(days=1),
            ),
            user=practitioner,
        )
        assert list(SideEffect.objects.needing_attention()) == [infection]
        with pytest.raises(ValidationError) as raised:
            review_side_effect(side_effect=swelling, user=practitioner, note="fine")
        assert "within its expected course" in _messages(raised)
        with pytest.raises(ValidationError):
            review_side_effect(side_effect=infection, user=practitioner, note="  ")

        review_side_effect(side_effect=infection, user=practitioner, note="Antibiotics started")
        assert not SideEffect.objects.needing_attention().exists()
        reviewed = SideEffect.objects.with_attention().get(pk=infection.pk)
        assert reviewed.needs_attention  # still flagged on the session, as reviewed
        assert (reviewed.reviewed_by, reviewed.review_note) == (practitioner, "Antibiotics started")
        history = apps.get_model("treatments", "SideEffectEvent").objects.filter(
            pgh_obj=infection, pgh_label="update"
        )
        assert list(history.values_list("review_note", "reviewed_by")) == [
            ("Antibiotics started", practitioner.pk)
        ]
        with pytest.raises(ValidationError) as raised:
            review_side_effect(side_effect=infection, user=practitioner, note="again")
        assert "already reviewed" in _messages(raised)


class TestArchivedPatientIsReadOnly:
    """Every service that writes to a patient's record refuses once it is archived."""

    @pytest.fixture
    def record(self, planned_map, practitioner, lots, treatment_consent):
        """A draft, a signed session with a flagged follow-up, then the patient archived."""
        draft = _save(planned_map, practitioner, lots)
        signed = _save(
            planned_map, practitioner, lots, session=_session(planned_map, practitioner, days_ago=2)
        )
        signed = sign_session(session=signed, user=practitioner, render_pdf=lambda s: b"%PDF-1")
        effect = add_side_effect(
            side_effect=SideEffect(
                session=signed, kind="infection", severity="mild", onset=signed.performed_at
            ),
            user=practitioner,
        )
        patient = planned_map.patient
        archive_patient(patient=patient, expected_version=patient.version)
        patient.refresh_from_db()
        planned_map.refresh_from_db()
        return {"draft": draft, "signed": signed, "effect": effect, "patient": patient}

    def _writes(self, record, planned_map, practitioner, lots, treatment_consent):
        patient = record["patient"]
        image = clean_image(upload())
        yield (
            "edit",
            lambda: save_patient(
                patient=patient, fields=["first_name"], expected_version=patient.version
            ),
        )
        yield (
            "consent",
            lambda: record_consent(
                consent=Consent(
                    patient=patient,
                    template=treatment_consent.template,
                    signed_on=timezone.localdate(),
                    signed_by="x",
                    method=Consent.Method.SCAN,
                ),
                image=image,
                user=practitioner,
            ),
        )
        yield (
            "withdraw",
            lambda: withdraw_consent(consent=treatment_consent, user=practitioner, reason="x"),
        )
        yield (
            "photo",
            lambda: add_photo(
                photo=Photo(
                    patient=patient,
                    taken_at=timezone.now(),
                    region="thigh",
                    view="front",
                    phase="before",
                ),
                image=image,
                user=practitioner,
            ),
        )
        yield (
            "measurement",
            lambda: record_measurement(
                measurement=Measurement(
                    patient=patient, site="Thigh", value=50, measured_on=timezone.localdate()
                ),
                user=practitioner,
            ),
        )
        yield (
            "map",
            lambda: create_map(
                treatment_map=TreatmentMap(
                    indication=planned_map.indication,
                    location=planned_map.location,
                    mapped_standing=True,
                    mapped_at=timezone.now(),
                    planned_sessions=1,
                    days_between=14,
                ),
                patient=patient,
                regions=[],
                needle=None,
                user=practitioner,
            ),
        )
        yield (
            "plan",
            lambda: plan_zones(
                treatment_map=planned_map,
                zones=list(planned_map.zones.all()),
                expected_version=planned_map.version,
            ),
        )
        yield (
            "status",
            lambda: set_status(
                treatment_map=planned_map, status="completed", expected_version=planned_map.version
            ),
        )
        yield "session", lambda: _save(planned_map, practitioner, lots)
        yield (
            "sign",
            lambda: sign_session(
                session=record["draft"], user=practitioner, render_pdf=lambda s: b"%PDF-1"
            ),
        )
        yield (
            "amendment",
            lambda: add_amendment(
                session=record["signed"],
                author=practitioner,
                reason="x",
                text="y",
                render_pdf=lambda s, a: b"%PDF-1",
            ),
        )
        yield (
            "side effect",
            lambda: add_side_effect(
                side_effect=SideEffect(
                    session=record["signed"],
                    kind="swelling",
                    severity="mild",
                    onset=record["signed"].performed_at,
                ),
                user=practitioner,
            ),
        )
        yield (
            "resolve",
            lambda: resolve_side_effect(side_effect=record["effect"], resolved_at=timezone.now()),
        )
        yield (
            "review",
            lambda: review_side_effect(
                side_effect=record["effect"], user=practitioner, note="seen"
            ),
        )

    def test_every_write_is_refused(
        self, record, planned_map, practitioner, lots, treatment_consent
    ):
        before = _counts()
        refused = []
        for name, write in self._writes(record, planned_map, practitioner, lots, treatment_consent):
            try:
                write()
            except ValidationError as error:
                if "This patient is archived" in " ".join(error.messages):
                    refused.append(name)
        assert refused == [
            "edit",
            "consent",
            "withdraw",
            "photo",
            "measurement",
            "map",
            "plan",
            "status",
            "session",
            "sign",
            "amendment",
            "side effect",
            "resolve",
            "review",
        ]
        assert _counts() == before

    def test_restored_it_can_be_written_again(self, record, practitioner):
        restore_patient(patient=record["patient"])
        review_side_effect(side_effect=record["effect"], user=practitioner, note="seen")
        assert SideEffect.objects.get(pk=record["effect"].pk).review_note == "seen"


def _counts() -> dict:
    models = [Consent, Photo, Measurement, TreatmentMap, TreatmentSession, Amendment, SideEffect]
    return {model.__name__: model.objects.count() for model in models} | {
        "reviewed": SideEffect.objects.filter(reviewed_at__isnull=False).count(),
        "signed": TreatmentSession.objects.filter(status="signed").count(),
        "withdrawn": Consent.objects.filter(withdrawn_at__isnull=False).count(),
    }
