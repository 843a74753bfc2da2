"""Catalogue of clinical knowledge-base versions: the stored YAML the sampler and checker use.

Keyword-only functions; bad input raises `review.exceptions.InvalidInput` and writes
nothing. A version is immutable (batches and report provenance name it), so a revision
uploaded by a coordinator is always a new version, validated first with every error listed.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils.translation import gettext as _

from generation.clinical import knowledge
from generation.models import GuidelineVersion
from review.exceptions import InvalidInput
from review.services import audit_log

User = AbstractBaseUser | AnonymousUser | None


def _user_or_none(user: User) -> Any:
    return user if user is not None and user.is_authenticated else None


def guideline_default_ensure() -> GuidelineVersion:
    """The release's knowledge base (seeded by migration; recreated if a test emptied it)."""
    kb = knowledge.default_knowledge()
    found = GuidelineVersion.objects.filter(name=kb.name, version=kb.version).first()
    if found is not None:
        return found
    found, _created = GuidelineVersion.objects.get_or_create(
        name=kb.name,
        version=kb.version,
        defaults={"title": kb.title, "text": knowledge.default_knowledge_text()},
    )
    return found


def guideline_latest() -> GuidelineVersion:
    """The newest version of the default base's name: what new batches are drawn with."""
    default = guideline_default_ensure()
    latest = GuidelineVersion.objects.filter(name=default.name).order_by("-version").first()
    return latest or default


def guideline_knowledge(*, guideline: GuidelineVersion | None) -> knowledge.KnowledgeBase:
    """The parsed base of a stored version (cached by content), the default one for None."""
    if guideline is None:
        return knowledge.default_knowledge()
    return knowledge.knowledge_from_text(guideline.text)


def guideline_create(*, text: str, created_by: User = None) -> GuidelineVersion:
    """Validate an uploaded knowledge base (YAML) and store it as a new version."""
    try:
        data = knowledge.knowledge_parse_text(text)
        kb = knowledge.knowledge_validate(data)
    except knowledge.KnowledgeInvalid as exc:
        raise InvalidInput(
            _("The knowledge base is invalid: %(errors)s") % {"errors": " | ".join(exc.errors)},
            code="guideline_invalid",
        ) from None
    if GuidelineVersion.objects.filter(name=kb.name, version=kb.version).exists():
        raise InvalidInput(
            _("A knowledge base %(label)s already exists; raise its version.")
            % {"label": kb.label},
            code="guideline_exists",
        )
    guideline = GuidelineVersion.objects.create(
        name=kb.name,
        version=kb.version,
        title=kb.title,
        text=text,
        created_by=_user_or_none(created_by),
    )
    audit_log(actor=created_by, action="generation.guideline_created", target=guideline.label)
    return guideline
