from treatments.models.catalogue import (
    MAX_VOLUME_PER_ZONE_ML,
    BodyRegion,
    Compound,
    CompoundCategory,
    CompoundLot,
    Formula,
    FormulaIngredient,
    FormularyRule,
    Indication,
    NeedleRule,
)
from treatments.models.maps import MapZone, TreatmentMap
from treatments.models.sessions import (
    Amendment,
    Checklist,
    Injection,
    InjectionLot,
    SideEffect,
    TreatmentSession,
)

__all__ = [
    "MAX_VOLUME_PER_ZONE_ML",
    "Amendment",
    "Checklist",
    "Injection",
    "InjectionLot",
    "SideEffect",
    "TreatmentSession",
    "BodyRegion",
    "Compound",
    "CompoundCategory",
    "CompoundLot",
    "Formula",
    "FormulaIngredient",
    "FormularyRule",
    "Indication",
    "MapZone",
    "NeedleRule",
    "TreatmentMap",
]
