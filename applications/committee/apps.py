from django.apps import AppConfig


class CommitteeConfig(AppConfig):
    """Matching a vacant dwelling, the CALEOL sessions, votes, decisions and offers.

    A Django app of its own inside applications/ (label "committee") so that its migrations and
    the applications ones evolve independently."""

    name = "applications.committee"
    label = "committee"
    verbose_name = "Commission d'attribution (CALEOL)"
