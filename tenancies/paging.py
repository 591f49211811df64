"""Pagination that never counts the whole table.

A page fetches one row more than it shows to know whether a next page exists, and the result
count is bounded (COUNT over at most COUNT_CAP rows), so a page on a 100 000-row stock costs
two cheap queries whatever the filters.
"""

from dataclasses import dataclass

from django.contrib import messages

PER_PAGE = 25
COUNT_CAP = 1000


@dataclass
class Page:
    items: list
    number: int
    has_next: bool
    count: int
    count_capped: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def next_number(self) -> int:
        return self.number + 1

    @property
    def previous_number(self) -> int:
        return self.number - 1

    @property
    def count_label(self) -> str:
        if self.count_capped:
            return f"plus de {COUNT_CAP:,}".replace(",", "\xa0")
        return str(self.count)


def paginate(request, queryset, per_page: int = PER_PAGE) -> Page:
    raw = request.GET.get("page", "1")
    try:
        number = int(raw)
        if number < 1:
            raise ValueError
    except ValueError:
        messages.warning(request, f"Numéro de page « {raw} » invalide : première page affichée.")
        number = 1
    offset = (number - 1) * per_page
    rows = list(queryset[offset : offset + per_page + 1])
    count = queryset.order_by()[: COUNT_CAP + 1].count()
    return Page(
        items=rows[:per_page],
        number=number,
        has_next=len(rows) > per_page,
        count=min(count, COUNT_CAP),
        count_capped=count > COUNT_CAP,
    )
