"""The audit trail: one row per change a person made, read by coordinators and exports."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User

from review.models import (
    AuditEvent,
    Study,
)


def audit_log(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    study: Study | None = None,
    target: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor if isinstance(actor, User) else None,
        action=action,
        study=study,
        target=target,
        details=details or {},
    )
