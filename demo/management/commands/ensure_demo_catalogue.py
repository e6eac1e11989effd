"""A small demo catalogue for trying MesoChart, loaded only into an empty one.

`make run` calls it so a new user can map a zone and log a session at once.
Everything it adds is labelled DEMO; replace it in the console before clinical use.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from clinic.models import Jurisdiction, Location
from demo.catalogue import CONSENT_FR, CONSENT_WHAT
from patients.models import ConsentTemplate
from treatments.models import (
    Compound,
    CompoundCategory,
    CompoundLot,
    Formula,
    FormulaIngredient,
    FormularyRule,
    Indication,
)

COMPOUNDS = [
    # name, category code, concentration, unit, amount per mL of the mixture, unit
    ("DEMO Phosphatidylcholine", "pharmaceutical", "50", "mg/mL", "25", "mg"),
    ("DEMO Caffeine", "pharmaceutical", "250", "mg/mL", "50", "mg"),
    ("DEMO L-carnitine", "amino_acid", "200", "mg/mL", "100", "mg"),
]

CONSENT_TEXT = (
    "DEMO WORDING, not for clinical use: replace it in the console (Consent templates) "
    "with your clinic's approved text.\n\nI consent to {what}."
)
# The same in Canadian French: a consent version carries both (the console requires them).
CONSENT_TEXT_FR = (
    "LIBELLÉ DE DÉMONSTRATION, non destiné à l'usage clinique\u00a0: remplacez-le dans la "
    "console (Modèles de consentement) par le texte approuvé de votre clinique.\n\n{what}"
)


class Command(BaseCommand):
    help = "Load a labelled demo catalogue if the catalogue is empty."

    @transaction.atomic
    def handle(self, *args, **options):
        if Location.objects.exists() or Compound.objects.exists():
            return
        quebec, _ = Jurisdiction.objects.get_or_create(code="CA-QC", defaults={"name": "Québec"})
        Location.objects.create(
            name="DEMO clinic",
            address="1 rue de la Démo\nMontréal QC",
            phone="514-555-0100",
            jurisdiction=quebec,
        )
        formula = Formula.objects.create(
            name="DEMO lipolytic mixture",
            indication=Indication.objects.get(code="localized_fat"),
            notes="Demo only.",
        )
        expiry = timezone.localdate() + timedelta(days=365)
        for name, category, strength, unit, per_ml, per_ml_unit in COMPOUNDS:
            compound = Compound.objects.create(
                name=name,
                category=CompoundCategory.objects.get(code=category),
                concentration=strength,
                unit=unit,
                notes="Demo only.",
            )
            CompoundLot.objects.create(
                compound=compound,
                lot_number=f"DEMO-{compound.pk:03d}",
                expiry_date=expiry,
                # Delivered a season ago: sessions logged late can use it too.
                received_on=timezone.localdate() - timedelta(days=90),
                supplier="Demo supplier",
            )
            FormularyRule.objects.create(jurisdiction=quebec, compound=compound, status="permitted")
            FormulaIngredient.objects.create(
                formula=formula, compound=compound, amount_per_ml=per_ml, unit=per_ml_unit
            )
        for kind, what in CONSENT_WHAT.items():
            title_fr, text_fr = CONSENT_FR[kind]
            ConsentTemplate.objects.create(
                kind=kind,
                title=f"DEMO {kind.label} consent",
                text=CONSENT_TEXT.format(what=what),
                title_fr=f"DÉMO {title_fr}",
                text_fr=CONSENT_TEXT_FR.format(what=text_fr),
            )
        self.stdout.write(
            "Loaded a DEMO catalogue (a clinic in CA-QC, 3 compounds, 1 mixture, consent "
            "wordings) so you can try a map and a session; replace it before clinical use."
        )
