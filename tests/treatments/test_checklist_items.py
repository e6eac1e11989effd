"""The checklist is one list (Checklist.ITEMS): the session's columns, the form's rows,
the summary and the demo data all follow it."""

import pytest
from django.urls import reverse

from treatments.models import Checklist, TreatmentSession

pytestmark = pytest.mark.django_db


def test_the_session_has_a_column_and_a_reason_for_each_item_and_no_other():
    columns = [
        field.name for field in TreatmentSession._meta.fields if field.name.startswith("check_")
    ]
    assert columns == Checklist.FIELDS
    assert len(Checklist.FIELDS) == 2 * len(Checklist.ITEMS)


def test_the_session_form_asks_each_item(client_for, practitioner, planned_map):
    response = client_for(practitioner).get(
        reverse("treatments:session_new", args=[planned_map.patient_id])
    )
    form = response.context["form"]
    html = response.content.decode()
    for name, _label in Checklist.ITEMS:
        assert f"check_{name}" in form.fields and f"check_{name}_reason" in form.fields
        assert f'id="id_check_{name}"' in html and f'id="id_check_{name}_reason"' in html
