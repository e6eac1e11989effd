"""One patient's record as a FHIR R4 Bundle (type "collection"), as plain dicts.

Ids are uuid5 of our primary keys, so the same record always exports to the same ids and
every reference (urn:uuid:...) resolves within the Bundle. Draft sessions are exported
with status "in-progress"; signed ones "completed" with a DocumentReference to their PDF.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from operator import attrgetter, itemgetter

import orjson
from django.urls import reverse
from django.utils import translation

from patients.models import Patient
from treatments.models import Injection, InjectionLot, SideEffect, TreatmentSession

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


def _body_site(injection: dict) -> dict:
    return {"text": injection["region__label"], **_body_site_coding(injection["region__code"])}


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


def procedure_resource(injection: dict, session, techniques: dict) -> dict:
    """One zone injected: `injection` is a row of INJECTION_FIELDS."""
    return {
        "resourceType": "Procedure",
        "id": resource_id("Procedure", injection["id"]),
        "extension": [
            _extension("needle-length", injection["needle_length_mm"], "mm"),
            _extension("injection-depth", injection["depth_mm"], "mm"),
            {"url": f"{EXT}/needle-gauge", "valueInteger": injection["gauge"]},
            {"url": f"{EXT}/injection-points", "valueInteger": injection["points"]},
            {
                "url": f"{EXT}/technique",
                "valueCoding": {
                    "system": f"{CODES}/technique",
                    "code": injection["technique"],
                    "display": techniques[injection["technique"]],
                },
            },
        ],
        "status": "completed" if session.is_signed else "in-progress",
        "code": {"text": f"Mesotherapy: {injection['formula_name']}"},
        "subject": ref("Patient", session.patient_id),
        "performedDateTime": session.performed_at.isoformat(),
        "performer": [{"actor": ref("Practitioner", session.practitioner_id)}],
        "bodySite": [_body_site(injection)],
        "note": [{"text": f"{injection['region_label']}: {injection['volume_ml']} mL"}],
    }


def medication_resource(used: dict) -> dict:
    """One Medication per lot: the compound, with its lot number and expiry as the batch.
    `used` is a row of LOT_FIELDS."""
    return {
        "resourceType": "Medication",
        "id": resource_id("Medication", f"lot/{used['lot_id']}"),
        "identifier": [{"system": f"{CODES}/compound", "value": str(used["compound_id"])}],
        "code": {"text": used["compound_name"]},
        "batch": {
            "lotNumber": used["lot_number"],
            "expirationDate": used["lot_expiry"].isoformat(),
        },
    }


def administration_resource(used: dict, injection: dict, session) -> dict:
    """The compound given in one zone: amount per mL of the formula times the volume."""
    dose = injection["volume_ml"] * used["amount_per_ml"]
    return {
        "resourceType": "MedicationAdministration",
        "id": resource_id("MedicationAdministration", used["id"]),
        "status": "completed" if session.is_signed else "in-progress",
        "medicationReference": ref("Medication", f"lot/{used['lot_id']}"),
        "subject": ref("Patient", session.patient_id),
        "partOf": [ref("Procedure", injection["id"])],
        "effectiveDateTime": session.performed_at.isoformat(),
        "performer": [{"actor": ref("Practitioner", session.practitioner_id)}],
        "dosage": {
            "site": _body_site(injection),
            "route": {"text": "Intradermal / subcutaneous (mesotherapy)"},
            "dose": _quantity(dose.normalize(), used["amount_unit"]),
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


def side_effect_resource(effect, session, procedures: list[dict]) -> dict:
    resource = {
        "resourceType": "Observation",
        "id": resource_id("Observation", f"side-effect/{effect.pk}"),
        "status": "final",
        "code": {
            "coding": [{"system": f"{CODES}/side-effect", "code": effect.kind}],
            "text": effect.get_kind_display(),
        },
        "subject": ref("Patient", session.patient_id),
        "focus": [ref("Procedure", injection["id"]) for injection in procedures],
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


def document_resource(session, size: int, chart_number: str, procedures: list[dict]) -> dict:
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
                    "title": f"{chart_number}-session-{session.pk}.pdf",
                }
            }
        ],
        "context": {"related": [ref("Procedure", injection["id"]) for injection in procedures]},
    }


def _pdf_size(session) -> int | None:
    try:
        return session.pdf.size
    except (FileNotFoundError, ValueError, OSError):
        return None


# What the export reads of each injection and each lot used: plain rows, not models (a
# 200-session record has 1,200 injections and 2,400 lots: building a model for each, and
# asking each injection's choices for its label, was most of the export's time).
INJECTION_FIELDS = (
    "id",
    "session_id",
    "needle_length_mm",
    "depth_mm",
    "gauge",
    "points",
    "technique",
    "formula_name",
    "region_label",
    "volume_ml",
    "region__label",
    "region__code",
)
LOT_FIELDS = (
    "id",
    "injection_id",
    "lot_id",
    "compound_id",
    "compound_name",
    "lot_number",
    "lot_expiry",
    "amount_per_ml",
    "amount_unit",
)


def _grouped(rows, key) -> dict[int, list]:
    """`rows` by `key(row)`, each group in the rows' order."""
    groups: dict[int, list] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    return groups


