"""Seed a coordinator, two reviewers, sample reports and an open study for the demo.

The six "real" reports are stand-ins written for the demo as a hospital export gives them
(`data/demo/export.jsonl`), through the import's coherent surrogates into
`data/demo/reports.json` by `demo_reports_build` (their provenance says they are
stand-ins); the six synthetic ones come from the generation pipeline's offline writer, run
in-process, written like the stand-ins (their style profile: lengths, sections, headings,
abbreviations, date styles), so the demo study passes its own leak audit.
It lives in `generation` because it joins both apps: generation depends on review, never
the reverse, so review holds no command that imports generation.
"""

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from generation import services as generation_services
from review import services
from review.blinding.style_profile import style_profile_build
from review.models import Report, Study

DEMO_REPORTS = Path(__file__).resolve().parents[2] / "data" / "demo" / "reports.json"
DEMO_EXPORT = DEMO_REPORTS.with_name("export.jsonl")
DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 (printed demo login, local demo only)
# Reviewers see the study name: it must not hint at the sources.
DEMO_STUDY = "Demo study: oncology hospitalization reports"
LOGIN_LINES = (
    f"  admin:       admin / {DEMO_PASSWORD} (superuser, for /admin/)",
    f"  coordinator: coordinator / {DEMO_PASSWORD} (studies, People page)",
    f"  reviewers:   reviewer1 / {DEMO_PASSWORD}, reviewer2 / {DEMO_PASSWORD}",
)


class Command(BaseCommand):
    help = "Create demo users, stand-in reports and an open study (idempotent)."

    def handle(self, *args, **options):
        with transaction.atomic():
            users = self._users()
            study = Study.objects.filter(name=DEMO_STUDY).first()
            if study is None:
                real = self._real_standins()
                reports = real + self._synthetic(users["coordinator"], real)
                study = services.study_create(
                    name=DEMO_STUDY,
                    description="Twelve hospitalization reports to try the rating page.",
                    created_by=users["coordinator"],
                    raters_per_report=2,
                    seed=2026,
                )
                services.study_reports_add(study=study, reports=reports)
                services.study_reviewers_set(
                    study=study, reviewers=[users["reviewer1"], users["reviewer2"]]
                )
                services.study_open(study=study, actor=users["coordinator"])
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        # scripts/demo.sh copies these lines (two spaces, role, colon) to var/demo-logins.txt.
        for line in LOGIN_LINES:
            self.stdout.write(line)

    def _users(self) -> dict:
        User = get_user_model()
        coordinators = Group.objects.get(name="coordinator")
        reviewers = Group.objects.get(name="reviewer")
        users = {}
        # The superuser is for the Django admin only: no role group, on no panel.
        admin, created = User.objects.get_or_create(
            username="admin",
            defaults={"is_staff": True, "is_superuser": True, "email": "admin@demo.example"},
        )
        if created:
            admin.set_password(DEMO_PASSWORD)
            admin.save()
        for username, group, staff in (
            ("coordinator", coordinators, True),
            ("reviewer1", reviewers, False),
            ("reviewer2", reviewers, False),
        ):
            # E-mail addresses so the People page and reminders work (printed, not sent).
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"is_staff": staff, "email": f"{username}@demo.example"},
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            user.groups.add(group)
            users[username] = user
        return users

    def _real_standins(self) -> list[Report]:
        reports = []
        for row in json.loads(DEMO_REPORTS.read_text(encoding="utf-8")):
            provenance = {
                "kind": "demo-standin",
                "note": "Written for the demo as a stand-in for a real report; real studies "
                "import their own.",
            }
            report = Report.objects.filter(text=row["text"]).first()
            if report is None:
                report = Report.objects.create(
                    text=row["text"],
                    source=Report.Source.REAL,
                    language="fr",
                    external_id=row.get("external_id", ""),
                    provenance=provenance,
                )
            reports.append(report)
        return reports

    def _synthetic(self, coordinator, real: list[Report]) -> list[Report]:
        batch = generation_services.batch_launch(
            count=len(real),
            backend="offline",
            seed=2026,
            language="fr",
            name="Demo batch (offline)",
            created_by=coordinator,
            enqueue=False,
            style_profile=style_profile_build(
                reports=[(report.text, report.language) for report in real]
            ),
        )
        generation_services.batch_run_in_process(batch=batch)
        return list(
            Report.objects.filter(source=Report.Source.SYNTHETIC, provenance__batch=str(batch.pk))
        )
