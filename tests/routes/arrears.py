from . import Route

PRECONTENTIEUX = "charge_precontentieux"


def _case(territory):
    from arrears.models import ArrearsCase

    case = ArrearsCase.objects.filter(account=territory.account).first()
    if case is None:
        case = ArrearsCase.objects.create(
            account=territory.account, lease=territory.lease, opened_on=territory.notice.due_on, debt_at_opening=0
        )
    return case


def make_objects(territory):
    case = _case(territory)
    return {
        "case": case,
        "case+note": (case.pk, "note"),
        "case+decompte": (case.pk, "decompte"),
    }


ROUTES = {
    "arrears:queue": Route(role=PRECONTENTIEUX),
    "arrears:case_detail": Route("case", role=PRECONTENTIEUX),
    "arrears:case_action": Route("case+note", method="post", role=PRECONTENTIEUX),
    "arrears:case_document": Route("case+decompte", role=PRECONTENTIEUX),
}
