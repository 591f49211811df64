#!/usr/bin/env python
"""Move-in / move-out speed on the 100 000-dwelling stock, in-process with production settings.

    .venv/bin/python bench/inspections.py [--database-url URL] [--dwellings 100000] [--skip-setup]
                                          [--saves 60] [--requests 200] [--photos 30]

1. makes sure the benchmark database exists (creates it, migrates, `seed_demo --dwellings N`,
   `seed_inspections_demo`; both idempotent) and that static files are collected;
2. adds, once, 6 agents d'état des lieux and 4 000 appointments over 8 weeks in agency SA
   (bulk rows: the schedule page has real work to do);
3. room save: an exit EDL on an active lease, then --saves POSTs of one room (htmx, as the
   tablet sends them) through the Django test client: p50 / p95 in ms;
4. EDL PDF: a 6-room EDL (a T2) with --photos photos uploaded as 3000 × 2000 JPEGs through the
   upload path (checked, re-encoded, EXIF stripped, downscaled), signed, then the PDF rendered:
   seconds for the render, and the mean upload time per photo;
5. schedule: --requests GETs of the schedule page (day and week views, agency and agent filters)
   as edl.seine: p50 / p95 in ms;
6. prints a table, then as its last line one JSON object:
   {"room_save_ms": …, "edl_pdf_s": …, "schedule_p95_ms": …, …}.

The HTTP / gunicorn layer is not included (see bench/pages.py for that); targets: room save
< 200 ms, EDL PDF < 5 s, schedule p95 < 150 ms. See bench/README.md.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEFAULT_DB_URL = "postgres://postgres@127.0.0.1:5432/locatif_insp_bench"
BENCH_AGENTS = 6
BENCH_APPOINTMENTS = 4000


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def env_for(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="0",
        LOCATIF_TESTING="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        SECURE_HSTS_SECONDS="0",
        DATABASE_URL=database_url,
        CELERY_TASK_ALWAYS_EAGER="1",
        LOG_LEVEL="WARNING",
    )
    return env


def manage(env: dict[str, str], *args: str) -> None:
    log("manage.py " + " ".join(args))
    started = time.monotonic()
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=sys.stderr)  # noqa: S603
    log(f"  done in {time.monotonic() - started:.1f} s")


def ensure_database(database_url: str) -> None:
    from urllib.parse import urlsplit, urlunsplit

    import psycopg
    from psycopg import sql

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        raise SystemExit("The benchmark database name must contain 'bench' (it gets test rows).")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            log(f"creating database {name}")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def prepare(args, env) -> None:
    ensure_database(args.database_url)
    if not args.skip_setup:
        manage(env, "migrate", "--noinput", "-v", "0")
        dev = {**env, "DJANGO_DEBUG": "1"}
        manage(dev, "seed_demo", "--dwellings", str(args.dwellings))
        manage(dev, "seed_inspections_demo")
    if not (ROOT / "staticfiles" / "staticfiles.json").exists():
        manage(env, "collectstatic", "--noinput", "-v", "0")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def photo_bytes(rng: random.Random) -> bytes:
    """A 3000 × 2000 camera-like JPEG (noise, so it does not compress away) with EXIF."""
    from PIL import Image

    noise = Image.effect_noise((750, 500), 60).convert("RGB").resize((3000, 2000))
    tint = Image.new("RGB", (3000, 2000), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    image = Image.blend(noise, tint, 0.4)
    exif = Image.Exif()
    exif[0x010F] = "BenchTablet"
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=88, exif=exif)
    return out.getvalue()


def ensure_appointments(rng: random.Random, start: date) -> int:
    """6 bench agents in SA and 4 000 appointments over 8 weeks (bulk rows), once."""
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.utils import timezone

    from inspections.models import Inspection, InspectionKind, InspectionStatus
    from tenancies.models import Agency, Lease, LeaseStatus, User
    from tenancies.roles import Role

    agency = Agency.objects.get(code="SA")
    group, _ = Group.objects.get_or_create(name=Role.AGENT_EDL)
    agents = []
    for n in range(1, BENCH_AGENTS + 1):
        user, created = User.objects.get_or_create(username=f"edl.bench.{n}", defaults={"last_name": f"Bench {n}"})
        if created:
            user.groups.add(group)
            user.agencies.add(agency)
        agents.append(user)
    existing = Inspection.objects.filter(agent__in=agents).count()
    if existing >= BENCH_APPOINTMENTS:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE inspections_inspection")
        return existing
    leases = list(
        Lease.objects.filter(status=LeaseStatus.ACTIVE, dwelling__building__estate__agency=agency)
        .order_by("?")
        .values_list("pk", flat=True)[:BENCH_APPOINTMENTS]
    )
    rows = []
    for i, lease_id in enumerate(leases):
        day = start + timedelta(days=rng.randrange(56))
        when = timezone.make_aware(datetime.combine(day, datetime.min.time()).replace(hour=8 + rng.randrange(10)))
        rows.append(
            Inspection(
                lease_id=lease_id,
                agency=agency,
                kind=InspectionKind.PRE_VISIT if i % 3 else InspectionKind.EXIT,
                status=InspectionStatus.SCHEDULED,
                scheduled_at=when,
                agent=agents[i % len(agents)],
            )
        )
    Inspection.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE inspections_inspection")
    return Inspection.objects.filter(agent__in=agents).count()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=os.environ.get("BENCH_INSPECTIONS_DATABASE_URL", DEFAULT_DB_URL))
    parser.add_argument("--dwellings", type=int, default=100_000)
    parser.add_argument("--skip-setup", action="store_true")
    parser.add_argument("--saves", type=int, default=60)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--photos", type=int, default=30)
    args = parser.parse_args()

    env = env_for(args.database_url)
    prepare(args, env)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from inspections import pdf, services
    from inspections.models import Condition, InspectionKind, KeyKind
    from tenancies.models import Dwelling, Lease, LeaseStatus, User

    rng = random.Random(5)
    today = timezone.localdate()
    dwellings = Dwelling.objects.count()
    log(f"{dwellings} dwellings")
    week_start = today - timedelta(days=today.weekday())
    appointments = ensure_appointments(rng, week_start - timedelta(days=14))
    log(f"{appointments} bench appointments")
    agent = User.objects.get(username="edl.seine")
    clerk = User.objects.get(username="clientele.seine")

    def fresh_exit(typology: str):
        lease = (
            Lease.objects.filter(
                status=LeaseStatus.ACTIVE, dwelling__typology=typology, dwelling__building__estate__agency__code="SA"
            )
            .exclude(inspections__kind=InspectionKind.EXIT)
            .order_by("?")
            .first()
        )
        return services.inspection_schedule(
            lease=lease, kind=InspectionKind.EXIT, scheduled_at=timezone.now(), agent=agent, by=clerk
        )

    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    client.force_login(agent)

    # --- Room save ---------------------------------------------------------------------------
    inspection = fresh_exit("T3")
    rooms = list(inspection.rooms.prefetch_related("elements").order_by("position"))
    choices = [Condition.GOOD, Condition.FAIR, Condition.NEW]
    save_ms, save_cpu = [], []
    for i in range(args.saves + 3):
        room = rooms[i % len(rooms)]
        data = {f"condition-{e.pk}": rng.choice(choices) for e in room.elements.all()}
        data.update({f"comment-{e.pk}": f"relevé {i}" for e in room.elements.all()})
        data["room_comment"] = "RAS"
        t0, c0 = time.perf_counter(), time.process_time()
        response = client.post(reverse("inspections:room_edit", args=[room.pk]), data, HTTP_HX_REQUEST="true")
        elapsed, cpu = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
        assert response.status_code == 200, response.status_code
        if i >= 3:  # warm-up
            save_ms.append(elapsed)
            save_cpu.append(cpu)

    # --- EDL PDF: 6 rooms, 30 photos ---------------------------------------------------------
    edl = fresh_exit("T2")
    rooms = list(edl.rooms.prefetch_related("elements").order_by("position"))
    assert len(rooms) == 6, len(rooms)
    originals = [photo_bytes(rng) for _ in range(4)]
    upload_ms = []
    for i in range(args.photos):
        room = rooms[i % len(rooms)]
        upload = SimpleUploadedFile(f"p{i}.jpg", originals[i % len(originals)], content_type="image/jpeg")
        t0 = time.perf_counter()
        response = client.post(
            reverse("inspections:photo_upload", args=[room.pk]), {"photo": upload}, HTTP_HX_REQUEST="true"
        )
        upload_ms.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.content[:300]
    for room in rooms:
        services.room_save(
            room=room,
            conditions={e.pk: Condition.GOOD for e in room.elements.all()},
            comments={e.pk: "Bon état général, traces d'usage" for e in room.elements.all()},
            comment="",
            by=agent,
        )
    from decimal import Decimal

    services.inspection_save_details(
        inspection=edl,
        meters={"water_index": Decimal("120.5"), "electricity_index": Decimal("4521"), "gas_index": None},
        keys=[(KeyKind.DOOR, 3, "porte palière"), (KeyKind.MAILBOX, 1, "")],
        new_address="1 rue du Banc, 78000 Versailles",
        by=agent,
    )
    import base64

    signature = "data:image/png;base64," + base64.b64encode(_png()).decode()
    from django.db import transaction

    with transaction.atomic():  # the PDF task is queued on commit: render it here, timed alone
        edl = services.inspection_sign(
            inspection=edl,
            tenant_signature=signature,
            agent_signature=signature,
            tenant_signatory="Bench",
            by=agent,
            today=today,
        )
        edl.refresh_from_db()
        t0 = time.perf_counter()
        document = pdf.render_inspection(edl)
        pdf_s = time.perf_counter() - t0
        transaction.set_rollback(True)  # leave the lease as it was (the bench can be rerun)
    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(document)).pages)

    # --- Schedule page -----------------------------------------------------------------------
    sa = agent.agencies.first().pk
    bench_agents = list(User.objects.filter(username__startswith="edl.bench.").values_list("pk", flat=True))
    urls = []
    for d in range(14):
        day = (week_start + timedelta(days=d)).isoformat()
        urls += [
            f"/etats-des-lieux/planning/?jour={day}",
            f"/etats-des-lieux/planning/?jour={day}&vue=semaine",
            f"/etats-des-lieux/planning/?jour={day}&vue=semaine&agence={sa}",
            f"/etats-des-lieux/planning/?jour={day}&agent={rng.choice(bench_agents)}",
            f"/etats-des-lieux/planning/?jour={day}&vue=semaine&agent={rng.choice(bench_agents)}",
        ]
    for url in urls[:10]:
        assert client.get(url).status_code == 200
    schedule_ms, schedule_cpu = [], []
    rows = 0
    for i in range(args.requests):
        url = urls[i % len(urls)]
        t0, c0 = time.perf_counter(), time.process_time()
        response = client.get(url)
        schedule_ms.append((time.perf_counter() - t0) * 1000)
        schedule_cpu.append((time.process_time() - c0) * 1000)
        assert response.status_code == 200
        rows = max(rows, response.content.count(b"<tr>") - 1)

    result = {
        "room_save_ms": round(percentile(save_ms, 0.95), 1),
        "room_save_p50_ms": round(statistics.median(save_ms), 1),
        "edl_pdf_s": round(pdf_s, 2),
        "edl_pdf_pages": pages,
        "photo_upload_ms": round(statistics.mean(upload_ms), 1),
        "schedule_p95_ms": round(percentile(schedule_ms, 0.95), 1),
        "schedule_p50_ms": round(statistics.median(schedule_ms), 1),
        "room_save_cpu_ms": round(statistics.median(save_cpu), 1),
        "schedule_cpu_ms": round(statistics.median(schedule_cpu), 1),
        "load_avg": round(os.getloadavg()[0], 1),
        "dwellings": dwellings,
        "appointments": appointments,
    }
    table = [
        (
            "room save (htmx POST, 1 room)",
            f"p50 {result['room_save_p50_ms']} ms",
            f"p95 {result['room_save_ms']} ms",
            "< 200 ms",
        ),
        ("photo upload (3000×2000 JPEG)", f"mean {result['photo_upload_ms']} ms", "", "—"),
        (f"EDL PDF, 6 rooms, {args.photos} photos", f"{result['edl_pdf_s']} s", f"{pages} pages", "< 5 s"),
        (
            f"schedule page ({appointments} appointments)",
            f"p50 {result['schedule_p50_ms']} ms",
            f"p95 {result['schedule_p95_ms']} ms",
            "p95 < 150 ms",
        ),
    ]
    width = max(len(r[0]) for r in table)
    print(f"{'measure'.ljust(width)}  {'value':>16}  {'':>16}  target")
    for name, a, b, target in table:
        print(f"{name.ljust(width)}  {a:>16}  {b:>16}  {target}")
    print(f"stock: {dwellings} dwellings; schedule rows on the largest page: {rows}")
    print(
        f"Python CPU of this process per request (median): room save {result['room_save_cpu_ms']} ms, "
        f"schedule {result['schedule_cpu_ms']} ms; load average {result['load_avg']} on {os.cpu_count()} CPUs"
    )
    print(json.dumps(result))
    return 0


def _png() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (600, 260), "white")
    ImageDraw.Draw(image).line([(20, 200), (200, 60), (380, 220), (580, 40)], fill="black", width=4)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


if __name__ == "__main__":
    sys.exit(main())
