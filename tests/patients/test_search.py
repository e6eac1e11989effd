from datetime import date

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from patients.models import Patient
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db):
    # Only Hélène has a phone: the factory numbers its phones 514-555-NNNN from a
    # counter, so another patient could otherwise get hers (555-0142), or one holding
    # the digits of her chart number, depending on how many tests ran before.
    return {
        "helene": PatientFactory(
            first_name="Hélène",
            last_name="Gagnon",
            phone="(514) 555-0142",
            date_of_birth=date(1979, 3, 8),
        ),
        "jose": PatientFactory(
            first_name="José", last_name="Núñez", date_of_birth=date(1990, 1, 2), phone=""
        ),
        "marie": PatientFactory(first_name="Marie", last_name="Côté", phone=""),
        "paul": PatientFactory(first_name="Paul", last_name="Tremblay", phone=""),
        "anne": PatientFactory(first_name="Anne", last_name="Smith", phone=""),
    }


def _search(client, **params):
    response = client.get(reverse("patients:list"), params)
    assert response.status_code == 200
    return [p.pk for p in response.context["patients"]]


@pytest.mark.parametrize(
    ("term", "who"),
    [
        ("helene", "helene"),  # accents ignored
        ("HÉLÈNE GAGNON", "helene"),  # case ignored
        ("Gagnin", "helene"),  # one-letter typo
        ("nunez", "jose"),
        ("Tremblai", "paul"),
        ("cote", "marie"),
        ("Côte", "marie"),
    ],
)
def test_name_search_tolerates_accents_case_and_typos(client_for, practitioner, people, term, who):
    found = _search(client_for(practitioner), q=term)
    assert found and found[0] == people[who].pk


def test_exact_name_ranks_first(client_for, practitioner, people):
    PatientFactory(first_name="Helena", last_name="Gagnoni")
    found = _search(client_for(practitioner), q="Hélène Gagnon")
    assert found[0] == people["helene"].pk


def test_chart_number_phone_and_birth_date(client_for, practitioner, people):
    client = client_for(practitioner)
    helene = people["helene"]
    assert _search(client, q=helene.chart_number) == [helene.pk]
    assert _search(client, q=helene.chart_number.lower()) == [helene.pk]
    assert _search(client, q=str(int(helene.chart_number[3:]))) == [helene.pk]
    assert _search(client, q="514 555 0142") == [helene.pk]
    assert _search(client, q="555-0142") == [helene.pk]
    assert _search(client, q="1979-03-08") == [helene.pk]
    assert _search(client, q="08/03/1979") == [helene.pk]


def test_unrelated_terms_find_nothing(client_for, practitioner, people):
    client = client_for(practitioner)
    assert _search(client, q="Zbigniew") == []
    page = client.get(reverse("patients:list"), {"q": "Zbigniew"}).content.decode()
    assert "No patient matches “Zbigniew”" in page


@pytest.mark.parametrize(
    "sort",
    [
        "last_name; DROP TABLE patients_patient",
        "-id",
        "password",
        "search_name",
        "(SELECT 1)",
        "name,chart",
    ],
)
def test_a_crafted_sort_is_ignored(client_for, practitioner, people, sort):
    client = client_for(practitioner)
    default = _search(client)
    assert _search(client, sort=sort) == default
    assert len(default) == 5


def test_allowed_sorts_apply(client_for, practitioner, people):
    client = client_for(practitioner)
    by_name = _search(client, sort="name")
    assert by_name == sorted(by_name, key=lambda pk: _last_name(people, pk))
    assert _search(client, sort="-name") == list(reversed(by_name))
    by_birth = _search(client, sort="born")
    assert by_birth[-1] == max(people.values(), key=lambda p: p.date_of_birth).pk


def _last_name(people, pk):
    patient = next(p for p in people.values() if p.pk == pk)
    return (patient.last_name, patient.first_name, patient.pk)


def test_pagination(client_for, practitioner):
    PatientFactory.create_batch(30, last_name="Bouchard")
    client = client_for(practitioner)
    first = _search(client, q="Bouchard")
    second = _search(client, q="Bouchard", page=2)
    assert len(first) == 25 and len(second) == 5
    assert not set(first) & set(second)
    # Browsing without a search pages the same way, without counting every patient.
    browse = client.get(reverse("patients:list"))
    assert "page=2" in browse.content.decode()
    assert len(_search(client, page=2)) == 5
    assert "page=3" not in client.get(reverse("patients:list"), {"page": 2}).content.decode()
    assert _search(client, page="junk") == _search(client)


def test_a_very_broad_search_is_capped_with_advice(client_for, practitioner, monkeypatch):
    from patients import views

    PatientFactory.create_batch(8, last_name="Bouchard")
    monkeypatch.setattr(views, "SEARCH_LIMIT", 5)
    response = client_for(practitioner).get(reverse("patients:list"), {"q": "Bouchard"})
    assert len(response.context["patients"]) == 5
    assert "More than 5 patients match" in response.content.decode()


