"""Finding a patient from one search box: name, chart number, phone or birth date."""

import re
import unicodedata

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
from django.db.models.functions import Cast, Least, Lower
from django.db.models.lookups import LessThanOrEqual

from patients.birth_dates import birth_date_filter
from patients.models import Patient, Unaccent, chart_number_for

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
# Typed words looked at for slips, and the words of a name they are compared with.
MAX_WORDS = 4
NAME_WORDS = 4
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


def _name_word(number: int) -> Func:
    """The number-th word of search_name ('' past the last), hyphens and apostrophes
    counting as spaces, as mesochart_name_keys() splits them."""
    spaced = Func(F("search_name"), Value("-'"), Value("  "), function="translate")
    return Func(spaced, Value(" "), Value(number), function="split_part", output_field=TextField())


def _slip(word: str) -> Least:
    """Edits from `word` to the closest of the first NAME_WORDS words of the name;
    levenshtein_less_equal stops counting past SLIP_EDITS (plain expressions, no
    function call per row: only the rows the key index found are measured)."""
    return Least(
        *(
            Func(
                Value(word),
                _name_word(number),
                Value(SLIP_EDITS),
                function="levenshtein_less_equal",
                output_field=IntegerField(),
            )
            for number in range(1, NAME_WORDS + 1)
        )
    )


def _name_matches(patients: QuerySet[Patient], folded: str) -> QuerySet[Patient]:
    """Names close to `folded` by trigrams (partial words, small typos in long names), or
    with every typed word within a slip of a word of the name (a GIN lookup of
    slip_keys, then the edit distance); annotated with `rank`, 1 for an exact match."""
    words = [word for word in WORD_SPLIT.split(folded) if word][:MAX_WORDS]
    # A key of each typed word's neighbours must be in the name: the index intersects
    # them (all the Maries and all the Tremblays are not measured for "marie tremblay").
    near_each_word = [Q(name_keys__overlap=sorted(keys)) for keys in map(slip_keys, words) if keys]
    similarity = TrigramWordSimilarity(folded, "search_name")
    # Every typed word close to a word of the name, not the whole term to a part of it:
    # "chloe murray" as one string is 0.46 word-similar to every Chloe (the trigrams of
    # "chloe" are half of it), thousands of rows over 100,000 patients, each ranked. Word
    # by word, the trigram index intersects the words' matches (one bitmap AND).
    close = Q(*(Q(search_name__trigram_word_similar=word) for word in words or [folded]))
    if not near_each_word:
        return patients.filter(close).annotate(rank=similarity)
    slips = [_slip(word) for word in words]
    each_word_within_a_slip = [LessThanOrEqual(slip, SLIP_EDITS) for slip in slips]
    # One swap in "nidaye" (6 letters, 2 edits) ranks as a word similarity of 0.67.
    edits = sum(slips[1:], slips[0])
    slip_rank = Value(1.0) - Cast(edits, FloatField()) / Value(float(sum(map(len, words))))
    return patients.filter(close | Q(*near_each_word, *each_word_within_a_slip)).annotate(
        rank=Case(When(close, then=similarity), default=slip_rank)
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
        chart = Q(chart_number=chart_number_for(int(digits)))
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
