"""The FHIR R4 export: every resource validates (fhir.resources' R4B models), references
resolve, a signed session's export matches its PDF, the view is logged, the command's NDJSON."""

import hashlib
import importlib
import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from pypdf import PdfReader

from clinic.models import AccessLog
from patients.models import Measurement, Patient
from patients.services import record_measurement, withdraw_consent
from reports.fhir import BODY_SITES, bundle_json, patient_bundle, resource_id
from tests.factories import make_session
from treatments.models import SideEffect
from treatments.services.sessions import add_side_effect

pytestmark = pytest.mark.django_db


def _validate(resource: dict) -> None:
    kind = resource["resourceType"]
    model = getattr(importlib.import_module(f"fhir.resources.R4B.{kind.lower()}"), kind)
    model.model_validate(resource)


def _by_type(bundle: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for entry in bundle["entry"]:
        found.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"])
    return found


def _references(value):
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "reference":
                yield inner
            else:
                yield from _references(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _references(inner)


def _check_bundle(bundle: dict) -> None:
    Bundle.model_validate(bundle)
    for entry in bundle["entry"]:
        _validate(entry["resource"])
    urls = {entry["fullUrl"] for entry in bundle["entry"]}
    assert len(urls) == len(bundle["entry"])  # no resource twice
    for reference in _references(bundle["entry"]):
        assert reference in urls, reference


@pytest.fixture
def rich(signed, planned_map, lots, practitioner, treatment_consent):
    """The signed session's patient, with a later draft, a withdrawn consent, allergies,
    a measurement and a side effect."""
    patient = signed.patient
    Patient.objects.filter(pk=patient.pk).update(
        allergy_status="listed", allergies="Lidocaine\nLatex"
    )
    draft = make_session(
        planned_map,
        practitioner=practitioner,
        performed_at=signed.performed_at + timedelta(days=14),
        lots={name: lot for name, lot in lots.items() if not name.endswith("expired")},
    )
    withdraw_consent(consent=treatment_consent, user=practitioner, reason="Moved away")
    record_measurement(
        measurement=Measurement(
            patient=patient,
            site="Right thigh",
            value=Decimal("58.5"),
            unit="cm",
            measured_on=timezone.localdate() - timedelta(days=3),
        ),
        user=practitioner,
    )
    add_side_effect(
        side_effect=SideEffect(
            session=signed, kind="swelling", severity="mild", onset=signed.performed_at
        ),
        user=practitioner,
    )
    patient.refresh_from_db()
    return patient, signed, draft


def test_a_rich_record_validates_and_its_references_resolve(rich):
    patient, signed, draft = rich
    bundle = patient_bundle(patient)
    _check_bundle(bundle)
    found = _by_type(bundle)
    assert found["Patient"][0]["identifier"][0]["value"] == patient.chart_number
    assert [a["code"]["text"] for a in found["AllergyIntolerance"]] == ["Lidocaine", "Latex"]
    assert [c["status"] for c in found["Consent"]] == ["inactive"]
    statuses = sorted(p["status"] for p in found["Procedure"])
    assert statuses == ["completed"] * 2 + ["in-progress"] * 2
    thigh = BODY_SITES["thigh"][0]
    assert all(p["bodySite"][0]["coding"][0]["code"] == thigh for p in found["Procedure"])
    measurement = next(o for o in found["Observation"] if "valueQuantity" in o)
    assert measurement["valueQuantity"] == {
        "value": 58.5,
        "unit": "cm",
        "system": "http://unitsofmeasure.org",
        "code": "cm",
    }
    assert any(o["code"].get("text") == "Swelling" for o in found["Observation"])
    assert len(found["DocumentReference"]) == 1  # the draft has no PDF
    assert patient_bundle(patient) == bundle  # stable ids


def test_a_signed_session_matches_its_pdf(rich, client_for, practitioner):
    patient, signed, _ = rich
    found = _by_type(patient_bundle(patient))
    (document,) = found["DocumentReference"]
    attachment = document["content"][0]["attachment"]
    served = b"".join(client_for(practitioner).get(attachment["url"]).streaming_content)
    assert attachment["extension"][0]["valueString"] == hashlib.sha256(served).hexdigest()
    assert attachment["size"] == len(served)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(served)).pages)
    text = " ".join(text.split())
    related = {r["reference"] for r in document["context"]["related"]}
    procedures = [p for p in found["Procedure"] if f"urn:uuid:{p['id']}" in related]
    assert len(procedures) == signed.injections.count() == 2
    for procedure in procedures:
        assert procedure["bodySite"][0]["text"] in text
    medications = {f"urn:uuid:{m['id']}": m for m in found["Medication"]}
    given = [a for a in found["MedicationAdministration"] if a["partOf"][0]["reference"] in related]
    assert given
    for administration in given:
        medication = medications[administration["medicationReference"]["reference"]]
        assert medication["batch"]["lotNumber"] in text
        assert medication["code"]["text"] in text
    injection = signed.injections.first()
    used = injection.lots.first()
    dose = next(
        a["dosage"]["dose"]["value"]
        for a in given
        if a["id"] == resource_id("MedicationAdministration", used.pk)
    )
    assert Decimal(str(dose)) == injection.volume_ml * used.amount_per_ml
    assert f"{injection.volume_ml.normalize()}" in text or f"{injection.volume_ml}" in text


