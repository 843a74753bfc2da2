"""Benchmark 5, the import: 10,000 real reports from one CSV file in one upload, through the
Reports → Import page as a coordinator does it: POST the file (parse, validate, replace
placeholders and shift dates, check duplicates, render the preview), then POST the commit
(the same preparation again, then every report in one transaction). gunicorn (the
production entry point), DEBUG off, PostgreSQL on 127.0.0.1; the client is httpx in this
process.

Reports are ~2 KB of French hospitalization-report text with the placeholders real
de-identified exports carry ([NOM], [PRENOM], [DDN], [MEDECIN], [HOPITAL], [VILLE], [TEL])
and real dates, plus an id and two metadata columns. Target: preview + commit <= 30 s.

    .venv/bin/python bench/bench_import.py              # BENCH_IMPORT_REPORTS=10000
"""

from __future__ import annotations

import csv
import io
import os
import random
import re
import secrets
import string
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench import harness
from bench.recording import record

REPORTS = int(os.environ.get("BENCH_IMPORT_REPORTS", "10000"))
TARGET_SECONDS = 30.0

SECTIONS = (
    (
        "COMPTE RENDU D'HOSPITALISATION - [HOPITAL]",
        "Service d'oncologie médicale. Dr [MEDECIN]. Tél. [TEL].",
    ),
    (
        "Patient",
        "[PRENOM] [NOM], né(e) le [DDN], domicilié(e) à [VILLE], hospitalisé(e) du "
        "{admission} au {discharge}.",
    ),
    (
        "Motif d'hospitalisation",
        "Prise en charge d'un adénocarcinome {site} de stade {stage}, dossier {i}.",
    ),
    (
        "Antécédents",
        "Hypertension artérielle traitée. Diabète de type 2 sous metformine. Tabagisme "
        "sevré depuis {years} ans. Appendicectomie dans l'enfance.",
    ),
    (
        "Histoire de la maladie",
        "Découverte sur un scanner réalisé le {scan} pour altération de l'état général avec "
        "perte de {kg} kg en trois mois. Biopsie confirmant le diagnostic histologique. "
        "Dossier discuté en réunion de concertation pluridisciplinaire le {rcp}.",
    ),
    (
        "Examen clinique",
        "Patient en bon état général, OMS {oms}. Poids {weight} kg. Pas d'adénopathie "
        "palpable. Abdomen souple, dépressible et indolore. Auscultation cardio-pulmonaire "
        "normale. Pas d'œdème des membres inférieurs.",
    ),
    (
        "Examens complémentaires",
        "TEP-scanner : hypermétabolisme de la lésion primitive, sans localisation "
        "secondaire. Bilan biologique : fonction rénale normale, CRP à {crp} mg/L, "
        "hémoglobine à {hb} g/dL, ACE à {ace} ng/mL.",
    ),
    (
        "Évolution",
        "Première cure de chimiothérapie le {cure}, bien tolérée. Pas de complication "
        "infectieuse. Antiémétiques efficaces. Reprise de l'alimentation orale.",
    ),
    (
        "Conclusion",
        "Sortie à domicile le {discharge}. Prochaine cure prévue le [DATE] à [HOPITAL]. "
        "Courrier adressé au médecin traitant, le Dr [MEDECIN].",
    ),
)
SITES = ["du côlon", "du rectum", "pulmonaire", "gastrique", "pancréatique", "de la prostate"]


def _date(rng: random.Random) -> str:
    return f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(2019, 2024)}"


def report_text(i: int, rng: random.Random) -> str:
    values = {
        "i": i,
        "site": rng.choice(SITES),
        "stage": rng.choice(["I", "II", "III", "IV"]),
        "years": rng.randint(1, 30),
        "kg": rng.randint(2, 12),
        "oms": rng.randint(0, 2),
        "weight": rng.randint(45, 110),
        "crp": rng.randint(1, 80),
        "hb": f"{rng.uniform(9, 15):.1f}",
        "ace": f"{rng.uniform(1, 40):.1f}",
        "admission": _date(rng),
        "discharge": _date(rng),
        "scan": _date(rng),
        "rcp": _date(rng),
        "cure": _date(rng),
    }
    return "\n\n".join(f"{title}\n{body.format(**values)}" for title, body in SECTIONS)


