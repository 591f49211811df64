"""Committee pages. Thin: permission-checked lookup -> form -> service -> redirect / render."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from applications.models import Application, ApplicationPerson
from billing.documents import pdf_response
from tenancies.access import get_dwelling_for_user, require_perm
from tenancies.audit import log_read
from tenancies.models import Agency, DwellingStatus
from tenancies.paging import paginate

from . import access, documents, matching, services
from .forms import AgendaForm, AplForm, DecisionForm, MemberForm, OfferAnswerForm, ReceivedForm, SessionForm
from .models import (
    Candidature,
    DecisionKind,
    Offer,
    OfferStatus,
    Session,
    SessionMember,
    SessionStatus,
    Vote,
)
from .rules import MANAGE, OFFERS, PREPARE
from .services import CommitteeError


def _error(request, exc):
    messages.error(request, str(exc))


# --- Matching ---------------------------------------------------------------------------------


@require_GET
def match(request, pk):
    require_perm(request.user, PREPARE)
    dwelling = get_dwelling_for_user(request.user, pk)
    today = timezone.localdate()
    context = {"dwelling": dwelling, "candidates": [], "criteria": None}
    if dwelling.status == DwellingStatus.VACANT:
        base = Application.objects.for_user(request.user)
        candidates, criteria, cost = matching.rank_candidates(dwelling, base=base, on=today)
        context.update(candidates=candidates, criteria=criteria, cost=cost)
        sessions = Session.objects.filter(
            agency=dwelling.building.estate.agency_id,
            status__in=[SessionStatus.PREPARATION, SessionStatus.OPEN],
        ).order_by("held_on")
        context["form"] = AgendaForm(sessions=sessions)
        context["has_sessions"] = sessions.exists()
    context["items"] = matching.open_items_for(dwelling).select_related("session")
    return render(request, "committee/match.html", context)


@require_POST
def agenda_add(request, pk):
    require_perm(request.user, PREPARE)
    dwelling = get_dwelling_for_user(request.user, pk)
    sessions = Session.objects.for_user(request.user).filter(status__in=[SessionStatus.PREPARATION, SessionStatus.OPEN])
    form = AgendaForm(request.POST, sessions=sessions)
    if not form.is_valid():
        messages.error(request, "Choisissez une séance en préparation ou ouverte.")
        return redirect("committee:match", pk=dwelling.pk)
    ids = [int(v) for v in request.POST.getlist("application") if v.isdigit()]
    by_id = Application.objects.for_user(request.user).in_bulk(ids)
    # The order of the ranked list is the proposed rank.
    ranked = sorted((by_id[i] for i in ids if i in by_id), key=lambda a: (-a.score, a.first_registered_on, a.pk))
    try:
        item = services.agenda_add(
            session=form.cleaned_data["session"],
            dwelling=dwelling,
            applications=ranked,
            by=request.user,
            on=timezone.localdate(),
            exception_reason=form.cleaned_data["exception_reason"],
            exception_note=form.cleaned_data["exception_note"],
        )
    except CommitteeError as exc:
        _error(request, exc)
        return redirect("committee:match", pk=dwelling.pk)
    messages.success(request, f"Logement {dwelling} inscrit à l'ordre du jour avec {len(ranked)} candidat(s).")
    return redirect(item.session.get_absolute_url())


# --- Sessions (staff) -------------------------------------------------------------------------


@require_GET
def session_list(request):
    require_perm(request.user, PREPARE)
    qs = Session.objects.for_user(request.user).select_related("agency", "president").order_by("-held_on", "-id")
    return render(request, "committee/session_list.html", {"page": paginate(request, qs)})


def _agencies(user):
    return Agency.objects.all() if user.sees_all_agencies else Agency.objects.filter(pk__in=user.agency_ids)


@require_http_methods(["GET", "POST"])
def session_create(request):
    require_perm(request.user, PREPARE)
    form = SessionForm(request.POST or None, agencies=_agencies(request.user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            session = services.session_create(
                agency=data["agency"],
                held_on=data["held_on"],
                place=data["place"],
                opens_at=data["opens_at"],
                closes_at=data["closes_at"],
                quorum=data["quorum"],
                president=data["president"],
                by=request.user,
            )
        except CommitteeError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Séance créée.")
            return redirect(session.get_absolute_url())
    return render(request, "committee/session_form.html", {"form": form})


def _agenda(session):
    """The session's items with candidatures, their applications and current decisions, in few queries."""
    items = list(
        session.items.select_related("dwelling__building__estate__commune").prefetch_related(
            Prefetch(
                "candidatures",
                queryset=Candidature.objects.select_related("application").prefetch_related(
                    Prefetch("application__people", queryset=ApplicationPerson.objects.order_by("position", "id"))
                ),
            ),
            Prefetch("votes", queryset=Vote.objects.select_related("member__user")),
        )
    )
    all_candidatures = [c for item in items for c in item.candidatures.all()]
    decisions = services.current_decisions(all_candidatures)
    offers = {o.candidature_id: o for o in Offer.objects.filter(candidature__in=all_candidatures)}
    for item in items:
        for c in item.candidatures.all():
            c._current_decision = decisions.get(c.pk) or False
            c.offer_row = offers.get(c.pk)
        item.result = services.tally(item) if item.votes.all() else None
    return items