def test_list_query_count_does_not_grow(client_for, practitioner, django_assert_num_queries):
    client = client_for(practitioner)
    PatientFactory.create_batch(3)
    ContentType.objects.get_for_model(Patient)  # cached per process: warm, so the count is fixed
    # Session and user (2), the second-factor device (1), permissions (1), one page of
    # patients, no COUNT (1 + history context), and the access-log rows of the patients
    # shown in one INSERT (1): never per row. The session row is not rewritten
    # (clinic/session_store.py).
    with django_assert_num_queries(8) as small:
        client.get(reverse("patients:list"))
    PatientFactory.create_batch(20)
    with django_assert_num_queries(len(small.captured_queries)):
        client.get(reverse("patients:list"))


def test_name_sort_ignores_case_and_accents(client_for, practitioner):
    names = ["Vincent", "de La Tour", "Abadie", "lemieux", "Émond", "Eddé"]
    for name in names:
        PatientFactory(last_name=name)
    client = client_for(practitioner)
    found = client.get(reverse("patients:list"), {"sort": "name"})
    listed = [p.last_name for p in found.context["patients"]]
    assert listed == ["Abadie", "de La Tour", "Eddé", "Émond", "lemieux", "Vincent"]
    # The stored sort columns follow a change of name.
    Patient.objects.filter(last_name="Abadie").update(last_name="Zénon")
    found = client.get(reverse("patients:list"), {"sort": "-name"})
    assert found.context["patients"][0].last_name == "Zénon"


def test_every_typed_word_as_typed_ranks_first_in_name_order(client_for, practitioner):
    """A name holding each typed word exactly comes before a closer-looking slip, even
    with a word between ("Marie-Anne"), and its holders file in name order."""
    later = PatientFactory(first_name="Marie-Anne", last_name="Tremblay")
    first = PatientFactory(first_name="Marie", last_name="Tremblay")
    slip = PatientFactory(first_name="Marie", last_name="Tremblai")
    found = _search(client_for(practitioner), q="marie tremblay")
    assert found[:3] == [first.pk, later.pk, slip.pk]


def test_sort_links_replace_the_sort_instead_of_piling_up(client_for, practitioner, people):
    page = (
        client_for(practitioner)
        .get(reverse("patients:list"), {"q": "gagnon", "sort": "name"})
        .content.decode()
    )
    assert "sort=name&amp;sort" not in page and "sort=-name&amp;sort" not in page
    assert 'href="?q=gagnon&amp;sort=-name"' in page  # clicking again reverses
    assert 'aria-sort="ascending"' in page


def test_an_absurd_page_number_is_not_a_crash(client_for, practitioner, people):
    response = client_for(practitioner).get(reverse("patients:list"), {"page": "9" * 30})
    assert response.status_code == 200
    assert response.context["patients"] == []


def _statements_of_a_name_search(term: str) -> list[tuple[str, object]]:
    """What name_matches sends to PostgreSQL for `term` (savepoints left out)."""
    from django.db import connection

    from patients.search import fold, name_matches

    sent = []

    def record(execute, sql, params, many, context):
        if "SAVEPOINT" not in sql:
            sent.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        name_matches(fold(term), include_archived=False, limit=201)
    return sent


@pytest.mark.parametrize("term", ["Rosalie Boucher", "Bouher", "Rosalie Boucer", "bou"])
def test_a_name_search_reads_the_name_indexes_never_the_whole_table(term):
    """The commonest surname, a dropped letter, a slip, a partial word: the candidates
    come from the name indexes whatever the planner would guess, and the settings that
    make it so end with the search."""
    from django.db import connection, transaction

    PatientFactory.create_batch(40, last_name="Boucher")
    PatientFactory.create_batch(40)
    settings, (search, params) = _statements_of_a_name_search(term)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(*settings)
        cursor.execute("EXPLAIN " + search, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    assert "Seq Scan on patients_patient" not in plan, plan
    assert "Index Scan using patients_patient_pkey" not in plan, plan  # a whole-key walk
    assert "Bitmap Index Scan on patient_search_name_trgm" in plan, plan
    assert "Gather" not in plan, plan  # no parallel workers either
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_seqscan')")
        assert cursor.fetchone() == ("on",)


def test_a_common_name_is_found_with_a_fixed_number_of_queries(
    client_for, practitioner, django_assert_num_queries, django_assert_max_num_queries
):
    client = client_for(practitioner)
    PatientFactory.create_batch(3, first_name="Rosalie", last_name="Boucher")
    ContentType.objects.get_for_model(Patient)
    client.get(reverse("patients:list"), {"q": "Rosalie Boucher"})  # warm
    # Session, user, device, permissions (4); the savepoint, settings, search and its
    # release (4); the page's patients (1 + history context: the matches' ids in order
    # are the search's own answer); the access log (1).
    with django_assert_max_num_queries(13) as few:
        assert len(_search(client, q="Rosalie Boucher")) == 3
    PatientFactory.create_batch(20, first_name="Rosalie", last_name="Boucher")
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(_search(client, q="Rosalie Boucher")) == 23  # one page of 25
