"""The search box forgives the slips of a busy front desk: swapped, dropped, added or
mistyped letters, and a birth date written in any common order."""

from datetime import date

import pytest
from django.urls import reverse

from patients.birth_dates import birth_date_filter
from patients.search import slip_keys
from tests.dates import today
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

# Names a clinic in Montréal sees side by side, several close to each other on purpose:
# the slip must still put the right one in the first five.
NAMES = [
    ("Aminata", "Ndiaye"),
    ("Moussa", "Ndoye"),
    ("Fatou", "Diallo"),
    ("Awa", "Niang"),
    ("Ibrahima", "Diop"),
    ("Khady", "Sow"),
    ("Mamadou", "Diaye"),
    ("Claire", "Nadeau"),
    ("Amélie", "Tremblay"),
    ("Amelia", "Santos"),
    ("Émilie", "Gagnon"),
    ("Aline", "Roy"),
    ("Amalia", "Ferreira"),
    ("Mélanie", "Bouchard"),
    ("Aurélie", "Lemieux"),
    ("Nathalie", "Amyot"),
    ("Camille", "Mailloux"),
    ("Julie", "Amiel"),
    ("Jean-François", "Bélanger"),
    ("Marie-Ève", "Côté"),
    ("Sébastien", "Lévesque"),
    ("Geneviève", "Pelletier"),
]


@pytest.fixture
def clinic(db):
    return {
        last: PatientFactory(first_name=first, last_name=last, phone="") for first, last in NAMES
    } | {
        f"{first} {last}": PatientFactory(first_name=first, last_name=last, phone="")
        for first, last in [("Marie", "Tremblay"), ("Amy", "Lee"), ("Ali", "Ndiaye")]
    }


def _found(client, term: str) -> list[int]:
    response = client.get(reverse("patients:list"), {"q": term})
    assert response.status_code == 200
    return [p.pk for p in response.context["patients"]]


@pytest.mark.parametrize(
    ("term", "who"),
    [
        ("nidaye", "Ndiaye"),  # two letters swapped
        ("ndaiye", "Ndiaye"),
        ("dniaye", "Ndiaye"),  # the first two swapped
        ("ndiye", "Ndiaye"),  # one dropped
        ("ndiayee", "Ndiaye"),  # one added
        ("ndiase", "Ndiaye"),  # one mistyped
        ("aminata nidaye", "Ndiaye"),  # a slip in a full name
        ("amlie", "Tremblay"),  # Amélie, the accented letter dropped
        ("amlie tremblay", "Tremblay"),
        ("amélie trembaly", "Tremblay"),
        ("tremblya", "Tremblay"),
        ("dialol", "Diallo"),
        ("dailo", "Diallo"),
        ("naing", "Niang"),
        ("dipo", "Diop"),
        ("ibarhima", "Diop"),
        ("nadaeu", "Nadeau"),
        ("emilei", "Gagnon"),
        ("gangon", "Gagnon"),
        ("bouhcard", "Bouchard"),
        ("levesuqe", "Lévesque"),
        ("pelltier", "Pelletier"),
        ("belagner", "Bélanger"),
        ("jean-francois belanger", "Bélanger"),
        ("marie-eve cote", "Côté"),
    ],
)
def test_a_slip_finds_the_patient_in_the_first_five(client_for, practitioner, clinic, term, who):
    found = _found(client_for(practitioner), term)
    assert clinic[who].pk in found[:5], term


def test_the_exact_name_still_ranks_above_its_slips(client_for, practitioner, clinic):
    client = client_for(practitioner)
    # "Ndoye" is one slip from "Ndiaye" (and from "ndiaye" typed): it may follow, never lead.
    assert set(_found(client, "ndiaye")[:2]) == {clinic["Ndiaye"].pk, clinic["Ali Ndiaye"].pk}
    assert _found(client, "ndoye")[0] == clinic["Ndoye"].pk
    assert _found(client, "amelie")[0] == clinic["Tremblay"].pk
    assert _found(client, "amy lee")[0] == clinic["Amy Lee"].pk


def test_a_slip_does_not_bring_in_unrelated_names(client_for, practitioner, clinic):
    client = client_for(practitioner)
    found = set(_found(client, "nidaye"))
    # Same letters, other words: an anagram is no slip, nor is a name three edits away.
    for unrelated in ["Tremblay", "Bouchard", "Pelletier", "Diop", "Sow", "Marie Tremblay"]:
        assert clinic[unrelated].pk not in found
    assert _found(client, "zbigniew") == []


