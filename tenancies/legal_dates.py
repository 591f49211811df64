"""Legal date arithmetic: the one place that counts days, weeks and months (DOMAIN.md §5.3).

Two kinds of deadline:
- procedural délais (CPC art. 640-642): the triggering day does not count, a period in days ends
  at midnight of the n-th following day, in weeks after 7 × n days, in months on the day with the
  same number (the last day of the month when there is none); a deadline falling on a Saturday,
  Sunday or public holiday moves to the next working day. Offers, commandements, CCAPEX, préfet.
- substantive periods (deposit refund, notice, validity): the same counting, without the move to
  the next working day. Callers choose explicitly with ``working_day=``.

The lengths themselves are dated data (``LegalDelay``, loaded from tenancies/data/legal_delays.csv):
a change of law is a new row, never a code change. "Today" is always passed in by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import holidays
from dateutil.relativedelta import relativedelta


@lru_cache(maxsize=64)
def _french_holidays(year: int, alsace_moselle: bool) -> frozenset[date]:
    # Metropolitan France; Alsace-Moselle adds Good Friday and 26 December (subdivision "57").
    calendar = holidays.France(years=year, subdiv="57" if alsace_moselle else None)
    return frozenset(calendar.keys())


def is_public_holiday(day: date, *, alsace_moselle: bool = False) -> bool:
    return day in _french_holidays(day.year, alsace_moselle)


def is_working_day(day: date, *, alsace_moselle: bool = False) -> bool:
    return day.weekday() < 5 and not is_public_holiday(day, alsace_moselle=alsace_moselle)


def next_working_day(day: date, *, alsace_moselle: bool = False) -> date:
    """`day` itself when it is a working day, otherwise the next one (CPC art. 642)."""
    while not is_working_day(day, alsace_moselle=alsace_moselle):
        day += timedelta(days=1)
    return day


@dataclass(frozen=True)
class Period:
    days: int = 0
    weeks: int = 0
    months: int = 0

    def after(self, start: date) -> date:
        return start + relativedelta(months=self.months, weeks=self.weeks, days=self.days)

    def before(self, end: date) -> date:
        return end - relativedelta(months=self.months, weeks=self.weeks, days=self.days)

    def __str__(self) -> str:
        parts = []
        if self.months:
            parts.append(f"{self.months} mois")
        if self.weeks:
            parts.append(f"{self.weeks} semaine{'s' if self.weeks > 1 else ''}")
        if self.days:
            parts.append(f"{self.days} jour{'s' if self.days > 1 else ''}")
        return " et ".join(parts) or "0 jour"


def deadline(start: date, period: Period, *, working_day: bool = True, alsace_moselle: bool = False) -> date:
    """Last day of `period` counted from the event of `start` (the start day itself not counted).

    With working_day=True (procedural délais) a last day on a weekend or public holiday moves to
    the next working day.
    """
    end = period.after(start)
    return next_working_day(end, alsace_moselle=alsace_moselle) if working_day else end


class UnknownDelay(LookupError):
    pass


def legal_period(code: str, *, on: date) -> Period:
    """The length of the legal delay `code` in force on `on` (latest row with valid_from <= on)."""
    from tenancies.models import LegalDelay

    row = LegalDelay.objects.filter(code=code, valid_from__lte=on).order_by("-valid_from").first()
    if row is None:
        raise UnknownDelay(f"Aucun délai légal « {code} » en vigueur le {on:%d/%m/%Y}.")
    return row.period


def legal_deadline(code: str, start: date, *, on: date | None = None, working_day: bool = True) -> date:
    """deadline() with the delay `code` in force on `on` (by default on `start`)."""
    return deadline(start, legal_period(code, on=on or start), working_day=working_day)
