"""Blinding decisions a coordinator records: differences between the sources accepted
with a reason."""

from django.contrib.auth.models import User
from django.utils.translation import gettext as _

from review.exceptions import InvalidInput
from review.models import (
    AuditEvent,
    Study,
)
from review.services.audit import audit_log

# Surface differences between the sources (length, sections) that the leak audit treats as
# leaks unless a coordinator accepts them: the reference study found synthetic reports
# longer, which can be a result, but opening a study with it must be a recorded decision.
ACCEPTABLE_SURFACE_CUES = ("length", "sections")
SURFACE_ACCEPTED = "blinding.surface_accepted"


def blinding_surface_accept(*, study: Study, cue: str, reason: str, actor: User) -> AuditEvent:
    """Record that `actor` accepts the difference in `cue` between the sources, with their
    reason, in the audit trail (append-only); the audit then reports it as accepted."""
    reason = reason.strip()
    if cue not in ACCEPTABLE_SURFACE_CUES:
        raise InvalidInput(
            _("Only %(cues)s differences can be accepted.")
            % {"cues": ", ".join(ACCEPTABLE_SURFACE_CUES)},
            code="unknown_cue",
        )
    if len(reason) < 10:
        raise InvalidInput(
            _("Give the reason for accepting this difference (at least 10 characters)."),
            code="reason_required",
        )
    return audit_log(
        actor=actor,
        action=SURFACE_ACCEPTED,
        study=study,
        target=study.code,
        details={"cue": cue, "reason": reason},
    )