@require_GET
def session_detail(request, pk):
    session = access.get_session_for_user(request.user, pk)
    members = list(session.members.select_related("user"))
    context = {
        "session": session,
        "items": _agenda(session),
        "members": members,
        "present": services.deliberative_present(session),
        "can_manage": request.user.has_perm(MANAGE),
        "is_president": session.president_id == request.user.pk,
        "member_form": MemberForm(),
        "apl_form": AplForm(),
    }
    return render(request, "committee/session_detail.html", context)


@require_POST
def member_add(request, pk):
    session = access.get_session_for_user(request.user, pk, perm=MANAGE)
    form = MemberForm(request.POST)
    if form.is_valid():
        try:
            services.member_add(session=session, **form.cleaned_data)
            messages.success(request, "Membre ajouté.")
        except CommitteeError as exc:
            _error(request, exc)
    else:
        messages.error(request, "Choisissez un membre et son droit de vote.")
    return redirect(session.get_absolute_url())


@require_POST
def member_presence(request, pk):
    session = access.get_session_for_user(request.user, pk, perm=MANAGE)
    present = set(request.POST.getlist("present"))
    try:
        with transaction.atomic():
            for member in session.members.all():
                services.member_set_presence(member=member, present=str(member.pk) in present)
        messages.success(request, "Présences enregistrées.")
    except CommitteeError as exc:
        _error(request, exc)
    return redirect(session.get_absolute_url())


def _session_for_steering(user, pk):
    """The president steers their session (open, close, sign); so do the agency's session managers."""
    session = Session.objects.filter(pk=pk, president=user).first()
    if session is not None:
        return session
    return access.get_session_for_user(user, pk, perm=MANAGE)


@require_POST
def session_transition(request, pk):
    session = _session_for_steering(request.user, pk)
    to_status = request.POST.get("to_status", "")
    if to_status not in SessionStatus.values:
        messages.error(request, "Statut inconnu.")
    else:
        try:
            services.session_transition(session=session, to_status=to_status, by=request.user)
            messages.success(request, f"Séance : {SessionStatus(to_status).label.lower()}.")
        except CommitteeError as exc:
            _error(request, exc)
    return redirect(request.POST.get("next") or session.get_absolute_url())


@require_POST
def candidature_apl(request, pk):
    candidature = access.get_candidature_for_user(request.user, pk)
    form = AplForm(request.POST)
    if form.is_valid():
        try:
            services.candidature_set_apl(
                candidature=candidature, amount=form.cleaned_data["amount"], on=timezone.localdate()
            )
            messages.success(request, "APL mise à jour : taux d'effort et reste à vivre recalculés.")
        except CommitteeError as exc:
            _error(request, exc)
    else:
        messages.error(request, "Saisissez un montant d'APL positif, par exemple 180,00.")
    return redirect(candidature.item.session.get_absolute_url())


