"""Finding a patient from one search box: name, chart number, phone or birth date."""

import re
import unicodedata
from datetime import date, datetime

from django.contrib.postgres.search import TrigramWordSimilarity
from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from patients.models import Patient, Unaccent

# Lower than pg_trgm's default (0.6) so that a one-letter slip in a short
# name ("Gagnin" for "Gagnon") still finds it; ranking puts exact matches first.
WORD_SIMILARITY_THRESHOLD = 0.45

# The only orderings a request can ask for. Anything else is ignored.
SORTS: dict[str, tuple] = {
    # Case and accents ignored: "de La Tour" and "Élisée" file with the others
    # (index: patient_name_order).
    "name": (Unaccent(Lower("last_name")), Unaccent(Lower("first_name")), "id"),
    "-name": (
        Unaccent(Lower("last_name")).desc(),
        Unaccent(Lower("first_name")).desc(),
        "-id",
    ),
    "chart": ("chart_number",),
    "-chart": ("-chart_number",),
    "born": ("date_of_birth", "id"),
    "-born": ("-date_of_birth", "-id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
}

DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y")


def fold(text: str) -> str:
    """Lower-case and strip accents, as mesochart_unaccent(lower(...)) does in the database."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


def _as_date(term: str) -> date | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(term, fmt).date()
        except ValueError:
            continue
    return None


def use_search_threshold() -> None:
    """Set the typo tolerance for the current transaction (call inside atomic())."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)",
            [str(WORD_SIMILARITY_THRESHOLD)],
        )


def search_patients(
    term: str, *, include_archived: bool = False, sort: str | None = None
) -> QuerySet[Patient]:
    """Patients matching `term`, best match first unless an allowed `sort` is given.

    Name matching needs use_search_threshold() in the same transaction.
    """
    patients = Patient.objects.all() if include_archived else Patient.objects.active()
    term = (term or "").strip()[:100]
    ordering = SORTS.get(sort or "")
    if not term:
        return patients.order_by(*(ordering or SORTS["name"]))

    born = _as_date(term)
    if born is not None:
        return patients.filter(date_of_birth=born).order_by(*(ordering or SORTS["name"]))

    digits = re.sub(r"\D", "", term)
    if digits and len(digits) >= len(term.replace(" ", "")) - 3:
        # Mostly digits: a chart number ("MC-000123", "123") or a phone number.
        match = Q(chart_number=f"MC-{int(digits):06d}")
        if len(digits) >= 4:
            match |= Q(phone_digits__contains=digits)
        return patients.filter(match).order_by(*(ordering or SORTS["chart"]))

    folded = fold(term)
    matches = patients.filter(search_name__trigram_word_similar=folded)
    if ordering:
        return matches.order_by(*ordering)
    return matches.annotate(rank=TrigramWordSimilarity(folded, "search_name")).order_by(
        "-rank", *SORTS["name"]
    )
