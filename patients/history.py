"""A patient's history: every change to the rows of the record, and who made it."""

from dataclasses import dataclass
from datetime import datetime

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext, pgettext_lazy
from pghistory.models import Events

from clinic.numbers import format_amount
from patients.models import Patient
from patients.record import HISTORY

# Columns that say nothing to a reader (bookkeeping, stored file names, hashes).
HIDDEN_FIELDS = {
    "version",
    "search_vector",
    "updated_at",
    "sha256",
    "pdf_sha256",
    # Bookkeeping of signing (the alerts as the draft's author saw them), not the record.
    "alerts_at_save",
}
# pghistory's event labels, as the history page names them.
LABELS = {
    "insert": pgettext_lazy("history event", "insert"),
    "update": pgettext_lazy("history event", "update"),
    "delete": pgettext_lazy("history event", "delete"),
}


@dataclass
class Change:
    at: datetime
    what: str  # "treatment session 12", "measurement 40" (in the reader's language)
    label: str  # insert, update, delete
    user: str  # who, from the request that made it ("" for a script or a migration)
    # (field's verbose name, before, after) as people read them; after only on insert
    fields: list[tuple[str, object, object]]

    @property
    def label_display(self) -> str:
        return str(LABELS.get(self.label, self.label))


# Rows of the base shown by their name; the apps above add theirs (patients/record.py).
NAMED = {"clinic.Location": lambda location: location.name}


def _events(patient: Patient, limit: int) -> list:
    levels = [[patient]] + [
        list(apps.get_model(model).objects.filter(**{path: patient}).order_by("pk"))
        for model, path in HISTORY.levels
    ]
    found = {}
    for rows in levels:
        if rows:
            for event in Events.objects.references(rows).order_by("-pgh_created_at")[:limit]:
                found[(event.pgh_model, event.pgh_id)] = event  # a session's own events twice
    return sorted(found.values(), key=lambda event: event.pgh_created_at, reverse=True)[:limit]


def _columns(model_label: str) -> dict[str, models.Field]:
    """The tracked model's fields by column name (pghistory's data is keyed by column)."""
    try:
        model = apps.get_model(model_label)
    except (LookupError, ValueError):
        return {}
    return {field.column: field for field in model._meta.concrete_fields}


class Values:
    """Turns stored values into what a reader understands, in the active language."""

    def __init__(self, events: list):
        wanted: dict[type, set] = {}
        for event in events:
            columns = _columns(event.pgh_obj_model)
            for data in self._data_of(event):
                for column, value in data.items():
                    field = columns.get(column)
                    if field is not None and field.is_relation and value is not None:
                        wanted.setdefault(field.related_model, set()).add(value)
        self.names: dict[tuple[type, object], str] = {}
        self.rows: dict[tuple[type, object], models.Model] = {}
        user_model = get_user_model()
        named = NAMED | HISTORY.named
        for model, ids in wanted.items():
            if model is user_model:
                rows = model.objects.filter(pk__in=ids).values_list("pk", "username")
                self.names |= {(model, pk): name for pk, name in rows}
            elif model._meta.label in named:
                show = named[model._meta.label]
                for row in model.objects.filter(pk__in=ids):
                    self.rows[(model, row.pk)] = row
                    self.names[(model, row.pk)] = show(row)

    @staticmethod
    def _data_of(event) -> list[dict]:
        if event.pgh_diff:
            return [
                {name: old for name, (old, _new) in event.pgh_diff.items()},
                {name: new for name, (_old, new) in event.pgh_diff.items()},
            ]
        return [event.pgh_data or {}]

    def show(self, field: models.Field | None, value, row: dict | None = None):
        if value is None or field is None:
            return value
        source = HISTORY.snapshots.get(field.column)
        if source and row and row.get(source) is not None:
            related = field.model._meta.get_field(source.removesuffix("_id")).related_model
            region = self.rows.get((related, row[source]))
            return region.shown_label(value) if region is not None else value
        if field.is_relation:
            model = field.related_model
            return self.names.get((model, value), f"{model._meta.verbose_name} {value}")
        if isinstance(field, models.BooleanField):
            return gettext("Yes") if value else gettext("No")
        if field.choices:
            return str(dict(field.flatchoices).get(value, value))
        if isinstance(field, models.DecimalField):
            return format_amount(str(value))  # JSON gave a float: 0.1, not 0.1000000000000000055
        if isinstance(field, models.DateTimeField) and isinstance(value, str):
            moment = parse_datetime(value)
            return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else value
        if isinstance(field, models.DateField) and isinstance(value, str):
            day = parse_date(value[:10])
            return f"{day:%Y-%m-%d}" if day else value
        return value


def _kind_and_number(model_label: str, pk) -> str:
    try:
        model = apps.get_model(model_label)
    except (LookupError, ValueError):
        return f"{model_label.rpartition('.')[2]} {pk}"
    return f"{model._meta.verbose_name} {pk}"


def record_changes(patient: Patient, *, limit: int) -> list[Change]:
    """The newest `limit` events of the patient and of every tracked row of its record:
    those pointing at it, and those pointing at the rows below it that the apps above
    register (patients/record.py: treatments' maps, sessions and injections). Field
    names and values are shown as people read them, in the active language."""
    events = _events(patient, limit)
    user_ids = {
        (event.pgh_context or {}).get("user")
        for event in events
        if isinstance((event.pgh_context or {}).get("user"), int)
    }
    names = dict(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "username"))
    values = Values(events)
    changes = []
    for event in events:
        context = event.pgh_context or {}
        if event.pgh_diff:
            stored = [(name, old, new) for name, (old, new) in sorted(event.pgh_diff.items())]
        else:
            stored = [(name, None, value) for name, value in sorted(event.pgh_data.items())]
        columns = _columns(event.pgh_obj_model)
        fields = []
        for column, old, new in stored:
            field = columns.get(column)
            if column in HIDDEN_FIELDS or column.startswith("pgh_"):
                continue
            if field is not None and (
                field.name in HIDDEN_FIELDS or isinstance(field, models.FileField)
            ):
                continue
            name = str(field.verbose_name) if field is not None else column
            row = event.pgh_data or {}
            fields.append((name, values.show(field, old, row), values.show(field, new, row)))
        changes.append(
            Change(
                at=event.pgh_created_at,
                what=_kind_and_number(event.pgh_obj_model, event.pgh_obj_id),
                label=event.pgh_label,
                user=names.get(context.get("user"), ""),
                fields=fields,
            )
        )
    return changes
