"""Reports as coordinators curate them: picking a study's reports, tags."""

import random
from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from review.exceptions import InvalidInput
from review.models import (
    Report,
    Tag,
)
from review.services.audit import audit_log


def reports_pick_for_study(
    *,
    include_real: bool,
    synthetic_count: int,
    synthetic_batch: str = "",
    seed: int,
    exclude_flagged: bool = False,
) -> list[Report]:
    """All real reports (optionally) plus N synthetic ones drawn at random (seeded),
    optionally only from one generation batch."""
    chosen: list[Report] = []
    if include_real:
        chosen.extend(Report.objects.filter(source=Report.Source.REAL).order_by("pk"))
    if synthetic_count:
        synthetic = Report.objects.filter(source=Report.Source.SYNTHETIC)
        if synthetic_batch:
            synthetic = synthetic.filter(provenance__batch=synthetic_batch)
        if exclude_flagged:
            synthetic = synthetic.filter(
                Q(provenance__flags__isnull=True) | Q(provenance__flags=[])
            )
        pool = list(synthetic.order_by("pk"))
        if synthetic_count > len(pool):
            raise InvalidInput(
                _("Only %(n)d synthetic reports match; asked for %(asked)d.")
                % {"n": len(pool), "asked": synthetic_count},
                code="not_enough_synthetic",
            )
        chosen.extend(random.Random(seed).sample(pool, synthetic_count))
    return chosen


def report_tags_set(*, report: Report, names: Iterable[str], actor: User | None) -> list[str]:
    """Replace a report's tags by `names` (slugs; new tags are created). Returns the sorted
    names. Refused, writing nothing, when a name is not a slug of at most 64 characters."""
    cleaned = sorted({name.strip().lower() for name in names if name.strip()})
    for name in cleaned:
        if len(name) > 64 or not all(c.isalnum() or c in "-_" for c in name):
            raise InvalidInput(
                _("Tags are single words (letters, digits, - and _), not “%(tag)s”.")
                % {"tag": name},
                code="tag_invalid",
            )
    with transaction.atomic():
        tags = [Tag.objects.get_or_create(name=name)[0] for name in cleaned]
        report.tags.set(tags)
        audit_log(actor=actor, action="report.tags", target=report.code, details={"tags": cleaned})
    return cleaned
