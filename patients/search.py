"""Finding a patient from one search box: name, chart number, phone or birth date."""

import re
import unicodedata
from functools import lru_cache

from django.db import connection, transaction
from django.db.models import Case, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL

from patients.birth_dates import birth_date_filter
from patients.models import Patient, chart_number_for

# Lower than pg_trgm's default (0.6) so that a one-letter slip in a short
# name ("Gagnin" for "Gagnon") still finds it; ranking puts exact matches first.
WORD_SIMILARITY_THRESHOLD = 0.45

# The only orderings a request can ask for. Anything else is ignored.
# Case and accents ignored: "de La Tour" and "Élisée" file with the others
# (index: patient_name_order). Every list of patients by name uses it.
NAME_ORDER = ("sort_last", "sort_first", "id")

SORTS: dict[str, tuple] = {
    "name": NAME_ORDER,
    "-name": ("-sort_last", "-sort_first", "-id"),
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
# The name matches kept, best first: more than anyone reads (the list says so).
NAME_LIMIT = 201
# Typed words looked at for slips, and the words of a name they are compared with.
MAX_WORDS = 4
NAME_WORDS = 4
WORD_SPLIT = re.compile(r"[^0-9a-z]+")  # as mesochart_slip_keys() splits search_name


def fold(text: str) -> str:
    """Lower-case and strip accents, as mesochart_unaccent(lower(...)) does in the database."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


def slip_keys(word: str) -> set[str]:
    """The keys looked up for a typed word: its own (its letters, sorted: a swap keeps
    them) and, from four letters, each with one letter left out. A name's words are
    stored with the same keys (mesochart_slip_keys()), so a word one slip from a name's
    word shares a key with it: one letter dropped (the typed word's own key is the
    name word's less that letter), added (the other way round) or mistyped (both less
    the letter that differs). Short words get none: every two-letter word would be one
    slip from "ann"."""
    if len(word) < 3:
        return set()
    letters = sorted(word)
    keys = {"".join(letters)}
    if len(word) >= 4:
        keys |= {"".join(letters[:i] + letters[i + 1 :]) for i in range(len(letters))}
    return keys


# A name's words as mesochart_slip_keys() splits them: hyphens and apostrophes as spaces.
_SPACED = "translate(p.search_name, '-''', '  ')"


@lru_cache(maxsize=(MAX_WORDS + 1) ** 2)
def _name_search_sql(words: int, keyed: int) -> str:
    """The name search as one SQL statement, written once per shape (how many typed
    words, how many of them long enough for slip keys) and reused.

    Candidates come from the name indexes alone, in one bitmap scan: every keyed word
    with one of its slip keys among the name's, or every word trigram-close to the name;
    kept from becoming a scan of every patient by the settings name_matches() runs it
    with. Only those candidates are ranked, each measured no more than its rank needs:
    a name holding every typed word as it was typed comes first (no trigram or edit
    distance is computed for it: a common surname has thousands of holders), then the
    trigram-close by word similarity, then the slips by edit distance. Ties go in name
    order (the stored sort columns); the best %(limit)s come back, best first."""
    # Only counts and constants are written into the text: every value is a parameter.
    word = [f"%(w{i})s" for i in range(words)]
    close = " AND ".join(f"p.search_name %%> {w}" for w in word) or "p.search_name %%> %(folded)s"
    near = " AND ".join(f"p.name_keys && %(k{i})s::text[]" for i in range(keyed))
    # The array overlap first: PostgreSQL evaluates an OR's arms in order, and the
    # trigram test is the dear one.
    found = f"({near}) OR ({close})" if near else close
    exact = f"string_to_array({_SPACED}, ' ') @> %(words)s::text[]" if words else "false"
    similarity = "word_similarity(%(folded)s, p.search_name)"
    rank = f"CASE WHEN {exact} THEN 2.0 WHEN {close} THEN {similarity}"
    if near:
        slips = [
            "LEAST("
            + ", ".join(
                f"levenshtein_less_equal({w}, split_part({_SPACED}, ' ', {n}), {SLIP_EDITS})"
                for n in range(1, NAME_WORDS + 1)
            )
            + ")"
            for w in word
        ]
        within = " AND ".join(f"{slip} <= {SLIP_EDITS}" for slip in slips)
        # One swap in "nidaye" (6 letters, 2 edits) ranks as a word similarity of 0.67.
        rank += f" WHEN {within} THEN 1.0 - ({' + '.join(slips)})::float / %(letters)s"
    return (
        "WITH candidates AS MATERIALIZED ("  # noqa: S608  # nosec B608
        "SELECT p.id, p.search_name, p.sort_last, p.sort_first FROM patients_patient p "
        f"WHERE ({found}) AND (%(archived)s OR NOT p.archived)), "
        f"ranked AS MATERIALIZED (SELECT p.*, {rank} END AS rank FROM candidates p) "
        "SELECT p.id FROM ranked p WHERE p.rank IS NOT NULL "
        "ORDER BY p.rank DESC, p.sort_last, p.sort_first, p.id LIMIT %(limit)s"
    )


# The candidates are read through the name indexes alone (GIN: bitmap scans), never by
# a scan of the table or of its primary key, nor in parallel: the planner's guess for
# the trigram operator flipped a common surname ("Boucher": a few thousand names of
# 100,000) to reading every patient (613-957 ms, against 8-34 ms by the index).
INDEX_ONLY = {
    "enable_seqscan": "off",
    "enable_indexscan": "off",
    "enable_indexonlyscan": "off",
    "max_parallel_workers_per_gather": "0",
}


def name_matches(folded: str, *, include_archived: bool, limit: int) -> list[int]:
    """The ids of the patients whose name is close to `folded` by trigrams (partial
    words, small typos in long names), or has every typed word within a slip of one of
    its words; best match first (1.0 for the exact name), at most `limit`."""
    words = [word for word in WORD_SPLIT.split(folded) if word][:MAX_WORDS]
    # A key of each typed word's neighbours must be in the name: the index intersects
    # them (all the Maries and all the Tremblays are not measured for "marie tremblay").
    keys = [sorted(keys) for keys in map(slip_keys, words) if keys]
    params: dict = {
        "folded": folded,
        "archived": include_archived,
        "limit": limit,
        "letters": float(sum(map(len, words)) or 1),
        "words": words,
        **{f"w{i}": word for i, word in enumerate(words)},
        **{f"k{i}": key for i, key in enumerate(keys)},
    }
    with transaction.atomic(), connection.cursor() as cursor:
        # Local to a savepoint rolled back below: the page's other queries plan as usual.
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true), "
            + ", ".join("set_config(%s, %s, true)" for _ in INDEX_ONLY),
            [str(WORD_SIMILARITY_THRESHOLD), *(v for item in INDEX_ONLY.items() for v in item)],
        )
        cursor.execute(_name_search_sql(len(words), len(keys)), params)
        found = [row[0] for row in cursor.fetchall()]
        transaction.set_rollback(True)  # nothing was written: only the settings go
    return found


def number_in(term: str) -> str:
    """The digits of a term that is mostly digits (a chart number such as "MC-000123" or
    "123", a phone number), else "": a name is looked up by name."""
    digits = re.sub(r"\D", "", term)
    return digits if digits and len(digits) >= len(term.replace(" ", "")) - 3 else ""


def search_patients(
    term: str,
    *,
    include_archived: bool = False,
    sort: str | None = None,
    limit: int = NAME_LIMIT,
) -> QuerySet[Patient]:
    """Patients matching `term`, best match first unless an allowed `sort` is given; a
    name search keeps its best `limit` matches (name_matches)."""
    return _search(term, include_archived=include_archived, sort=sort, limit=limit)[0]


def matching_ids(
    term: str,
    *,
    include_archived: bool = False,
    sort: str | None = None,
    limit: int = NAME_LIMIT,
) -> list[int]:
    """The ids of search_patients' matches in its order, at most `limit`. A name search
    in its own order answers with name_matches' list as it stands: no second query."""
    matches, ordered = _search(term, include_archived=include_archived, sort=sort, limit=limit)
    if ordered is not None:
        return ordered[:limit]
    return list(matches.values_list("pk", flat=True)[:limit])


def _search(
    term: str, *, include_archived: bool, sort: str | None, limit: int
) -> tuple[QuerySet[Patient], list[int] | None]:
    """The matches, and their ids in order when the search already knows them."""
    patients = Patient.objects.all() if include_archived else Patient.objects.active()
    term = (term or "").strip()[:100]
    ordering = SORTS.get(sort or "")
    if not term:
        return patients.order_by(*(ordering or SORTS["name"])), None

    born = birth_date_filter(fold(term))
    if born is not None:
        return patients.filter(born).order_by(*(ordering or SORTS["name"])), None

    digits = number_in(term)
    if digits:
        # Mostly digits: a chart number ("MC-000123", "123") or a phone number; four
        # digits may also be a birth year: the chart number (one patient) comes first.
        chart = Q(chart_number=chart_number_for(int(digits)))
        match = chart
        if len(digits) >= 4:
            match |= Q(phone_digits__contains=digits)
        year = birth_date_filter(term, year_alone=True)
        if year is None:
            return patients.filter(match).order_by(*(ordering or SORTS["chart"])), None
        chart_first = Case(When(chart, then=Value(0)), default=Value(1))
        matches = patients.filter(match | year)
        return matches.order_by(*(ordering or (chart_first, *SORTS["born"]))), None

    found = name_matches(fold(term), include_archived=include_archived, limit=limit)
    matches = patients.filter(pk__in=found)
    if ordering:
        return matches.order_by(*ordering), None
    best_first = RawSQL("array_position(%s::bigint[], patients_patient.id)", (found,))
    return matches.order_by(best_first), found
