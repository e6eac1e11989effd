import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from clinic import roles
from clinic.checks import role_permissions_exist

pytestmark = pytest.mark.django_db


def test_the_three_roles_exist_with_their_permissions():
    perms = {
        group.name: {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        for group in Group.objects.prefetch_related("permissions__content_type")
    }
    assert set(roles.ROLE_PERMISSIONS) <= set(perms)
    for role, specs in roles.ROLE_PERMISSIONS.items():
        assert perms[role] == set(specs)


def test_assistant_cannot_record_injections(assistant, practitioner):
    assert practitioner.has_perm("clinic.record_injections")
    assert not assistant.has_perm("clinic.record_injections")
    assert not assistant.has_perm("clinic.view_clinical_record")
    assert assistant.has_perm("clinic.view_demographics")
    assert assistant.has_perm("clinic.view_session_list")


def test_catalogue_admin_manages_the_catalogue_only(catalogue_admin, practitioner):
    assert catalogue_admin.has_perm("clinic.manage_catalogue")
    assert not catalogue_admin.has_perm("clinic.view_clinical_record")
    assert not practitioner.has_perm("clinic.manage_catalogue")


def test_outsider_has_no_permission(outsider):
    assert outsider.get_all_permissions() == set()


# Transactional: migrate connects as the owner, which a test's open transaction cannot.
@pytest.mark.django_db(transaction=True)
def test_permissions_are_restored_after_migrate(practitioner):
    group = Group.objects.get(name=roles.PRACTITIONER)
    group.permissions.clear()
    assert not Group.objects.get(name=roles.PRACTITIONER).permissions.exists()
    call_command("migrate", verbosity=0)
    assert group.permissions.count() == len(roles.ROLE_PERMISSIONS[roles.PRACTITIONER])


def test_a_typo_in_the_role_table_fails_the_system_check(monkeypatch):
    assert role_permissions_exist(None) == []
    monkeypatch.setitem(roles.ROLE_PERMISSIONS, roles.ASSISTANT, ["clinic.view_demographcs"])
    errors = role_permissions_exist(None)
    assert [e.id for e in errors] == ["clinic.E001"]
    assert "clinic.view_demographcs" in errors[0].msg


@pytest.mark.parametrize(
    ("user_fixture", "status"),
    [("practitioner", 200), ("catalogue_admin", 200), ("assistant", 403), ("outsider", 403)],
)
def test_catalogue_console_entry_by_role(request, client_for, user_fixture, status):
    client = client_for(request.getfixturevalue(user_fixture))
    # Without the role, the console's redirect to its login ends in a plain 403.
    assert client.get(reverse("admin:index"), follow=True).status_code == status


@pytest.mark.parametrize(
    ("user_fixture", "links"),
    [
        ("practitioner", {"Patients", "Sessions", "Catalogue"}),
        ("assistant", {"Patients", "Sessions"}),
        ("catalogue_admin", {"Catalogue"}),
        ("outsider", set()),
    ],
)
def test_navigation_shows_what_the_role_may_open(request, client_for, user_fixture, links):
    page = client_for(request.getfixturevalue(user_fixture)).get(reverse("home")).content.decode()
    for label in {"Patients", "Sessions", "Catalogue"}:
        assert (f">{label}</a>" in page) == (label in links), label
