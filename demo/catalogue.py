"""The catalogue seed_demo draws from: the demo catalogue of ensure_demo_catalogue, widened
to every indication (mixtures, a second clinic in another jurisdiction, a lot of each
compound per year). Everything is labelled DEMO and added only where it is missing."""

import io
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.management import call_command
from django.db import transaction

from clinic.models import Jurisdiction, Location
from patients.models import ConsentKind, ConsentTemplate
from treatments.models import (
    Compound,
    CompoundCategory,
    CompoundLot,
    Formula,
    FormulaIngredient,
    FormularyRule,
    Indication,
)

RECALL_LOT = "DEMO-RECALL-1"
RECALL_COMPOUND = "DEMO Caffeine"
# The recall lot was received this long before the run and is used from then on.
RECALL_WINDOW_DAYS = 4 * 365

# name, category code, concentration, unit, off-label
COMPOUNDS = [
    ("DEMO Phosphatidylcholine", "pharmaceutical", "50", "mg/mL", False),
    ("DEMO Caffeine", "pharmaceutical", "250", "mg/mL", False),
    ("DEMO L-carnitine", "amino_acid", "200", "mg/mL", False),
    ("DEMO Cynara scolymus", "homeopathic", "4", "dil", False),
    ("DEMO Organic silicon", "mineral", "0.5", "%", False),
    ("DEMO Hyaluronic acid (non cross-linked)", "other", "10", "mg/mL", False),
    ("DEMO Ascorbic acid (vitamin C)", "vitamin", "100", "mg/mL", False),
    ("DEMO Procaine", "pharmaceutical", "2", "%", False),
    ("DEMO Piroxicam", "pharmaceutical", "20", "mg/mL", True),
]

# name, indication code, [(compound, amount per mL, unit)]
FORMULAS = [
    (
        "DEMO lipolytic mixture",
        "localized_fat",
        [
            ("DEMO Phosphatidylcholine", "25", "mg"),
            ("DEMO Caffeine", "50", "mg"),
            ("DEMO L-carnitine", "100", "mg"),
        ],
    ),
    (
        "DEMO cellulite mixture",
        "cellulite",
        [("DEMO Caffeine", "50", "mg"), ("DEMO Cynara scolymus", "0.5", "mL")],
    ),
    (
        "DEMO weight-loss mixture",
        "weight_loss",
        [("DEMO L-carnitine", "100", "mg"), ("DEMO Caffeine", "25", "mg")],
    ),
    (
        "DEMO revitalising face mixture",
        "anti_aging",
        [
            ("DEMO Hyaluronic acid (non cross-linked)", "5", "mg"),
            ("DEMO Ascorbic acid (vitamin C)", "20", "mg"),
        ],
    ),
    (
        "DEMO wrinkle mixture",
        "wrinkles_face_lift",
        [
            ("DEMO Hyaluronic acid (non cross-linked)", "8", "mg"),
            ("DEMO Organic silicon", "0.3", "mL"),
        ],
    ),
    (
        "DEMO pain mixture",
        "chronic_pain",
        [("DEMO Procaine", "0.5", "mL"), ("DEMO Piroxicam", "10", "mg")],
    ),
    ("DEMO procaine-only pain mixture", "chronic_pain", [("DEMO Procaine", "0.5", "mL")]),
    (
        "DEMO repair mixture",
        "injury_repair",
        [("DEMO Procaine", "0.5", "mL"), ("DEMO Organic silicon", "0.5", "mL")],
    ),
]

# code, name, location, address, phone
PLACES = [
    ("CA-QC", "Québec", "DEMO clinic", "1 rue de la Démo\nMontréal QC", "514-555-0100"),
    ("CA-ON", "Ontario", "DEMO clinic Ottawa", "2 Demo Street\nOttawa ON", "613-555-0100"),
]
# Restricted where listed: an injection of it there carries an acknowledgement and a note.
RESTRICTED = {("CA-ON", "DEMO Piroxicam")}
RESTRICTED_NOTE = "NSAID: short course, gastric history checked with the patient."

CONSENT_WHAT = {
    ConsentKind.TREATMENT: "mesotherapy treatment as explained to me",
    ConsentKind.PHOTOGRAPHY: "photographs of the treated areas for my record",
    ConsentKind.OFF_LABEL: "the off-label use of the compounds and mixtures planned",
}
# The same wordings in Canadian French (a new consent version carries both).
CONSENT_FR = {
    ConsentKind.TREATMENT: (
        "Consentement au traitement",
        "Je consens au traitement de mésothérapie tel qu'il m'a été expliqué, y compris "
        "ses effets indésirables attendus (rougeurs, ecchymoses, sensibilité).",
    ),
    ConsentKind.PHOTOGRAPHY: (
        "Consentement aux photographies",
        "Je consens à ce que les régions traitées soient photographiées pour mon dossier.",
    ),
    ConsentKind.OFF_LABEL: (
        "Consentement à l'usage hors indication",
        "Je consens à l'usage hors indication des produits et des mélanges prévus.",
    ),
}


