"""One patient's record as a FHIR R4 Bundle (type "collection"), as plain dicts.

Ids are uuid5 of our primary keys, so the same record always exports to the same ids and
every reference (urn:uuid:...) resolves within the Bundle. Draft sessions are exported
with status "in-progress"; signed ones "completed" with a DocumentReference to their PDF.
"""

import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from functools import lru_cache

from django.urls import reverse

from treatments.models import TreatmentSession

BASE = "https://mesochart.example/fhir"
CHART_SYSTEM = f"{BASE}/chart-number"
EXT = f"{BASE}/StructureDefinition"
CODES = f"{BASE}/CodeSystem"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, BASE)

# Region code -> SNOMED CT body structure. Each code and display was cross-checked against
# public SNOMED CT mappings (FHIR implementation guides, DICOM CID 4031 tables), not against
# a terminology server (none is reachable here); "cheek" is the least attested (60819002 is
# also displayed as "Buccal region of face"). Laterality stays in bodySite.text. Regions
# absent here (back, around the eyes, folds, jawline, décolleté...) are text only.
BODY_SITES = {
    "arm": ("40983000", "Upper arm structure"),
    "abdomen": ("113345001", "Abdominal structure"),
    "flank": ("58602004", "Flank structure"),
    "thigh": ("68367000", "Thigh structure"),
    "knee": ("72696002", "Knee region structure"),
    "shoulder": ("16982005", "Shoulder region structure"),
    "elbow": ("127949000", "Elbow region structure"),
    "buttock": ("46862004", "Buttock structure"),
    "forehead": ("52795006", "Forehead structure"),
    "cheek": ("60819002", "Cheek structure"),
    "neck_front": ("45048000", "Neck structure"),
}

# Our units -> UCUM.
UCUM_UNITS = {
    "mg": "mg",
    "mcg": "ug",
    "mL": "mL",
    "IU": "[IU]",
    "%": "%",
    "cm": "cm",
    "mm": "mm",
    "kg": "kg",
}

GENDER = {"F": "female", "M": "male", "X": "other"}


@lru_cache(maxsize=16384)
def resource_id(kind: str, pk) -> str:
    """Each record's id, made once: a 200-session record names its patient, practitioner
    and lots thousands of times (20,217 uuid5 calls for one export before)."""
    return str(uuid.uuid5(NAMESPACE, f"{kind}/{pk}"))


def ref(kind: str, pk) -> dict:
    return {"reference": f"urn:uuid:{resource_id(kind, pk)}"}


def _quantity(value: Decimal, unit: str) -> dict:
    code = UCUM_UNITS.get(unit)
    quantity = {"value": float(value), "unit": unit}
    if code:
        quantity.update(system=UCUM, code=code)
    return quantity


def _body_site(region) -> dict:
    return {"text": region.label, **_body_site_coding(region.code)}


@lru_cache(maxsize=256)
def _body_site_coding(region_code: str) -> dict:
    """The SNOMED CT coding of a region, found once per region (not per injection)."""
    for prefix, (code, display) in BODY_SITES.items():
        if region_code == prefix or region_code.startswith(prefix + "_"):
            if prefix == "neck_front" and region_code != "neck_front":
                continue
            return {"coding": [{"system": SNOMED, "code": code, "display": display}]}
    return {}


def patient_resource(patient) -> dict:
    resource = {
        "resourceType": "Patient",
        "id": resource_id("Patient", patient.pk),
        "identifier": [{"system": CHART_SYSTEM, "value": patient.chart_number}],
        "active": not patient.archived,
        "name": [{"family": patient.last_name, "given": [patient.first_name]}],
        "gender": GENDER.get(patient.sex, "unknown"),
        "birthDate": patient.date_of_birth.isoformat(),
    }
    telecom = []
    if patient.phone:
        telecom.append({"system": "phone", "value": patient.phone})
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    if telecom:
        resource["telecom"] = telecom
    if patient.address:
        resource["address"] = [{"text": patient.address}]
    language = getattr(patient, "preferred_language", "") or ""
    if language:
        resource["communication"] = [
            {
                "language": {
                    "coding": [{"system": "urn:ietf:bcp:47", "code": language}],
                    "text": language,
                },
                "preferred": True,
            }
        ]
    return resource


# SNOMED CT 716186003 "No known allergy": the coded answer FHIR expects for "none known".
NO_KNOWN_ALLERGY = {
    "system": "http://snomed.info/sct",
    "code": "716186003",
    "display": "No known allergy",
}


