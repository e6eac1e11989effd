"""Finding a patient from one search box: name, chart number, phone or birth date."""

import re
import unicodedata
from functools import lru_cache

from django.db import connection, transaction
from django.db.models import Case, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower

from patients.birth_dates import birth_date_filter
from patients.models import Patient, Unaccent, chart_number_for

# Lower than pg_trgm's default (0.6) so that a one-letter slip in a short
# name ("Gagnin" for "Gagnon") still finds it; ranking puts exact matches first.
WORD_SIMILARITY_THRESHOLD = 0.45

# The only orderings a request can ask for. Anything else is ignored.
# Case and accents ignored: "de La Tour" and "Élisée" file with the others
# (index: patient_name_order). Every list of patients by name uses it.
NAME_ORDER = (Unaccent(Lower("last_name")), Unaccent(Lower("first_name")), "id")

SORTS: dict[str, tuple] = {
    "name": NAME_ORDER,
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
# The name matches kept, best first: more than anyone reads (the list says so).
NAME_LIMIT = 201
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


# A name's words as mesochart_name_keys() splits them: hyphens and apostrophes as spaces.
_SPACED = "translate(p.search_name, '-''', '  ')"


@lru_cache(maxsize=(MAX_WORDS + 1) ** 2)
def _name_search_sql(words: int, keyed: int) -> str:
    """The name search as one SQL statement, written once per shape (how many typed
    words, how many of them long enough for slip keys) and reused.

    Candidates come from the name indexes alone: a MATERIALIZED CTE of two indexed
    conditions (every word trigram-close to the name; or every keyed word with one of
    its slip keys among the name's), kept from becoming a scan of every patient by the
    settings name_matches() runs it with. Only those candidates are measured (edit
    distances) and ranked; the best %(limit)s come back, best first."""
    # Only counts and constants are written into the text: every value is a parameter.
    word = [f"%(w{i})s" for i in range(words)]
    close = " AND ".join(f"p.search_name %%> {w}" for w in word) or "p.search_name %%> %(folded)s"
    near = " AND ".join(f"p.name_keys && %(k{i})s::text[]" for i in range(keyed))
    # The columns the ranking reads, carried along: no second lookup per candidate.
    columns = "SELECT p.id, p.search_name, p.archived, p.last_name, p.first_name"
    candidates = f"{columns} FROM patients_patient p WHERE {close}"  # noqa: S608
    similarity = "word_similarity(%(folded)s, p.search_name)"
    matched, rank = f"({close})", similarity
    if near:
        candidates += f" UNION {columns} FROM patients_patient p WHERE {near}"  # noqa: S608
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
        slip_rank = f"1.0 - ({' + '.join(slips)})::float / %(letters)s"
        matched = f"(({close}) OR ({within}))"
        rank = f"CASE WHEN {close} THEN {similarity} ELSE {slip_rank} END"
    return (
        f"WITH candidates AS MATERIALIZED ({candidates}) "  # noqa: S608  # nosec B608
        "SELECT p.id FROM candidates p "
        f"WHERE {matched} AND (%(archived)s OR NOT p.archived) "
        f"ORDER BY {rank} DESC, mesochart_unaccent(lower(p.last_name)), "
        "mesochart_unaccent(lower(p.first_name)), p.id LIMIT %(limit)s"
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


def search_patients(
    term: str,
    *,
    include_archived: bool = False,
    sort: str | None = None,
    limit: int = NAME_LIMIT,
) -> QuerySet[Patient]:
    """Patients matching `term`, best match first unless an allowed `sort` is given; a
    name search keeps its best `limit` matches (name_matches)."""
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

    found = name_matches(fold(term), include_archived=include_archived, limit=limit)
    matches = patients.filter(pk__in=found)
    if ordering:
        return matches.order_by(*ordering)
    return matches.order_by(RawSQL("array_position(%s::bigint[], patients_patient.id)", (found,)))
