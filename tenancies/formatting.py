"""French formats for amounts, shared by templates, letters and PDFs."""

from decimal import ROUND_HALF_UP, Decimal

NBSP = "\xa0"
CENT = Decimal("0.01")


def to_cents(value) -> Decimal:
    """Round an amount to the cent, half away from zero (the rule used on every document)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def format_euros(value) -> str:
    """`Decimal("1234.5")` -> "1 234,50 €" (non-breaking spaces)."""
    if value is None or value == "":
        return ""
    amount = to_cents(value)
    sign = "-" if amount < 0 else ""
    units, cents = f"{abs(amount):.2f}".split(".")
    groups = []
    while len(units) > 3:
        groups.insert(0, units[-3:])
        units = units[:-3]
    groups.insert(0, units)
    return f"{sign}{NBSP.join(groups)},{cents}{NBSP}€"