def allergy_resources(patient) -> Iterator[dict]:
    """One AllergyIntolerance per line of the allergies field (free text, not coded); one
    coded "No known allergy" when that was the answer; none when never asked."""
    if patient.allergy_status == "none_known":
        yield {
            "resourceType": "AllergyIntolerance",
            "id": resource_id("AllergyIntolerance", f"{patient.pk}/none"),
            "clinicalStatus": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                        "code": "active",
                    }
                ]
            },
            "code": {"coding": [NO_KNOWN_ALLERGY], "text": NO_KNOWN_ALLERGY["display"]},
            "patient": ref("Patient", patient.pk),
        }
        return
    lines = [line.strip() for line in patient.allergies.splitlines() if line.strip()]
    for number, text in enumerate(lines, start=1):
        yield {
            "resourceType": "AllergyIntolerance",
            "id": resource_id("AllergyIntolerance", f"{patient.pk}/{number}"),
            "clinicalStatus": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                        "code": "active",
                    }
                ]
            },
            "code": {"text": text},
            "patient": ref("Patient", patient.pk),
        }


def consent_resource(consent) -> dict:
    template = consent.template
    return {
        "resourceType": "Consent",
        "id": resource_id("Consent", consent.pk),
        "status": "inactive" if consent.withdrawn_at else "active",
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "treatment",
                }
            ]
        },
        "category": [
            {
                "coding": [{"system": f"{CODES}/consent-kind", "code": template.kind}],
                "text": template.get_kind_display(),
            }
        ],
        "patient": ref("Patient", consent.patient_id),
        "dateTime": consent.signed_on.isoformat(),
        "policy": [{"uri": f"{BASE}/consent-template/{template.kind}/v{template.version}"}],
        "policyRule": {"text": f"{template.title}, version {template.version}"},
    }


def _practitioner(user) -> dict:
    return {
        "resourceType": "Practitioner",
        "id": resource_id("Practitioner", user.pk),
        "name": [{"text": user.get_full_name() or user.get_username()}],
    }


def _extension(name: str, value: Decimal, unit: str) -> dict:
    return {"url": f"{EXT}/{name}", "valueQuantity": _quantity(value, unit)}


def procedure_resource(injection, session) -> dict:
    return {
        "resourceType": "Procedure",
        "id": resource_id("Procedure", injection.pk),
        "extension": [
            _extension("needle-length", injection.needle_length_mm, "mm"),
            _extension("injection-depth", injection.depth_mm, "mm"),
            {"url": f"{EXT}/needle-gauge", "valueInteger": injection.gauge},
            {"url": f"{EXT}/injection-points", "valueInteger": injection.points},
            {
                "url": f"{EXT}/technique",
                "valueCoding": {
                    "system": f"{CODES}/technique",
                    "code": injection.technique,
                    "display": injection.get_technique_display(),
                },
            },
        ],
        "status": "completed" if session.is_signed else "in-progress",
        "code": {"text": f"Mesotherapy: {injection.formula_name}"},
        "subject": ref("Patient", session.patient_id),
        "performedDateTime": session.performed_at.isoformat(),
        "performer": [{"actor": ref("Practitioner", session.practitioner_id)}],
        "bodySite": [_body_site(injection.region)],
        "note": [{"text": f"{injection.region_label}: {injection.volume_ml} mL"}],
    }


def medication_resource(used) -> dict:
    """One Medication per lot: the compound, with its lot number and expiry as the batch."""
    return {
        "resourceType": "Medication",
        "id": resource_id("Medication", f"lot/{used.lot_id}"),
        "identifier": [{"system": f"{CODES}/compound", "value": str(used.compound_id)}],
        "code": {"text": used.compound_name},
        "batch": {"lotNumber": used.lot_number, "expirationDate": used.lot_expiry.isoformat()},
    }


def administration_resource(used, injection, session) -> dict:
    """The compound given in one zone: amount per mL of the formula times the volume."""
    dose = injection.volume_ml * used.amount_per_ml
    return {
        "resourceType": "MedicationAdministration",
        "id": resource_id("MedicationAdministration", used.pk),
        "status": "completed" if session.is_signed else "in-progress",
        "medicationReference": ref("Medication", f"lot/{used.lot_id}"),
        "subject": ref("Patient", session.patient_id),
        "partOf": [ref("Procedure", injection.pk)],
        "effectiveDateTime": session.performed_at.isoformat(),
        "performer": [{"actor": ref("Practitioner", session.practitioner_id)}],
        "dosage": {
            "site": _body_site(injection.region),
            "route": {"text": "Intradermal / subcutaneous (mesotherapy)"},
            "dose": _quantity(dose.normalize(), used.amount_unit),
        },
    }


