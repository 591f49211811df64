from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    """Manager dashboards: reads every app, imported by none."""

    name = "dashboards"
    verbose_name = "Tableaux de bord"
