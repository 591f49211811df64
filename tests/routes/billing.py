from . import Route

QUITTANCEMENT = "charge_quittancement"

ROUTES = {
    "billing:run_list": Route(role=QUITTANCEMENT),
    "billing:run_detail": Route("run", role=QUITTANCEMENT, all_agencies=True),
    "billing:run_progress": Route("run", role=QUITTANCEMENT, all_agencies=True),
    "billing:run_resume": Route("run", method="post", role=QUITTANCEMENT, all_agencies=True),
    # 202: the agency's PDF is being prepared by a task.
    "billing:run_agency_pdf": Route("run+agency", role=QUITTANCEMENT, status=202, all_agencies=True),
    "billing:account_detail": Route("account"),
    "billing:payment_create": Route("account", method="post"),
    "billing:statement_pdf": Route("account"),
    "billing:notice_pdf": Route("notice"),
    # 409: the world's notice is only partly paid, so no quittance.
    "billing:quittance_pdf": Route("notice", status=409),
    "billing:receipt_pdf": Route("payment"),
}


def make_objects(territory):
    return {"run+agency": (territory.run.pk, territory.agency.pk)}
