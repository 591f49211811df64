"""Personal data of the dashboards (issue 8): none, only aggregates per agency and month."""

PERSONAL_DATA: dict = {}
NO_PERSONAL_DATA = {"refresh", "monthlyfigure"}
