"""{% blinding_surface study %}: surface cues per source on the coordinator's study page."""

from django import template
from django.core.cache import cache
from django.db.models import Count, Max

from review.blinding_audit import surface_cues
from review.models import Study

register = template.Library()

# Cues read and parse every report's text (about 5 s for 10,000 reports): computed once per
# set of member reports, not on every view of the study page. Reports are never edited, so
# the membership (count and latest row) identifies what the cues were computed from.
SURFACE_CACHE_SECONDS = 24 * 3600


@register.inclusion_tag("review/blinding_surface.html")
def blinding_surface(study: Study) -> dict:
    members = study.memberships.aggregate(n=Count("id"), last=Max("id"))
    key = f"blinding-surface:{study.pk}:{members['n']}:{members['last']}"
    cues = cache.get(key)
    if cues is None:
        cues = surface_cues(study=study)
        cache.set(key, cues, timeout=SURFACE_CACHE_SECONDS)
    return {"study": study, "cues": cues, "warn": any(cue.warn for cue in cues)}
