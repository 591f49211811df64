"""Cotation: points of the grid in force for the application's agency (DOMAIN.md §1.2.5).

A grid belongs to one agency (our "territory": the agency is the unit that manages a stock and a
waiting list, and the grid in force on a date is the latest version of that agency). Criteria use a
fixed list of computable rules (models.CotationRule); points and parameters are data.

The points of one criterion for one application are written once, as one SQL CASE expression
(POINTS_SQL): the breakdown shown on the application page, the score of one application after an
edit and the set-based recompute of every open application after a grid change all run it, so
they cannot disagree. Each change of a score writes a ScoreChange row (old, new, cause).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import connection, transaction
from django.utils import timezone

from .models import OPEN_STATUSES, Application, CotationCriterion, CotationGrid

# Per-application facts the rules need beyond the application row: its priority criteria codes
# and whether someone holds a disability card. Correlated subqueries for a few rows (index lookups);
# grouped joins (hash joins, one pass over each table) when every open application is scored.
_FACTS_SQL = """
    SELECT a.id AS application_id,
           COALESCE((SELECT array_agg(pc.code) FROM applications_application_priority_criteria ap
                     JOIN applications_prioritycriterion pc ON pc.id = ap.prioritycriterion_id
                     WHERE ap.application_id = a.id), ARRAY[]::varchar[]) AS priority_codes,
           COALESCE((SELECT bool_or(p.disability_card) FROM applications_applicationperson p
                     WHERE p.application_id = a.id), false) AS disabled
    FROM applications_application a
    WHERE {where}
"""
_FACTS_ALL_SQL = """
    SELECT a.id AS application_id, COALESCE(pcs.codes, ARRAY[]::varchar[]) AS priority_codes,
           COALESCE(dis.disabled, false) AS disabled
    FROM applications_application a
    LEFT JOIN (SELECT ap.application_id, array_agg(pc.code) AS codes
               FROM applications_application_priority_criteria ap
               JOIN applications_prioritycriterion pc ON pc.id = ap.prioritycriterion_id
               GROUP BY ap.application_id) pcs ON pcs.application_id = a.id
    LEFT JOIN (SELECT p.application_id, true AS disabled FROM applications_applicationperson p
               WHERE p.disability_card GROUP BY p.application_id) dis ON dis.application_id = a.id
    WHERE {where}
"""

# Grids in force on %(as_of)s: per agency, the one version whose validity covers the day.
_GRIDS_SQL = """
    SELECT g.id, g.agency_id FROM applications_cotationgrid g
    WHERE g.valid_from <= %(as_of)s AND (g.valid_until IS NULL OR g.valid_until > %(as_of)s)
"""

# Full months between the first registration and as_of (same counting as dateutil.relativedelta).
_MONTHS = (
    "(EXTRACT(YEAR FROM age(%(as_of)s::date, a.first_registered_on)) * 12"
    " + EXTRACT(MONTH FROM age(%(as_of)s::date, a.first_registered_on)))::int"
)

POINTS_SQL = f"""
    CASE c.rule
      WHEN 'seniority_month' THEN LEAST(c.points * GREATEST({_MONTHS}, 0), COALESCE(c.cap, 2147483647))
      WHEN 'dalo' THEN CASE WHEN a.dalo THEN c.points ELSE 0 END
      WHEN 'priority' THEN CASE WHEN c.parameter = ANY(f.priority_codes) THEN c.points ELSE 0 END
      WHEN 'any_priority' THEN CASE WHEN cardinality(f.priority_codes) > 0 THEN c.points ELSE 0 END
      WHEN 'housing_situation' THEN CASE WHEN a.housing_situation = c.parameter THEN c.points ELSE 0 END
      WHEN 'reason' THEN CASE WHEN c.parameter = ANY(a.reasons) THEN c.points ELSE 0 END
      WHEN 'disability' THEN CASE WHEN f.disabled THEN c.points ELSE 0 END
      WHEN 'household_min' THEN CASE WHEN c.parameter ~ '^[0-9]+$' AND a.household_size >= c.parameter::int
                                     THEN c.points ELSE 0 END
      WHEN 'income_below' THEN CASE WHEN c.parameter ~ '^[0-9]+([.][0-9]+)?$'
                                         AND a.reference_income < c.parameter::numeric
                                    THEN c.points ELSE 0 END
      WHEN 'transfer' THEN CASE WHEN a.kind = 'transfer' THEN c.points ELSE 0 END
      ELSE 0
    END
