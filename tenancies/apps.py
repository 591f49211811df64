from django.apps import AppConfig


class TenanciesConfig(AppConfig):
    name = "tenancies"
    verbose_name = "Patrimoine et baux"

    def ready(self):
        # Connects the session-ending signal handlers in every process (web, worker, commands).
        from . import security  # noqa: F401
