"""Make sure the demo practitioner exists; print a generated password once."""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from clinic.roles import PRACTITIONER

DEMO_USERNAME = "demo"


class Command(BaseCommand):
    help = "Create the demo practitioner account if it does not exist."

    @transaction.atomic
    def handle(self, *args, **options):
        User = get_user_model()
        if User.objects.filter(username=DEMO_USERNAME).exists():
            self.stdout.write(
                f"Sign in as '{DEMO_USERNAME}' (password shown when it was created; "
                f"reset it with: .venv/bin/python manage.py changepassword {DEMO_USERNAME})"
            )
            return
        password = secrets.token_urlsafe(12)
        user = User.objects.create_user(
            username=DEMO_USERNAME,
            password=password,
            first_name="Demo",
            last_name="Practitioner",
        )
        user.groups.add(Group.objects.get(name=PRACTITIONER))
        self.stdout.write(self.style.SUCCESS("Created the demo practitioner account."))
        self.stdout.write(f"  username: {DEMO_USERNAME}\n  password: {password}")
        self.stdout.write("  (shown once; it is not stored anywhere in clear text)")