# --- Members' pages ---------------------------------------------------------------------------


@require_GET
def my_sessions(request):
    now = timezone.now()
    sessions = access.member_sessions(request.user, now=now).select_related("agency").order_by("-opens_at")
    return render(request, "committee/my_sessions.html", {"sessions": sessions, "now": now})


@never_cache
@require_GET
def member_session(request, pk):
    session = access.get_member_session_for_user(request.user, pk)
    seat = SessionMember.objects.filter(session=session, user=request.user).first()
    items = list(
        session.items.select_related("dwelling__building__estate__commune").prefetch_related(
            Prefetch("candidatures", queryset=Candidature.objects.select_related("application"))
        )
    )
    candidatures = [c for item in items for c in item.candidatures.all()]
    decisions = services.current_decisions(candidatures)
    votes = {v.item_id: v for v in Vote.objects.filter(item__in=items, member=seat)} if seat else {}
    for item in items:
        item.my_vote = votes.get(item.pk)
        ranks = {cid: i for i, cid in enumerate(item.my_vote.ranking, start=1)} if item.my_vote else {}
        for c in item.candidatures.all():
            c._current_decision = decisions.get(c.pk) or False
            c.my_rank = ranks.get(c.pk)
        item.result = services.tally(item)
    is_president = session.president_id == request.user.pk
    context = {
        "session": session,
        "seat": seat,
        "items": items,
        "voting_open": session.voting_open(),
        "is_president": is_president,
        "present": services.deliberative_present(session),
        "quorum": services.quorum_reached(session),
        "decision_kinds": DecisionKind.choices,
    }
    return render(request, "committee/member_session.html", context)


@never_cache
@require_GET
def member_case(request, pk):
    candidature = access.get_member_candidature_for_user(request.user, pk)
    log_read(request.user, candidature, purpose="caleol")
    application = candidature.application
    today = timezone.localdate()
    people = list(application.people.order_by("position", "id"))
    context = {
        "candidature": candidature,
        "session": candidature.item.session,
        "application": application,
        "dwelling": candidature.item.dwelling,
        "people": [documents.MemberPerson.of(p, today) for p in people],
        "criteria": list(application.priority_criteria.all()),
        "communes": list(application.wished_communes.all()),
        "decision": services.current_decisions([candidature]).get(candidature.pk),
    }
    return render(request, "committee/member_case.html", context)


@require_POST
def vote(request, pk):
    item = access.get_member_item_for_user(request.user, pk)
    non_attribution = request.POST.get("non_attribution") == "1"
    ranks = []
    for c in item.candidatures.all():
        value = request.POST.get(f"rank_{c.pk}", "").strip()
        if value.isdigit():
            ranks.append((int(value), c.rank, c.pk))
    ranking = [cid for _r, _proposed, cid in sorted(ranks)]
    try:
        services.vote_cast(
            item=item,
            user=request.user,
            ranking=ranking,
            non_attribution=non_attribution,
            comment=request.POST.get("comment", ""),
        )
        messages.success(request, f"Vote enregistré pour le logement {item.dwelling}.")
    except CommitteeError as exc:
        _error(request, exc)
    return redirect("committee:member_session", pk=item.session.pk)