"""


@dataclass(frozen=True)
class BreakdownLine:
    criterion: CotationCriterion
    points: int


@dataclass(frozen=True)
class Breakdown:
    grid: CotationGrid | None
    lines: list[BreakdownLine]

    @property
    def total(self) -> int:
        return sum(line.points for line in self.lines)


def grid_in_force(agency_id: int, on: date) -> CotationGrid | None:
    return CotationGrid.objects.in_force(on).filter(agency_id=agency_id).order_by("-version").first()


def score_breakdown(application: Application, *, as_of: date | None = None) -> Breakdown:
    """The points of each criterion of the grid in force for `application` (every criterion
    listed, 0 when it does not apply)."""
    as_of = as_of or timezone.localdate()
    grid = grid_in_force(application.agency_id, as_of)
    if grid is None:
        return Breakdown(None, [])
    criteria = list(grid.criteria.all())
    sql = f"""
        WITH f AS ({_FACTS_SQL.format(where="a.id = %(id)s")})
        SELECT c.id, {POINTS_SQL} FROM applications_application a
        JOIN f ON f.application_id = a.id
        CROSS JOIN applications_cotationcriterion c
        WHERE a.id = %(id)s AND c.grid_id = %(grid)s
    """  # noqa: S608  # nosec B608 - fixed SQL fragments; every value is a parameter
    with connection.cursor() as cursor:
        cursor.execute(sql, {"id": application.pk, "grid": grid.pk, "as_of": as_of})
        points = dict(cursor.fetchall())
    return Breakdown(grid, [BreakdownLine(c, points.get(c.pk, 0)) for c in criteria])


def rescore(
    *, ids: list[int] | None = None, agency_id: int | None = None, as_of: date | None = None, cause: str
) -> int:
    """Recompute the score of the open applications `ids` (every open application when None) in
    one statement; write a ScoreChange row for each score that moved. Returns how many moved."""
    as_of = as_of or timezone.localdate()
    params = {"as_of": as_of, "open": list(OPEN_STATUSES), "cause": cause[:200], "now": timezone.now()}
    where = "a.status = ANY(%(open)s)"
    if ids is not None:
        if not ids:
            return 0
        where += " AND a.id = ANY(%(ids)s)"
        params["ids"] = list(ids)
    if agency_id is not None:
        where += " AND a.agency_id = %(agency)s"
        params["agency"] = agency_id
    sql = f"""
        WITH grids AS ({_GRIDS_SQL}),
        f AS ({(_FACTS_SQL if ids is not None else _FACTS_ALL_SQL).format(where=where)}),
        computed AS (
            SELECT a.id, a.score AS old_score, COALESCE(SUM({POINTS_SQL}), 0)::int AS new_score
            FROM applications_application a
            JOIN f ON f.application_id = a.id
            LEFT JOIN grids g ON g.agency_id = a.agency_id
            LEFT JOIN applications_cotationcriterion c ON c.grid_id = g.id
            GROUP BY a.id, a.score
        ),
        moved AS (
            UPDATE applications_application a
            SET score = computed.new_score, score_computed_at = %(now)s
            FROM computed
            WHERE a.id = computed.id AND a.score <> computed.new_score
            RETURNING a.id, computed.old_score, computed.new_score
        ),
        logged AS (
            INSERT INTO applications_scorechange (application_id, at, old_score, new_score, cause)
            SELECT id, %(now)s, old_score, new_score, %(cause)s FROM moved
            RETURNING 1
        )
        SELECT count(*) FROM logged
    """  # noqa: S608  # nosec B608 - fixed SQL fragments; every value is a parameter
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def rescore_all(*, as_of: date | None = None, cause: str = "Recalcul de toutes les cotations") -> int:
    """Set-based recompute of every open application's score (after a grid change, and daily for
    seniority). Returns the number of scores that moved."""
    return rescore(ids=None, as_of=as_of, cause=cause)


WAIT_YEARS = 3  # the average waiting time is taken over the leases signed in the last 3 years


@dataclass(frozen=True)
class Position:
    rank: int
    among: int
    average_wait_days: int | None
    housed: int

    @property
    def average_wait_months(self) -> float | None:
        return None if self.average_wait_days is None else round(self.average_wait_days / 30.4375, 1)


def similar_applications(application: Application):
    """Open, matchable applications of the same agency and category wishing at least one of the
    same typologies (all of the category when no typology is wished)."""
    from .models import MATCHABLE_STATUSES

    qs = Application.objects.filter(
        agency_id=application.agency_id, category=application.category, status__in=MATCHABLE_STATUSES
    )
    if application.wished_typologies:
        qs = qs.filter(wished_typologies__overlap=application.wished_typologies)
    return qs


def position(application: Application) -> Position:
    """Rank among similar applications (score, then seniority) and the average waiting time of the
    similar applications that got a lease: days from first registration to the lease_signed move
    in the status history, same agency and category, over the last 3 years."""
    from django.db.models import Q

    similar = similar_applications(application)
    among = similar.exclude(pk=application.pk).count() + 1
    ahead = (
        similar.exclude(pk=application.pk)
        .filter(
            Q(score__gt=application.score)
            | Q(score=application.score, first_registered_on__lt=application.first_registered_on)
        )
        .count()
    )
    today = timezone.localdate()
    since = date(today.year - WAIT_YEARS, today.month, 1)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT avg(t."on" - a.first_registered_on)::int, count(*)
            FROM applications_applicationtransition t
            JOIN applications_application a ON a.id = t.application_id
            WHERE t.to_status = 'lease_signed' AND a.agency_id = %s AND a.category = %s
              AND t."on" >= %s
            """,
            [application.agency_id, application.category, since],
        )
        average, housed = cursor.fetchone()
    return Position(rank=ahead + 1, among=among, average_wait_days=average, housed=housed)
