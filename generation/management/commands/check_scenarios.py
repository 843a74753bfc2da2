"""Sample scenarios and print how often each clinical consistency rule is broken.

    python manage.py check_scenarios --count 5000 [--frame NAME[@V]] [--guideline NAME@V]
        [--seed S] [--site lung] [--language fr|en] [--examples 3]

The scenarios are drawn exactly as a batch would draw them (same sampler, frame and
knowledge base) and held to every rule of generation.clinical.checker; the output is one
line per rule with the number and rate of scenarios breaking it, then a few examples with
their evidence. Nothing is written. The exit status is 1 when any rule is broken.
"""

from __future__ import annotations

from collections import defaultdict

from django.core.management.base import BaseCommand, CommandError

from generation import catalogue, frame_format
from generation.clinical import checker
from generation.models import GuidelineVersion
from generation.sampler import scenario_sample
from review.exceptions import ServiceError


class Command(BaseCommand):
    help = "Print the violation rate of each clinical rule over N sampled scenarios."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--frame", default="", help="frame name or name@version")
        parser.add_argument("--guideline", default="", help="knowledge base name@version")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--site", default="", help="only this cancer site (e.g. lung)")
        parser.add_argument("--language", choices=["fr", "en"], default="fr")
        parser.add_argument("--examples", type=int, default=3, help="examples shown per rule")

    def handle(self, *args, **options):
        count = options["count"]
        if count < 1:
            raise CommandError("--count must be at least 1.")
        try:
            frame_row = catalogue.frame_resolve(frame=options["frame"] or None)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        frame = frame_format.frame_validate(frame_row.data)
        if options["site"] and options["site"] not in frame.sites:
            raise CommandError(f"Site {options['site']!r} is not in frame {frame_row.label}.")
        guideline = self._guideline(options["guideline"])
        kb = catalogue.guideline_knowledge(guideline=guideline)
        examples: dict[str, list[str]] = defaultdict(list)
        per_case = []
        for index in range(count):
            scenario = scenario_sample(
                frame=frame,
                seed=options["seed"],
                index=index,
                language=options["language"],
                site_filter=options["site"],
                kb=kb,
            )
            case = scenario.clinical_case()
            violations = checker.scenario_violations(kb, case) if case else []
            per_case.append(violations)
            for violation in violations:
                if len(examples[violation.rule]) < options["examples"]:
                    examples[violation.rule].append(
                        f"#{index} {scenario.site} {scenario.plan}: {violation.detail}"
                    )
        cases, counts = checker.violation_rates(per_case)
        self.stdout.write(
            f"{cases} scenarios · frame {frame_row.label} · knowledge base {kb.label} · "
            f"seed {options['seed']}"
        )
        width = max(len(rule) for rule in counts)
        for rule, broken in counts.items():
            self.stdout.write(f"{rule:<{width}}  {broken:>6}  {100 * broken / cases:6.2f}%")
        for rule, lines in examples.items():
            self.stdout.write(f"\n{rule}:")
            for line in lines:
                self.stdout.write(f"  {line}")
        if any(counts.values()):
            raise SystemExit(1)

    def _guideline(self, label: str) -> GuidelineVersion | None:
        if not label:
            return catalogue.guideline_latest()
        name, _sep, version = label.partition("@")
        found = GuidelineVersion.objects.filter(
            name=name, version=int(version) if version.isdigit() else -1
        ).first()
        if found is None:
            raise CommandError(f"Unknown knowledge base {label!r} (use name@version).")
        return found