def measurement_resource(measurement) -> dict:
    return {
        "resourceType": "Observation",
        "id": resource_id("Observation", f"measurement/{measurement.pk}"),
        "status": "final",
        "code": {"text": f"Measurement: {measurement.site}"},
        "subject": ref("Patient", measurement.patient_id),
        "effectiveDateTime": measurement.measured_on.isoformat(),
        "valueQuantity": _quantity(measurement.value, measurement.unit),
        "bodySite": {"text": measurement.site},
    }


def side_effect_resource(effect, session) -> dict:
    resource = {
        "resourceType": "Observation",
        "id": resource_id("Observation", f"side-effect/{effect.pk}"),
        "status": "final",
        "code": {
            "coding": [{"system": f"{CODES}/side-effect", "code": effect.kind}],
            "text": effect.get_kind_display(),
        },
        "subject": ref("Patient", session.patient_id),
        "focus": [ref("Procedure", i.pk) for i in session.injections.all()],
        "effectivePeriod": {"start": effect.onset.isoformat()},
        "valueCodeableConcept": {
            "coding": [{"system": f"{CODES}/severity", "code": effect.severity}],
            "text": effect.get_severity_display(),
        },
    }
    if effect.resolved_at:
        resource["effectivePeriod"]["end"] = effect.resolved_at.isoformat()
    if effect.notes:
        resource["note"] = [{"text": effect.notes}]
    return resource


def document_resource(session, size: int) -> dict:
    """The signed summary. R4's attachment.hash is SHA-1: our SHA-256 goes in an extension."""
    return {
        "resourceType": "DocumentReference",
        "id": resource_id("DocumentReference", session.pk),
        "status": "current",
        "type": {"text": "Mesotherapy session summary (signed)"},
        "subject": ref("Patient", session.patient_id),
        "date": session.signed_at.isoformat(),
        "author": [ref("Practitioner", session.practitioner_id)],
        "content": [
            {
                "attachment": {
                    "extension": [{"url": f"{EXT}/sha256", "valueString": session.pdf_sha256}],
                    "contentType": "application/pdf",
                    "url": reverse("treatments:session_pdf", args=[session.pk]),
                    "size": size,
                    "title": f"{session.patient.chart_number}-session-{session.pk}.pdf",
                }
            }
        ],
        "context": {"related": [ref("Procedure", i.pk) for i in session.injections.all()]},
    }


def _pdf_size(session) -> int | None:
    try:
        return session.pdf.size
    except (FileNotFoundError, ValueError, OSError):
        return None


def patient_resources(patient) -> Iterator[dict]:
    """Every resource of one patient's record, the Patient first."""
    yield patient_resource(patient)
    yield from allergy_resources(patient)
    for consent in patient.consents.select_related("template").order_by("signed_on", "id"):
        yield consent_resource(consent)
    for measurement in patient.measurements.order_by("measured_on", "id"):
        yield measurement_resource(measurement)
    sessions = (
        TreatmentSession.objects.filter(patient=patient)
        .select_related("practitioner", "patient")
        .prefetch_related("injections__region", "injections__lots", "side_effects")
        .order_by("performed_at", "id")
    )
    practitioners: dict = {}
    medications: dict = {}
    for session in sessions:
        practitioners.setdefault(session.practitioner_id, session.practitioner)
        for injection in session.injections.all():
            yield procedure_resource(injection, session)
            for used in injection.lots.all():
                medications.setdefault(used.lot_id, medication_resource(used))
                yield administration_resource(used, injection, session)
        for effect in session.side_effects.all():
            yield side_effect_resource(effect, session)
        if session.is_signed and session.pdf:
            size = _pdf_size(session)
            if size is not None:
                yield document_resource(session, size)
    yield from medications.values()
    for user in practitioners.values():
        yield _practitioner(user)


def bundle_json(bundle: dict) -> str:
    """The bundle as JSON text, by the standard library's C encoder: indenting falls back
    to the pure-Python one (about half the export's time for a long record)."""
    return json.dumps(bundle, ensure_ascii=False, separators=(",", ":"))


def patient_bundle(patient) -> dict:
    return {
        "resourceType": "Bundle",
        "id": resource_id("Bundle", patient.pk),
        "type": "collection",
        "entry": [
            {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}
            for resource in patient_resources(patient)
        ],
    }
