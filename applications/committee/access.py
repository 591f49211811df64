"""The one permission-checked getter per committee object type (STYLE.md habit 6).

Staff pages (preparation, management, offers): the role permission (403) and the territory of
the session's agency (404). Members' pages: the user sits on the session and the session is
open or closed less than two months ago (404 otherwise, so that nothing is revealed); the
agency's session managers read them too (the secretariat), without voting.
"""

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from tenancies.access import require_perm, visible

from .models import AgendaItem, Candidature, Offer, Session
from .rules import MANAGE, OFFERS, PREPARE, PRESIDE, SIT


def get_session_for_user(user, pk, *, perm: str = PREPARE):
    return get_object_or_404(visible(Session, user, perm).select_related("agency", "president", "signed_by"), pk=pk)


def get_item_for_user(user, pk, *, perm: str = PREPARE):
    return get_object_or_404(
        visible(AgendaItem, user, perm).select_related("session__agency", "dwelling__building__estate__commune"),
        pk=pk,
    )


def get_candidature_for_user(user, pk, *, perm: str = PREPARE):
    return get_object_or_404(
        visible(Candidature, user, perm).select_related(
            "application", "item__session__agency", "item__dwelling__building__estate__commune"
        ),
        pk=pk,
    )


def get_offer_for_user(user, pk, *, perm: str = OFFERS):
    return get_object_or_404(
        visible(Offer, user, perm).select_related(
            "candidature__application",
            "candidature__item__session__agency",
            "candidature__item__dwelling__building__estate__commune",
            "lease",
        ),
        pk=pk,
    )


def is_secretariat(user, session) -> bool:
    return user.has_perm(MANAGE) and Session.objects.for_user(user).filter(pk=session.pk).exists()


def member_sessions(user, *, now=None):
    """Sessions `user` sits on whose case files they may read now."""
    require_perm(user, SIT)
    return Session.objects.sat_by(user).member_window(now or timezone.now())


def get_member_session_for_user(user, pk, *, now=None):
    """A session for its members' pages: a seat and the reading window, or the secretariat."""
    require_perm(user, SIT)
    session = get_object_or_404(Session.objects.select_related("agency", "president"), pk=pk)
    if session.members.filter(user=user).exists() and session.members_may_read(now):
        return session
    if is_secretariat(user, session) and session.status != "preparation":
        return session
    raise Http404


def get_member_item_for_user(user, pk, *, now=None):
    item = get_object_or_404(AgendaItem.objects.select_related("dwelling__building__estate__commune"), pk=pk)
    item.session = get_member_session_for_user(user, item.session_id, now=now)
    return item


def get_member_candidature_for_user(user, pk, *, now=None):
    candidature = get_object_or_404(
        Candidature.objects.select_related("application", "item__dwelling__building__estate__commune"), pk=pk
    )
    candidature.item.session = get_member_session_for_user(user, candidature.item.session_id, now=now)
    return candidature


def get_presided_session_for_user(user, pk):
    """A session whose decisions `user` records: the president, within the session's agencies
    or as a member."""
    require_perm(user, PRESIDE)
    session = get_object_or_404(Session.objects.select_related("agency", "president"), pk=pk)
    if session.president_id != user.pk:
        if Session.objects.for_user(user).filter(pk=pk).exists() or session.members.filter(user=user).exists():
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        raise Http404
    return session