@require_POST
def decision_record(request, pk):
    candidature = Candidature.objects.select_related("item").filter(pk=pk).first()
    if candidature is None:
        raise Http404
    session = access.get_presided_session_for_user(request.user, candidature.item.session_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    else:
        try:
            services.decision_record(candidature=candidature, by=request.user, **form.cleaned_data)
            messages.success(request, f"Décision enregistrée pour {candidature.pseudonym}.")
        except CommitteeError as exc:
            _error(request, exc)
    return redirect("committee:member_session", pk=session.pk)


# --- Documents --------------------------------------------------------------------------------


def _session_for_documents(user, pk):
    if user.has_perm(PREPARE):
        return access.get_session_for_user(user, pk)
    return access.get_member_session_for_user(user, pk)


@never_cache
@require_GET
def agenda_pdf(request, pk):
    session = _session_for_documents(request.user, pk)
    pdf = documents.agenda_pdf(session)
    return pdf_response(pdf, f"ordre-du-jour-caleol-{session.held_on:%Y-%m-%d}.pdf")


@never_cache
@require_GET
def minutes_pdf(request, pk):
    session = _session_for_documents(request.user, pk)
    pdf = documents.minutes_pdf(session)
    return pdf_response(pdf, f"proces-verbal-caleol-{session.held_on:%Y-%m-%d}.pdf")


@never_cache
@require_GET
def decision_letter_pdf(request, pk):
    candidature = access.get_candidature_for_user(request.user, pk)
    decision = services.current_decisions([candidature]).get(candidature.pk)
    if decision is None:
        messages.warning(request, "Aucune décision n'est encore enregistrée pour cette candidature.")
        return redirect(candidature.item.session.get_absolute_url())
    pdf = documents.decision_letter_pdf(candidature, decision)
    return pdf_response(pdf, f"decision-caleol-{candidature.pk}.pdf")


# --- Offers -----------------------------------------------------------------------------------


@require_GET
def offer_list(request):
    require_perm(request.user, OFFERS)
    qs = (
        Offer.objects.for_user(request.user)
        .select_related("candidature__application", "candidature__item__dwelling", "lease")
        .order_by("-sent_on", "-id")
    )
    status = request.GET.get("status", "")
    if status in OfferStatus.values:
        qs = qs.filter(status=status)
    return render(
        request,
        "committee/offer_list.html",
        {"page": paginate(request, qs), "statuses": OfferStatus.choices, "status": status},
    )


@require_GET
def offer_detail(request, pk):
    offer = access.get_offer_for_user(request.user, pk)
    today = timezone.localdate()
    context = {
        "offer": offer,
        "candidature": offer.candidature,
        "application": offer.candidature.application,
        "dwelling": offer.candidature.item.dwelling,
        "answer_form": OfferAnswerForm(initial={"on": today, "starts_on": documents.default_lease_start(today)}),
        "received_form": ReceivedForm(initial={"received_on": offer.received_on}),
    }
    return render(request, "committee/offer_detail.html", context)


@require_POST
def offer_answer(request, pk):
    offer = access.get_offer_for_user(request.user, pk)
    form = OfferAnswerForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(offer.get_absolute_url())
    data = form.cleaned_data
    try:
        if data["answer"] == "accept":
            services.offer_accept(offer=offer, on=data["on"], starts_on=data["starts_on"], by=request.user)
            messages.success(request, "Proposition acceptée : projet de bail créé, logement réservé.")
        else:
            following = services.offer_refuse(
                offer=offer, on=data["on"], kind=data["refusal_kind"], reason=data["reason"], by=request.user
            )
            if following:
                messages.success(request, "Proposition refusée : le candidat suivant reçoit la proposition.")
                return redirect(following.get_absolute_url())
            messages.warning(request, "Proposition refusée : plus aucun candidat classé pour ce logement.")
    except CommitteeError as exc:
        _error(request, exc)
    return redirect(offer.get_absolute_url())


@require_POST
def offer_received(request, pk):
    offer = access.get_offer_for_user(request.user, pk)
    form = ReceivedForm(request.POST)
    if form.is_valid():
        try:
            services.offer_set_received(offer=offer, received_on=form.cleaned_data["received_on"])
            messages.success(request, "Date de réception enregistrée : délai de réponse recalculé.")
        except CommitteeError as exc:
            _error(request, exc)
    else:
        messages.error(request, "Saisissez la date de réception au format jj/mm/aaaa.")
    return redirect(offer.get_absolute_url())


@never_cache
@require_GET
def offer_pdf(request, pk):
    offer = access.get_offer_for_user(request.user, pk)
    return pdf_response(documents.offer_letter_pdf(offer), f"proposition-logement-{offer.pk}.pdf")
