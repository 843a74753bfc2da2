"""Audit what a study's reviewers receive for anything that reveals a report's source."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from review.blinding.audit import blinding_audit
from review.models import Study


class Command(BaseCommand):
    help = (
        "Render every page, partial and API response the study's reviewers can receive and "
        "check that nothing but the writing tells real from synthetic reports. Exits with "
        "status 1 when a leak is found. Writes nothing (a draft study is opened only inside "
        "a rolled-back transaction)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("study", help="study code (S-…) or numeric id")
        parser.add_argument("--permutations", type=int, default=100)
        parser.add_argument(
            "--max-reports-per-reviewer",
            type=int,
            default=None,
            help="render at most this many rating pages per reviewer (large studies)",
        )

    def handle(self, *args, **options) -> None:
        key = options["study"]
        study = Study.objects.filter(code=key).first()
        if study is None and key.isdigit():
            study = Study.objects.filter(pk=int(key)).first()
        if study is None:
            raise CommandError(f"no study {key!r}")
        result = blinding_audit(
            study=study,
            permutations=options["permutations"],
            max_reports_per_reviewer=options["max_reports_per_reviewer"],
        )
        opened = " (opening simulated, then rolled back)" if result.simulated_opening else ""
        self.stdout.write(
            f"Study {study.code}{opened}: {result.pages} payloads for {result.reports} reports."
        )
        self.stdout.write("Surface cues (real vs synthetic, medians):")
        for cue in result.surface:
            mark = "WARN" if cue.warn else "ok  "
            p_value = f"{cue.p_value:.3g}" if cue.p_value is not None else "n/a"
            self.stdout.write(
                f"  {mark} {cue.name}: {cue.real_median:g} vs {cue.synthetic_median:g} "
                f"(ratio {cue.ratio:.2f}, Mann-Whitney p={p_value}) {cue.note}".rstrip()
            )
        self.stdout.write("What the figures mean:")
        for line in result.explanations:
            self.stdout.write(f"  {line}")
        for finding in result.warnings:
            self.stdout.write(self.style.WARNING(f"WARNING [{finding.check}] {finding.message}"))
        for finding in result.leaks:
            self.stderr.write(self.style.ERROR(f"LEAK [{finding.check}] {finding.message}"))
        if result.leaks:
            raise CommandError(result.headline)
        self.stdout.write(self.style.SUCCESS(result.headline))
