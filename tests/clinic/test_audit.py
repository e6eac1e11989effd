import pghistory.models
import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, transaction
from django.test import RequestFactory
from django.urls import reverse

from clinic.audit import record_access
from clinic.models import AccessLog, UserEvent, UserGroupEvent
from clinic.roles import ASSISTANT
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_access(practitioner, assistant):
    # Any model instance can stand in for a patient record here; the helper is generic.
    request = RequestFactory().get("/patients/7/?tab=photos", REMOTE_ADDR="10.1.2.3")
    request.user = practitioner
    return record_access(request, patient=assistant, action=AccessLog.Action.VIEW)


def test_record_access_writes_who_what_when(logged_access, practitioner, assistant):
    row = AccessLog.objects.get()
    assert row == logged_access
    assert row.user == practitioner
    assert row.action == "view"
    assert row.subject == assistant
    assert row.patient_id == assistant.pk
    assert row.path == "/patients/7/?tab=photos"
    assert row.ip_address == "10.1.2.3"
    assert row.at is not None
    subject = ContentType.objects.get_for_model(assistant)
    stored = AccessLog.objects.filter(content_type=subject, object_id=str(assistant.pk))
    assert list(stored) == [row]


def test_record_access_refuses_an_unknown_action(practitioner):
    request = RequestFactory().get("/")
    request.user = practitioner
    with pytest.raises(ValueError, match="unknown access action"):
        record_access(request, patient=practitioner, action="peek")


@pytest.mark.parametrize(
    "change",
    [
        lambda: AccessLog.objects.update(action="print"),
        lambda: AccessLog.objects.all().delete(),
    ],
    ids=["update", "delete"],
)
def test_access_log_is_append_only_in_the_database(logged_access, change):
    with pytest.raises(DatabaseError), transaction.atomic():
        change()
    assert AccessLog.objects.get().action == "view"


def test_console_cannot_change_or_delete_access_log(logged_access, client_for):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = client_for(admin)
    change_url = reverse("admin:clinic_accesslog_change", args=[logged_access.pk])
    delete_url = reverse("admin:clinic_accesslog_delete", args=[logged_access.pk])
    page = client.get(change_url)
    assert page.status_code == 200  # readable
    assert 'name="_save"' not in page.content.decode()
    assert client.post(change_url, {"action": "print"}).status_code == 403
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:clinic_accesslog_add")).status_code == 403
    assert AccessLog.objects.get().action == "view"


def test_account_changes_are_recorded_with_user_and_url(client_for):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = client_for(admin)
    response = client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "newcomer",
            "usable_password": "true",
            "password1": "tangerine-otter-glacier-91",
            "password2": "tangerine-otter-glacier-91",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    newcomer = get_user_model().objects.get(username="newcomer")
    event = UserEvent.objects.get(pgh_obj_id=newcomer.pk, pgh_label="insert")
    assert event.username == "newcomer"
    assert not hasattr(event, "password")  # hashes are not copied into history
    context = pghistory.models.Context.objects.get(id=event.pgh_context_id)
    assert context.metadata["user"] == admin.pk
    assert context.metadata["url"] == reverse("admin:auth_user_add")


def test_role_grants_and_removals_are_recorded(practitioner):
    from django.contrib.auth.models import Group

    assistant_role = Group.objects.get(name=ASSISTANT)
    practitioner.groups.add(assistant_role)
    practitioner.groups.remove(assistant_role)
    labels = list(
        UserGroupEvent.objects.filter(user_id=practitioner.pk, group=assistant_role)
        .order_by("pgh_id")
        .values_list("pgh_label", flat=True)
    )
    assert labels == ["insert", "delete"]


def test_history_rows_are_append_only(practitioner):
    practitioner.first_name = "Alicia"
    practitioner.save()
    assert UserEvent.objects.filter(pgh_obj_id=practitioner.pk).count() == 2
    with pytest.raises(DatabaseError), transaction.atomic():
        UserEvent.objects.filter(pgh_obj_id=practitioner.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        UserEvent.objects.update(first_name="forged")
