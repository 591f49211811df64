from . import Route

RESPONSABLE = "responsable_agence"

ROUTES = {
    "dashboards:index": Route(role=RESPONSABLE),
    # Without parameters: the first block's table as CSV.
    "dashboards:export": Route(role=RESPONSABLE),
    "dashboards:monthly_pdf": Route(role=RESPONSABLE),
    # Without ?figure=…: no such list.
    "dashboards:detail": Route(role=RESPONSABLE, status=404),
}
