import pytest

from review import services
from review.models import Assignment, Study
from tests.factories import ReviewerFactory, SyntheticReportFactory

# A perioperative plan names FLOT twice: the treatment annotation is anchored on the second
# mention (occurrence 2 at generation), the one after surgery.
TEXT = (
    "Patient de 64 ans, adénocarcinome gastrique cT3N1M0. Protocole FLOT avant chirurgie, "
    "gastrectomie totale, puis FLOT après chirurgie. ECOG 1. Tabagisme actif. "
    "Sortie le 12/03/2024 avec antalgiques."
)


def span(text: str, segment: str, occurrence: int = 1) -> tuple[int, int]:
    start = -1
    for _ in range(occurrence):
        start = text.index(segment, start + 1)
    return start, start + len(segment)


def annotations_for(text: str) -> list[dict]:
    rows = [
        ("age", "64", "64 ans", 1),
        ("tnm", "cT3N1M0", "cT3N1M0", 1),
        ("treatment", "FLOT adjuvant", "FLOT", 2),
        ("ecog", "1", "ECOG 1", 1),
        ("smoking", "ancien", "Tabagisme actif", 1),
    ]
    out = []
    for field, value, segment, occurrence in rows:
        start, end = span(text, segment, occurrence)
        out.append({"field": field, "value": value, "start": start, "end": end, "text": segment})
    return out


def make_audit_study(*, coordinator, reviewers, n_reports=2, k=2, seed=5) -> Study:
    study = services.study_create(
        name="Audit",
        created_by=coordinator,
        raters_per_report=k,
        seed=seed,
        kind=Study.Kind.ANNOTATION_AUDIT,
    )
    reports = [
        SyntheticReportFactory(text=TEXT + f" Réf {n}.", annotations=annotations_for(TEXT))
        for n in range(n_reports)
    ]
    services.study_reports_add(study=study, reports=reports)
    services.study_reviewers_set(study=study, reviewers=reviewers, actor=coordinator)
    return services.study_open(study=study, actor=coordinator)


@pytest.fixture
def audit_study(coordinator, reviewers):
    return make_audit_study(coordinator=coordinator, reviewers=reviewers)


@pytest.fixture
def audit_assignment(audit_study, reviewer):
    return (
        Assignment.objects.filter(study=audit_study, reviewer=reviewer).order_by("position").first()
    )


@pytest.fixture
def third_reviewer(db):
    return ReviewerFactory()
