"""The demo's embedded SQLite database, for real (the rest of the suite runs on
PostgreSQL): every migration applies to a fresh file, the score trigger survives the
table remakes, and report search falls back to a substring that ignores case and accents."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = r"""
import json
from django.db import IntegrityError, connection, transaction
from review import services
from review.models import Assignment, Rating, Report
from review.selectors import report_list
from tests.factories import CoordinatorFactory, ReviewerFactory

texts = {
    "accented": "Traitement par Pémétrexed, métastases hépatiques.",
    "plain": "Reprise du pemetrexed en maintenance.",
    "ligature": "Œdème des membres inférieurs.",
    "other": "Bilan sans particularité.",
}
codes = {key: Report.objects.create(text=text, source="real").code for key, text in texts.items()}


def found(query):
    hits = {report.code for report in report_list(search=query)}
    return sorted(key for key, code in codes.items() if code in hits)


coordinator = CoordinatorFactory()
reviewer = ReviewerFactory()
study = services.study_create(name="S", created_by=coordinator, raters_per_report=1, scale_max=5)
services.study_reports_add(study=study, reports=list(Report.objects.all()))
services.study_reviewers_set(study=study, reviewers=[reviewer], actor=coordinator)
services.study_open(study=study, actor=coordinator)
assignment = Assignment.objects.filter(study=study).first()
domain = study.domains.first()
try:
    with transaction.atomic():
        Rating.objects.create(assignment=assignment, domain=domain, score=9)
    trigger = "accepted"
except IntegrityError as exc:
    trigger = str(exc)
with connection.cursor() as cursor:
    cursor.execute("select name from sqlite_master where type='trigger' order by name")
    triggers = [row[0] for row in cursor.fetchall()]
print("RESULT " + json.dumps({
    "vendor": connection.vendor,
    "pemetrexed": found("pemetrexed"),
    "PÉMÉTREXED": found("PÉMÉTREXED"),
    "metastases hep": found("metastases hep"),
    "oedeme": found("oedeme"),
    "œdème": found("œdème"),
    "métastase": found("métastase"),
    "métastatique": found("métastatique"),
    "trigger": trigger,
    "triggers": triggers,
}))
"""


def test_fresh_sqlite_database_migrates_keeps_the_trigger_and_searches(tmp_path):
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
            "DEBUG": "true",
            "CELERY_TASK_ALWAYS_EAGER": "true",
        }
    )
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0", "--skip-checks"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    shell = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert shell.returncode == 0, shell.stderr[-3000:]
    line = next(x for x in shell.stdout.splitlines() if x.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    assert result == {
        "vendor": "sqlite",
        "pemetrexed": ["accented", "plain"],
        "PÉMÉTREXED": ["accented", "plain"],
        "metastases hep": ["accented"],
        "oedeme": ["ligature"],
        "œdème": ["ligature"],
        # A substring, no stemming: "métastase" is inside "métastases", "métastatique" is not.
        "métastase": ["accented"],
        "métastatique": [],
        "trigger": "score outside the study scale",
        "triggers": ["review_rating_score_in_scale_ins", "review_rating_score_in_scale_upd"],
    }
