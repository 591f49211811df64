"""French formats of the dashboards' figures: 1 234 ; 1 234,56 € ; 12,3 % ; 45,2 j."""

from decimal import ROUND_HALF_UP, Decimal

from tenancies.formatting import NBSP, format_euros


def group(units: str) -> str:
    groups = []
    while len(units) > 3:
        groups.insert(0, units[-3:])
        units = units[:-3]
    groups.insert(0, units)
    return NBSP.join(groups)


def format_number(value, places: int = 0) -> str:
    amount = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    text = f"{abs(amount):.{places}f}"
    units, _, decimals = text.partition(".")
    return f"{sign}{group(units)}" + (f",{decimals}" if decimals else "")


def format_value(value, unit: str, signed: bool = False) -> str:
    if value is None:
        return "—"
    sign = "+" if signed and value > 0 else ""
    if unit == "euros":
        return sign + format_euros(value)
    if unit == "percent":
        return f"{sign}{format_number(value, 1)}{NBSP}{'pt' if signed else '%'}"
    if unit == "points":
        return f"{sign}{format_number(value, 1)}{NBSP}pts"
    if unit == "days":
        return f"{sign}{format_number(value, 1)}{NBSP}j"
    if unit == "months":
        return f"{sign}{format_number(value, 1)}{NBSP}mois"
    return sign + format_number(value)
