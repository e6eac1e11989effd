from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data and its commands (ensure_demo_user, ensure_demo_catalogue, seed_demo)."""

    name = "demo"