def csv_file(count: int) -> bytes:
    rng = random.Random(10)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "service", "year", "text"])
    for i in range(count):
        writer.writerow([f"CRH-{i:06d}", "oncologie", 2019 + i % 6, report_text(i, rng)])
    return buffer.getvalue().encode("utf-8")


def main() -> int:
    data = csv_file(REPORTS)
    with (
        harness.bench_database(f"{harness.BENCH_DATABASE}_import") as database_url,
        tempfile.TemporaryDirectory(prefix="bench-import-media-") as media_root,
    ):
        # Uploads wait between preview and commit under MEDIA_ROOT/imports/.
        env = harness.server_environment(database_url, MEDIA_ROOT=media_root)
        harness.migrate(env)
        harness.django_setup(env)
        from django.db import connections

        from bench.seeding import coordinator_session_create
        from review.models import Report

        _user, session_key = coordinator_session_create()
        connections.close_all()
        csrf = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
        workers, threads = harness.gunicorn_sizing()
        with (
            harness.gunicorn_server(env=env) as server,
            httpx.Client(
                base_url=server.base_url,
                cookies={"sessionid": session_key, "csrftoken": csrf},
                headers={"X-CSRFToken": csrf},
                timeout=300,
            ) as client,
        ):
            for _ in range(workers * 2):  # a first request in every worker
                client.get("/coordinate/imports/").raise_for_status()
            before = server.rss_bytes()
            with harness.RssSampler(server.rss_bytes) as memory:
                started = time.perf_counter()
                preview = client.post(
                    "/coordinate/imports/",
                    data={"file_format": "csv", "language": "fr"},
                    files={"file": ("reports.csv", data, "text/csv")},
                )
                previewed = time.perf_counter()
                if preview.status_code != 200:
                    raise RuntimeError(f"preview answered {preview.status_code}: {preview.text}")
                token = re.search(r'name="token" value="([0-9a-f]{32})"', preview.text)
                if token is None:
                    raise RuntimeError("no commit token in the preview page")
                commit = client.post("/coordinate/imports/commit/", data={"token": token[1]})
                committed = time.perf_counter()
            if commit.status_code != 302:
                raise RuntimeError(f"commit answered {commit.status_code}: {commit.text[:500]}")
        stored = Report.objects.filter(source=Report.Source.REAL).count()
        connections.close_all()
        if stored != REPORTS:
            raise RuntimeError(f"{stored} reports stored, expected {REPORTS}")
        total = committed - started
        rows = [
            {
                "reports": REPORTS,
                "upload_mb": len(data) / 1e6,
                "preview_s": previewed - started,
                "commit_s": committed - previewed,
                "total_s": total,
                "reports_per_s": REPORTS / total,
                "preview_page_kb": len(preview.content) / 1024,
                "rss_before_mb": before / 2**20,
                "peak_rss_mb": memory.peak_bytes / 2**20,
                "target": f"≤ {TARGET_SECONDS:g} s",
                "met": "met" if total <= TARGET_SECONDS else "MISSED",
            }
        ]
        record(
            title="Import: one CSV upload over HTTP (bench_import)",
            rows=rows,
            command=".venv/bin/python bench/bench_import.py",
            notes=(
                f"{REPORTS:,} reports (~{len(data) / REPORTS / 1024:.1f} KB each, 7 kinds of "
                "placeholder and 6 real dates per report) in one CSV, uploaded by a coordinator "
                "session to Reports → Import: preview = POST of the file (parse, validate, "
                "surrogates, date shift, duplicate check, preview page); commit = POST of the "
                "preview's token (same preparation, then one transaction). gunicorn "
                f"{workers} workers × {threads} threads, "
                "DEBUG off. RSS = gunicorn master + workers summed.\n"
                f"- preview + commit {total:.1f} s (target ≤ {TARGET_SECONDS:g} s): "
                f"{rows[0]['met']}\n"
            ),
            database_url=database_url,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
