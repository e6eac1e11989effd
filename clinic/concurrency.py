"""Optimistic concurrency: a save names the version it was edited from."""

from django.db import models


class StaleEdit(Exception):
    """The record changed since the form was opened; nothing was saved."""

    def __init__(self, current: models.Model, changed: dict[str, tuple[object, object]]):
        self.current = current
        self.changed = changed  # field label -> (value when the form opened, value now)
        super().__init__("stale edit")


def what_changed(current: models.Model, since_version: int, fields: list[str]) -> dict:
    """Fields that differ between the history row of `since_version` and `current`.

    Reads the pghistory event of the version the editor opened; if there is none,
    every listed field is reported with an unknown earlier value.
    """
    original = (
        current.events.filter(version=since_version).order_by("-pgh_id").first()
        if since_version
        else None
    )
    changed = {}
    for name in fields:
        then = getattr(original, name, None) if original else None
        now = getattr(current, name)
        if then != now:
            label = str(current._meta.get_field(name).verbose_name)
            changed[label] = (then, now)
    return changed
