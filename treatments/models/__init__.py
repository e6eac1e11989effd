from treatments.models.catalogue import (
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

__all__ = [
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
