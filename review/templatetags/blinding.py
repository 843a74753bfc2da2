"""{% blinding_surface study %}: surface cues per source on the coordinator's study page."""

from django import template

from review.blinding_audit import surface_cues
from review.models import Study

register = template.Library()


@register.inclusion_tag("review/blinding_surface.html")
def blinding_surface(study: Study) -> dict:
    cues = surface_cues(study=study)
    return {"study": study, "cues": cues, "warn": any(cue.warn for cue in cues)}