def test_the_view_downloads_the_bundle_and_logs_an_export(rich, client_for, practitioner):
    patient, _, _ = rich
    response = client_for(practitioner).get(reverse("patient_fhir", args=[patient.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.streaming  # encoded a resource at a time, never whole in memory
    streamed = json.loads(b"".join(response.streaming_content))
    _check_bundle(streamed)
    assert streamed == json.loads(bundle_json(patient_bundle(patient)))  # one export
    row = AccessLog.objects.filter(action=AccessLog.Action.EXPORT).get()
    assert row.user == practitioner and row.patient_id == patient.pk


def test_an_assistant_cannot_export(rich, client_for, assistant):
    patient, _, _ = rich
    response = client_for(assistant).get(reverse("patient_fhir", args=[patient.pk]))
    assert response.status_code == 403
    assert not AccessLog.objects.filter(action=AccessLog.Action.EXPORT).exists()


def test_the_command_writes_one_bundle_and_ndjson_per_type(rich, tmp_path):
    patient, _, _ = rich
    single = tmp_path / "one.json"
    call_command("export_fhir", patient=patient.chart_number, output=str(single))
    _check_bundle(json.loads(single.read_text()))
    with pytest.raises(CommandError, match="exists"):
        call_command("export_fhir", patient=patient.chart_number, output=str(single))

    folder = tmp_path / "bulk"
    call_command("export_fhir", output_dir=str(folder))
    names = sorted(path.name for path in folder.iterdir())
    assert "Patient.ndjson" in names and "MedicationAdministration.ndjson" in names
    for path in folder.iterdir():
        for line in path.read_text().splitlines():
            resource = json.loads(line)
            assert resource["resourceType"] + ".ndjson" == path.name
            _validate(resource)
    with pytest.raises(CommandError, match="--force"):
        call_command("export_fhir", output_dir=str(folder))
    call_command("export_fhir", output_dir=str(folder), force=True)


@pytest.mark.django_db(transaction=True)
def test_a_demo_patients_bundle_validates():
    call_command("seed_demo", patients=3, long_history=1, recall_uses=3, random_seed=7)
    treated = Patient.objects.filter(sessions__isnull=False).distinct()
    assert treated.exists()
    for patient in treated:
        bundle = patient_bundle(patient)
        _check_bundle(bundle)
        assert "Procedure" in _by_type(bundle)


@pytest.mark.parametrize(
    ("status", "codes"), [("none_known", ["716186003"]), ("not_asked", [])], ids=str
)
def test_no_known_allergy_is_exported_coded_and_never_asked_is_not(signed, status, codes):
    """ "None known" is an answer worth sending; "not asked yet" says nothing at all."""
    patient = signed.patient
    Patient.objects.filter(pk=patient.pk).update(allergy_status=status, allergies="")
    patient.refresh_from_db()
    bundle = patient_bundle(patient)
    _check_bundle(bundle)
    allergies = _by_type(bundle).get("AllergyIntolerance", [])
    assert [a["code"]["coding"][0]["code"] for a in allergies] == codes


def test_the_streamed_bundle_is_the_whole_bundle_in_however_many_chunks(rich, monkeypatch):
    from reports import fhir

    patient, _, _ = rich
    monkeypatch.setattr(fhir, "CHUNK_BYTES", 512)
    chunks = list(fhir.bundle_chunks(fhir.PatientRecord.read(patient)))
    assert len(chunks) > 3
    assert json.loads(b"".join(chunks)) == patient_bundle(patient)
