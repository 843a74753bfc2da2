"""python manage.py analyse_ratings ratings.csv --out DIR

Analyses a long-format ratings CSV with the same engine as the results page, without the
database: a study run on paper or in another tool gets the same tables and plots.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from review.exports import figure_files
from review.ratings_file import RatingsFileError, ratings_file_read
from review.stats import DEFAULT_BOOTSTRAP, Scale, analyse
from review.stats.plots import study_plots


class Command(BaseCommand):
    help = "Analyse a long-format ratings CSV (report, source, reviewer, domain, score)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ratings", type=Path, help="CSV file, one row per rating")
        parser.add_argument("--out", type=Path, required=True, help="directory for the results")
        parser.add_argument("--scale-min", type=int, default=1)
        parser.add_argument("--scale-max", type=int, default=10)
        parser.add_argument("--margin", type=float, default=1.0, help="non-inferiority margin")
        parser.add_argument("--bootstrap", type=int, default=DEFAULT_BOOTSTRAP)
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, **options) -> None:
        if options["scale_min"] >= options["scale_max"]:
            raise CommandError("--scale-min must be lower than --scale-max.")
        if options["margin"] <= 0:
            raise CommandError("--margin must be positive.")
        if options["bootstrap"] < 100:
            raise CommandError("--bootstrap must be at least 100.")
        out: Path = options["out"]
        if out.exists() and not out.is_dir():
            raise CommandError(f"{out} exists and is not a directory.")
        scale = Scale(options["scale_min"], options["scale_max"])
        try:
            table = ratings_file_read(options["ratings"], scale=scale)
        except RatingsFileError as exc:
            raise CommandError(str(exc)) from None
        results = analyse(
            table,
            scale=scale,
            margin=options["margin"],
            n_boot=options["bootstrap"],
            seed=options["seed"],
        )
        labels = {domain: domain for domain in results.domains}
        files = figure_files(
            results.as_dict(),
            study_plots(results, labels=labels),
            labels=labels,
            title=options["ratings"].name,
        )
        out.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            (out / name).write_text(content, encoding="utf-8")
        self.stdout.write(
            f"{results.n_ratings} ratings of {results.n_reports} reports by "
            f"{results.n_reviewers} reviewers; wrote {', '.join(files)} to {out}."
        )