@dataclass
class PatientRecord:
    """Everything one patient's export reads, read at once (a query per kind, joined
    through the patient rather than listing thousands of ids); the resources are then
    built one at a time from it, without the database."""

    patient: Patient
    consents: list
    measurements: list
    sessions: list
    injections: dict[int, list[dict]]
    lots: dict[int, list[dict]]
    effects: dict[int, list]

    @classmethod
    def read(cls, patient: Patient) -> "PatientRecord":
        of_patient = {"session__patient_id": patient.pk}
        return cls(
            patient=patient,
            consents=list(patient.consents.select_related("template").order_by("signed_on", "id")),
            measurements=list(patient.measurements.order_by("measured_on", "id")),
            sessions=list(
                TreatmentSession.objects.filter(patient_id=patient.pk)
                .select_related("practitioner")
                .order_by("performed_at", "id")
            ),
            injections=_grouped(
                Injection.objects.filter(**of_patient)
                .order_by("region__sort_order", "id")
                .values(*INJECTION_FIELDS),
                itemgetter("session_id"),
            ),
            lots=_grouped(
                InjectionLot.objects.filter(injection__session__patient_id=patient.pk)
                .order_by("compound__name", "id")
                .values(*LOT_FIELDS),
                itemgetter("injection_id"),
            ),
            effects=_grouped(
                SideEffect.objects.filter(**of_patient).order_by("onset", "id"),
                attrgetter("session_id"),
            ),
        )

    def resources(self) -> Iterator[dict]:
        """Every resource of the record, the Patient first."""
        patient = self.patient
        yield patient_resource(patient)
        yield from allergy_resources(patient)
        for consent in self.consents:
            yield consent_resource(consent)
        for measurement in self.measurements:
            yield measurement_resource(measurement)
        # A choice's label once per export, not once per injection.
        techniques = {
            code: str(label) for code, label in Injection._meta.get_field("technique").flatchoices
        }
        practitioners: dict = {}
        medications: dict = {}
        for session in self.sessions:
            practitioners.setdefault(session.practitioner_id, session.practitioner)
            procedures = self.injections.get(session.pk, [])
            for injection in procedures:
                yield procedure_resource(injection, session, techniques)
                for used in self.lots.get(injection["id"], []):
                    if used["lot_id"] not in medications:
                        medications[used["lot_id"]] = medication_resource(used)
                    yield administration_resource(used, injection, session)
            for effect in self.effects.get(session.pk, []):
                yield side_effect_resource(effect, session, procedures)
            if session.is_signed and session.pdf:
                size = _pdf_size(session)
                if size is not None:
                    yield document_resource(session, size, patient.chart_number, procedures)
        yield from medications.values()
        for user in practitioners.values():
            yield _practitioner(user)


def patient_resources(patient) -> Iterator[dict]:
    """Every resource of one patient's record, the Patient first."""
    return PatientRecord.read(patient).resources()


def bundle_json(bundle: dict) -> str:
    """The bundle as JSON text (orjson: compact, UTF-8, key order kept)."""
    return orjson.dumps(bundle).decode()


def patient_bundle(patient) -> dict:
    return {
        **_bundle_head(patient),
        "entry": [_entry(resource) for resource in patient_resources(patient)],
    }


def _bundle_head(patient) -> dict:
    return {"resourceType": "Bundle", "id": resource_id("Bundle", patient.pk), "type": "collection"}


def _entry(resource: dict) -> dict:
    return {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}


# What the streamed export hands the server at a time: about as much as one write takes.
CHUNK_BYTES = 64 * 1024


def bundle_chunks(record: PatientRecord) -> Iterator[bytes]:
    """The same Bundle as patient_bundle(), as JSON bytes built and encoded one resource
    at a time: a 200-session record (3.4 MB) never holds its 3,700 resources, nor the
    whole text, at once. The labels are those of the language active when it is read."""
    language = translation.get_language()
    with translation.override(language):
        head = orjson.dumps(_bundle_head(record.patient))
        chunk = bytearray(head[:-1] + b',"entry":[')
        for number, resource in enumerate(record.resources()):
            if number:
                chunk += b","
            chunk += orjson.dumps(_entry(resource))
            if len(chunk) >= CHUNK_BYTES:
                yield bytes(chunk)
                chunk.clear()
        chunk += b"]}"
        yield bytes(chunk)
