"""The formulary rule, in one place: what may be planned or injected where.

Used by treatment maps and by the session log. A compound may be used in a
jurisdiction only if it is active and listed there as permitted, or as restricted
with an acknowledgement and a note. Prohibited and unlisted compounds are refused.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from clinic.models import Jurisdiction
from treatments.models import Compound, Formula, FormularyRule


@dataclass
class Verdict:
    refused: list[str] = field(default_factory=list)
    restricted: list[str] = field(default_factory=list)  # messages with the admin's note

    @property
    def needs_acknowledgement(self) -> bool:
        return bool(self.restricted)

    @property
    def mark(self) -> str:
        """How a mixture dropdown marks the mixture: refused, restricted, or nothing."""
        if self.refused:
            return gettext("not allowed here")
        return gettext("restricted: acknowledgement needed") if self.restricted else ""

    def marked(self, name: str) -> str:
        """A mixture's name as its dropdown option: marked when refused or restricted."""
        mark = self.mark
        return f"{name} — {mark}" if mark else name


def assess(
    compounds: Iterable[Compound], jurisdiction: Jurisdiction, *, rules: dict | None = None
) -> Verdict:
    """What stands in the way of using these compounds in this jurisdiction.

    `rules`: the jurisdiction's rules by compound id (rules_for), loaded once for many
    checks; at least those of these compounds. Without it they are queried here."""
    compounds = list(compounds)
    if rules is None:
        rules = rules_for(jurisdiction, {compound.pk for compound in compounds})
    return _verdict(compounds, rules, jurisdiction)


def rules_for(jurisdiction: Jurisdiction, compound_ids: Iterable[int]) -> dict[int, FormularyRule]:
    """The jurisdiction's formulary rules on these compounds, by compound id."""
    return {
        rule.compound_id: rule
        for rule in FormularyRule.objects.filter(
            jurisdiction=jurisdiction, compound_id__in=set(compound_ids)
        )
    }


def assess_formulas(formulas: Iterable[Formula], jurisdiction: Jurisdiction) -> dict[int, Verdict]:
    """The verdict on each formula (ingredients prefetched), with one query for the rules:
    what a mixture dropdown shows before anything is chosen."""
    formulas = list(formulas)
    rules = rules_for(jurisdiction, (i.compound_id for f in formulas for i in f.ingredients.all()))
    return {f.pk: _verdict(formula_compounds(f), rules, jurisdiction) for f in formulas}


def _verdict(compounds: list[Compound], rules: dict, jurisdiction: Jurisdiction) -> Verdict:
    verdict = Verdict()
    where = f"{jurisdiction.name} ({jurisdiction.code})"
    for compound in compounds:
        rule = rules.get(compound.pk)
        names = {"compound": compound.name, "where": where}
        if not compound.active:
            verdict.refused.append(
                gettext("%(compound)s is inactive in the catalogue.") % {"compound": compound.name}
            )
        elif rule is None:
            verdict.refused.append(
                gettext(
                    "%(compound)s is not on the formulary of %(where)s; a catalogue "
                    "administrator must list it first."
                )
                % names
            )
        elif rule.status == FormularyRule.Status.PROHIBITED:
            verdict.refused.append(gettext("%(compound)s is prohibited in %(where)s.") % names)
        elif rule.status == FormularyRule.Status.RESTRICTED and rule.note:
            verdict.restricted.append(
                gettext("%(compound)s is restricted in %(where)s (%(note)s).")
                % {**names, "note": rule.note}
            )
        elif rule.status == FormularyRule.Status.RESTRICTED:
            verdict.restricted.append(gettext("%(compound)s is restricted in %(where)s.") % names)
    return verdict


def formula_compounds(formula: Formula) -> list[Compound]:
    return [ingredient.compound for ingredient in formula.ingredients.all()]


def check(
    compounds: Iterable[Compound],
    jurisdiction: Jurisdiction,
    *,
    acknowledged: bool,
    note: str,
    rules: dict | None = None,
) -> Verdict:
    """Raise ValidationError with one message per problem; return the verdict otherwise.
    `rules` as for assess()."""
    verdict = assess(compounds, jurisdiction, rules=rules)
    errors = list(verdict.refused)
    if verdict.needs_acknowledgement and not (acknowledged and note.strip()):
        errors += [
            gettext("%(problem)s Tick the acknowledgement and write a note to go ahead.")
            % {"problem": message}
            for message in verdict.restricted
        ]
    if errors:
        raise ValidationError(errors)
    return verdict
