"""CSV (French: semicolons, decimal commas, UTF-8 with BOM) and XLSX exports of the dashboard tables.

The XLSX is written by hand (a zip of five SpreadsheetML parts, numbers as numbers, text inline):
openpyxl is not among the project's dependencies and this is all the tables need.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from decimal import Decimal
from xml.sax.saxutils import escape  # nosec B406 - escaping only, nothing is parsed

from django.urls import reverse
from django.utils import timezone

from tenancies.formatting import format_euros

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UNITS = {"euros": "€", "percent": "%", "days": "jours", "months": "mois", "points": "points", "count": ""}


def _plain(value, unit):
    """Counts as integers; other figures keep their Decimal places."""
    if value is not None and unit == "count":
        return int(value)
    return value


def table(block, selection, *, by_agency: bool):
    """(title, headers, rows) of a block's table; rows hold raw values (Decimal, None or text)."""
    period = selection.period
    if by_agency:
        headers = ["Chiffre", "Unité"] + [a.name for a in block.agency_headers]
        rows = [
            [label, UNITS[unit]] + [_plain(value, unit) for _d, value, _l in cells]
            for label, unit, cells in block.agency_rows
        ]
        return f"{block.title} par agence — {period.label}", headers, rows
    headers = [
        "Chiffre",
        "Unité",
        period.label,
        f"Période précédente ({period.previous().label})",
        "Écart",
        f"Un an avant ({period.last_year().label})",
        "Écart sur un an",
    ]
    rows = [
        [r.label, UNITS[r.unit], r.current, r.previous, r.vs_previous, r.last_year, r.vs_last_year] for r in block.rows
    ]
    scope = selection.agency.name if selection.agency else "toutes agences"
    return f"{block.title} — {period.label} — {scope}", headers, rows


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return str(value).replace(".", ",")
    return str(value)


def to_csv(headers, rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _col(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        name = chr(65 + rem) + name
    return name


def _xlsx_cell(ref: str, value) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, Decimal, float)) and not isinstance(value, bool):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def to_xlsx(title: str, headers, rows) -> bytes:
    sheet_rows = []
    for r, row in enumerate([[title], headers, *rows], start=1):
        cells = "".join(_xlsx_cell(f"{_col(c)}{r}", v) for c, v in enumerate(row))
        sheet_rows.append(f'<row r="{r}">{cells}</row>')
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel_ns = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel_ns}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<workbook xmlns="{ns}" xmlns:r="{rel_ns}">'
            '<sheets><sheet name="Tableau" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel_ns}/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<worksheet xmlns="{ns}"><sheetData>{"".join(sheet_rows)}</sheetData></worksheet>'
        ),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, xml in parts.items():
            archive.writestr(name, xml)
    return buffer.getvalue()


def _resolve(item, attr: str):
    value = item
    for part in attr.split("."):
        value = getattr(value, part)
        if callable(value):
            value = value()
    return value


def cell(item, attr: str, kind: str) -> tuple[str, str]:
    """(text, link) of one drill-down cell."""
    value = _resolve(item, attr)
    link = ""
    if kind == "euros":
        text = format_euros(value)
    elif kind == "date":
        text = f"{value:%d/%m/%Y}" if isinstance(value, date) else ""
    elif kind == "datetime":
        text = f"{timezone.localtime(value):%d/%m/%Y %H:%M}" if value else ""
    elif kind == "month":
        text = f"{value:%m/%Y}" if isinstance(value, date) else ""
    else:
        text = "" if value is None else str(value)
    if kind == "link":
        link = item.get_absolute_url()
    elif kind == "account":
        link = reverse("billing:account_detail", args=[item.account_id])
    elif kind == "account_self":
        link = reverse("billing:account_detail", args=[item.pk])
    return text, link