@dataclass
class Catalogue:
    """What the generator needs, as plain ids and values (no queries per row)."""

    locations: list  # (location id, jurisdiction code)
    formulas: dict  # indication code -> [(formula id, name, [(compound id, name, amount, unit)])]
    off_label_compounds: set
    restricted: set  # (jurisdiction code, compound id)
    lots: dict  # (compound id, year) -> (lot id, lot number, expiry)
    recall: tuple  # (lot id, compound id, lot number, expiry, first day)
    templates: dict  # consent kind -> template id
    indications: dict  # code -> id


def _lot(compound, number, received, expiry) -> CompoundLot:
    lot, _ = CompoundLot.objects.get_or_create(
        compound=compound,
        lot_number=number,
        defaults={"expiry_date": expiry, "received_on": received, "supplier": "Demo supplier"},
    )
    return lot


@transaction.atomic
def ensure_catalogue(*, first_year: int, today: date) -> Catalogue:
    call_command("ensure_demo_catalogue", stdout=open_null())
    locations = []
    for code, name, location_name, address, phone in PLACES:
        jurisdiction, _ = Jurisdiction.objects.get_or_create(code=code, defaults={"name": name})
        location, _ = Location.objects.get_or_create(
            name=location_name,
            defaults={"address": address, "phone": phone, "jurisdiction": jurisdiction},
        )
        locations.append((location.pk, location.jurisdiction.code))
    compounds = {}
    for name, category, strength, unit, off_label in COMPOUNDS:
        compounds[name], _ = Compound.objects.get_or_create(
            name=name,
            defaults={
                "category": CompoundCategory.objects.get(code=category),
                "concentration": strength,
                "unit": unit,
                "off_label": off_label,
                "notes": "Demo only.",
            },
        )
    restricted = set()
    for location_id, code in locations:
        jurisdiction = Location.objects.get(pk=location_id).jurisdiction
        for name, compound in compounds.items():
            status = "restricted" if (code, name) in RESTRICTED else "permitted"
            rule, _ = FormularyRule.objects.get_or_create(
                jurisdiction=jurisdiction, compound=compound, defaults={"status": status}
            )
            if rule.status == "restricted":
                restricted.add((code, compound.pk))
    indications = dict(Indication.objects.values_list("code", "pk"))
    formulas: dict = {}
    for name, indication, ingredients in FORMULAS:
        formula, _ = Formula.objects.get_or_create(
            name=name, defaults={"indication_id": indications[indication], "notes": "Demo only."}
        )
        rows = []
        for compound_name, amount, unit in ingredients:
            ingredient, _ = FormulaIngredient.objects.get_or_create(
                formula=formula,
                compound=compounds[compound_name],
                defaults={"amount_per_ml": amount, "unit": unit},
            )
            compound = compounds[compound_name]
            rows.append((compound.pk, compound.name, ingredient.amount_per_ml, ingredient.unit))
        formulas.setdefault(indication, []).append((formula.pk, formula.name, rows))
    lots = {}
    for name, compound in compounds.items():
        short = "".join(w[0] for w in name.replace("DEMO ", "").split()).upper()
        for year in range(first_year, today.year + 1):
            # A lot a year, usable until the end of the next: each session finds its lot.
            lot = _lot(
                compound,
                f"DEMO-{short}{compound.pk}-{year}",
                date(year, 1, 1),
                date(year + 1, 12, 31),
            )
            lots[(compound.pk, year)] = (lot.pk, lot.lot_number, lot.expiry_date)
    first_day = today - timedelta(days=RECALL_WINDOW_DAYS)
    recall = _lot(compounds[RECALL_COMPOUND], RECALL_LOT, first_day, today + timedelta(days=180))
    templates = {}
    for kind, what in CONSENT_WHAT.items():
        current = ConsentTemplate.objects.current().filter(kind=kind).first()
        if current is None:
            current = ConsentTemplate.objects.create(
                kind=kind,
                title=f"DEMO {kind.label} consent",
                text=f"DEMO WORDING, not for clinical use.\n\nI consent to {what}.",
                title_fr=f"DÉMO {CONSENT_FR[kind][0]}",
                text_fr="LIBELLÉ DE DÉMONSTRATION, non destiné à l'usage clinique.\n\n"
                + CONSENT_FR[kind][1],
            )
        templates[kind] = current.pk
    return Catalogue(
        locations=locations,
        formulas=formulas,
        off_label_compounds={c.pk for c in compounds.values() if c.off_label},
        restricted=restricted,
        lots=lots,
        recall=(recall.pk, recall.compound_id, recall.lot_number, recall.expiry_date, first_day),
        templates=templates,
        indications=indications,
    )


def open_null():
    return io.StringIO()