def test_slip_keys_cover_one_edit_and_spare_short_words():
    assert "adeiny" in slip_keys("nidaye")  # a swap keeps the letters
    assert "aeilm" in slip_keys("amlie")  # its own key: Amélie less the dropped e
    assert "adeny" in slip_keys("ndiaye")  # less the i: Ndoye's less the o
    assert slip_keys("al") == set()  # two letters: everything would be a slip
    assert slip_keys("aye") == {"aey"}  # three: its own key only, never "ae"


def _stored_keys(name: str) -> set[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT mesochart_slip_keys(mesochart_unaccent(lower(%s)))", [name])
        return set(cursor.fetchone()[0])


@pytest.mark.parametrize(
    ("typed", "name", "slip"),
    [
        ("nidaye", "Ndiaye", True),  # swapped
        ("ndiye", "Ndiaye", True),  # dropped
        ("ndiayee", "Ndiaye", True),  # added
        ("ndiase", "Ndiaye", True),  # mistyped
        ("amlie", "Amélie", True),  # the accented letter dropped
        ("lee", "Leek", True),  # three letters typed, one dropped from a four-letter name
        ("ndoyes", "Ndiaye", False),  # two edits
        ("tremblay", "Ndiaye", False),
        ("le", "Lee", False),  # too short to be looked up
    ],
)
def test_typed_and_stored_keys_meet_exactly_at_one_slip(typed, name, slip):
    """The database stores a name's keys (mesochart_slip_keys) the way the search
    looks up a typed word's (slip_keys): they share one exactly when one slip apart."""
    assert bool(slip_keys(typed) & _stored_keys(name)) is slip


def _born(years_ago: int, month: int, day: int) -> date:
    return date(today().year - years_ago, month, day)


@pytest.fixture
def birthdays(db):
    return {
        "17 March": PatientFactory(date_of_birth=_born(42, 3, 17), phone=""),
        "3 April": PatientFactory(date_of_birth=_born(42, 4, 3), phone=""),
        "4 March": PatientFactory(date_of_birth=_born(42, 3, 4), phone=""),
        "next year": PatientFactory(date_of_birth=_born(41, 3, 17), phone=""),
    }


def test_a_birth_date_in_any_common_order(client_for, practitioner, birthdays):
    client = client_for(practitioner)
    year = today().year - 42
    march17 = [birthdays["17 March"].pk]
    for term in [
        f"{year}-03-17",
        f"{year}/3/17",
        f"17/03/{year}",  # the day cannot be a month: day first
        f"3/17/{year}",  # month first
        f"17.3.{year}",
        f"17 March {year}",
        f"March 17 {year}",
        f"March 17, {year}",
        f"mar 17th {year}",
        f"17 mars {year}",
        f"{year} March 17",
    ]:
        assert _found(client, term) == march17, term
    # Ambiguous: both readings, 3 April and 4 March.
    both = {birthdays["3 April"].pk, birthdays["4 March"].pk}
    assert set(_found(client, f"03/04/{year}")) == both
    assert set(_found(client, f"4/3/{year}")) == both


def test_a_birth_year_or_month(client_for, practitioner, birthdays):
    client = client_for(practitioner)
    year = today().year - 42
    born_that_year = {birthdays[k].pk for k in ["17 March", "3 April", "4 March"]}
    assert set(_found(client, str(year))) == born_that_year
    assert set(_found(client, f"March {year}")) == {
        birthdays["17 March"].pk,
        birthdays["4 March"].pk,
    }


def test_four_digits_are_still_a_chart_number_first(client_for, practitioner, birthdays):
    year = today().year - 42
    # A chart number drawn from the sequence is never this short: set one by hand.
    patient = PatientFactory(chart_number=f"MC-{year:06d}", date_of_birth=_born(30, 1, 1))
    found = _found(client_for(practitioner), str(year))
    assert found[0] == patient.pk
    assert len(found) == 4  # and the three born that year


@pytest.mark.parametrize(
    "term",
    ["31/02/1984", "13/13/1984", "514 555 0142", "555 01 42", "march", "7 march", "Marchand 1984"],
)
def test_what_is_no_date_is_not_read_as_one(term):
    assert birth_date_filter(term.lower()) is None


def test_a_future_or_implausible_year_is_no_birth_year():
    assert birth_date_filter(str(today().year + 1), year_alone=True) is None
    assert birth_date_filter("1234", year_alone=True) is None
    assert birth_date_filter(str(today().year - 30), year_alone=True) is not None
