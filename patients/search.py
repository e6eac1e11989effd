"""Finding a patient from one search box: name, chart number, phone or birth date."""

import re
import unicodedata

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import TrigramWordSimilarity
from django.db import connection
from django.db.models import (
    Case,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Greatest, Lower

from patients.birth_dates import birth_date_filter
from patients.models import NameKeys, Patient, Unaccent

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

# A slip: two letters swapped, or one letter dropped, added or mistyped (two edits
# for a swap). A name word further from every typed word is no slip of it.
SLIP_EDITS = 2
# Typed words looked at for slips; with at most four, one word missing from a name
# (9 in mesochart_name_distance) is always beyond the tolerance of 2 edits a word.
MAX_WORDS = 4
ALPHABET = "abcdefghijklmnopqrstuvwxyz"
WORD_SPLIT = re.compile(r"[^0-9a-z]+")  # as mesochart_name_keys() splits search_name


def fold(text: str) -> str:
    """Lower-case and strip accents, as mesochart_unaccent(lower(...)) does in the database."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


def slip_keys(word: str) -> set[str]:
    """The keys (sorted letters, as mesochart_name_keys() makes them) of every word one
    slip from `word`: its own (letters swapped), one letter more (one was dropped), one
    fewer (one was added) and one other (one was mistyped). Short words get fewer: every
    two-letter word would be one slip from "ann"."""
    if len(word) < 3:
        return set()
    letters = sorted(word)
    keys = {"".join(letters)}
    keys |= {"".join(sorted(letters + [extra])) for extra in ALPHABET}
    if len(word) >= 4:
        fewer = {"".join(letters[:i] + letters[i + 1 :]) for i in range(len(letters))}
        keys |= fewer
        keys |= {"".join(sorted(shorter + extra)) for shorter in fewer for extra in ALPHABET}
    return keys


def _name_matches(patients: QuerySet[Patient], folded: str) -> QuerySet[Patient]:
    """Names close to `folded` by trigrams (partial words, small typos in long names), or
    within a slip of each typed word (a GIN lookup of slip_keys, then the edit distance);
    annotated with `rank`, 1 for an exact match."""
    words = [word for word in WORD_SPLIT.split(folded) if word][:MAX_WORDS]
    keys = sorted(set().union(*(slip_keys(word) for word in words)))
    similarity = TrigramWordSimilarity(folded, "search_name")
    close = Q(search_name__trigram_word_similar=folded)
    if not keys:
        return patients.filter(close).annotate(rank=similarity)
    distance = Func(
        F("search_name"),
        Value(words, output_field=ArrayField(TextField())),
        function="mesochart_name_distance",
        output_field=IntegerField(),
    )
    letters = sum(len(word) for word in words)
    slipped = Q(name_keys__overlap=keys, distance__lte=SLIP_EDITS * len(words))
    return (
        patients.alias(name_keys=NameKeys("search_name"), distance=distance)
        .filter(close | slipped)
        .annotate(
            # One swap in "nidaye" (6 letters, 2 edits) ranks as a word similarity of 0.67.
            rank=Greatest(
                similarity,
                Value(1.0) - Cast(distance, FloatField()) / Value(float(letters)),
            )
        )
    )


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

    born = birth_date_filter(fold(term))
    if born is not None:
        return patients.filter(born).order_by(*(ordering or SORTS["name"]))

    digits = re.sub(r"\D", "", term)
    if digits and len(digits) >= len(term.replace(" ", "")) - 3:
        # Mostly digits: a chart number ("MC-000123", "123") or a phone number; four
        # digits may also be a birth year: the chart number (one patient) comes first.
        chart = Q(chart_number=f"MC-{int(digits):06d}")
        match = chart
        if len(digits) >= 4:
            match |= Q(phone_digits__contains=digits)
        year = birth_date_filter(term, year_alone=True)
        if year is None:
            return patients.filter(match).order_by(*(ordering or SORTS["chart"]))
        chart_first = Case(When(chart, then=Value(0)), default=Value(1))
        return patients.filter(match | year).order_by(*(ordering or (chart_first, *SORTS["born"])))

    matches = _name_matches(patients, fold(term))
    if ordering:
        return matches.order_by(*ordering)
    return matches.order_by("-rank", *SORTS["name"])
