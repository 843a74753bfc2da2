"""Catalogue writes and look-ups: sampling frames, prompt templates, guideline knowledge bases.

Keyword-only functions; bad input raises `review.exceptions.InvalidInput` and writes
nothing. Frames and prompt versions are immutable once a batch used them (provenance names
them by label), so a change is always a new version.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils.translation import gettext as _

from generation import frame_format
from generation.clinical import knowledge
from generation.models import GuidelineVersion, PromptTemplate, SamplingFrame
from generation.output import EXTRACTION_SCHEMA_VERSION, OUTPUT_SCHEMA_VERSION
from generation.prompts import DEFAULT_PROMPTS, PROMPTS_V2
from review.exceptions import InvalidInput
from review.services import audit_log

User = AbstractBaseUser | AnonymousUser | None


def user_or_none(user: User) -> Any:
    """The user to store as author: anonymous and missing users are stored as NULL."""
    return user if user is not None and user.is_authenticated else None


def frame_default_ensure() -> SamplingFrame:
    """The default frame, created if missing. Data migration 0002 seeds it; this stays for
    writes that need it after a flush (transactional tests) or on a database migrated
    before 0002 existed. Pages never call it: a read must not write."""
    data = frame_format.default_frame_data()
    frame = SamplingFrame.objects.filter(name=data["name"], version=data["version"]).first()
    if frame is None:
        # Validated before storing, like an upload: a broken file in a release must fail here.
        frame_format.frame_validate(data)
        frame, _created = SamplingFrame.objects.get_or_create(
            name=data["name"],
            version=data["version"],
            defaults={"title": data.get("title", ""), "data": data, "sources": data["sources"]},
        )
    return frame


def frame_create(*, text: str, created_by: User = None) -> SamplingFrame:
    """Validate an uploaded frame (JSON or YAML) and store it; all errors at once."""
    try:
        data = frame_format.frame_parse_text(text)
        parsed = frame_format.frame_validate(data)
    except frame_format.FrameInvalid as exc:
        raise InvalidInput(
            _("The frame is invalid: %(errors)s") % {"errors": " | ".join(exc.errors)},
            code="frame_invalid",
        ) from None
    if SamplingFrame.objects.filter(name=parsed.name, version=parsed.version).exists():
        raise InvalidInput(
            _("A frame %(label)s already exists; raise its version.")
            % {"label": f"{parsed.name}@{parsed.version}"},
            code="frame_exists",
        )
    frame = SamplingFrame.objects.create(
        name=parsed.name,
        version=parsed.version,
        title=parsed.title,
        data=data,
        sources=data["sources"],
        created_by=user_or_none(created_by),
    )
    audit_log(actor=created_by, action="generation.frame_created", target=frame.label)
    return frame


def prompt_defaults_ensure() -> dict[str, PromptTemplate]:
    """Version 1 (one pass) and the two-pass guideline-aware version of the default prompt
    of each language, created if missing (as above); returns version 1 by language."""
    templates = {}
    for language, spec in DEFAULT_PROMPTS.items():
        templates[language], _created = PromptTemplate.objects.get_or_create(
            name=spec["name"],
            version=1,
            defaults={
                "language": language,
                "system_template": spec["system"],
                "user_template": spec["user"],
                "output_schema_version": OUTPUT_SCHEMA_VERSION,
            },
        )
        if not PromptTemplate.objects.filter(name=spec["name"], passes="two_pass").exists():
            v2 = PROMPTS_V2[language]
            latest = PromptTemplate.objects.filter(name=spec["name"]).order_by("-version").first()
            PromptTemplate.objects.create(
                name=spec["name"],
                version=(latest.version if latest else 0) + 1,
                language=language,
                system_template=v2["system"],
                user_template=v2["user"],
                extraction_template=v2["extraction"],
                passes=PromptTemplate.Passes.TWO_PASS,
                output_schema_version=EXTRACTION_SCHEMA_VERSION,
            )
    return templates


def prompt_template_new_version(
    *,
    base: PromptTemplate,
    system_template: str,
    user_template: str,
    extraction_template: str | None = None,
    created_by: User = None,
) -> PromptTemplate:
    """A new version of `base` (versions are immutable once a batch used them)."""
    if not system_template.strip() or not user_template.strip():
        raise InvalidInput(_("Both prompts must be non-empty."), code="prompt_empty")
    if "$scenario" not in user_template:
        raise InvalidInput(
            _("The user prompt must contain $scenario (where the scenario goes)."),
            code="prompt_no_scenario",
        )
    # Numbered after the latest version of the name, not after `base`: editing v1 when v3
    # exists gives v4, never a second v2.
    latest = PromptTemplate.objects.filter(name=base.name).order_by("-version").first()
    version = (latest.version if latest else 0) + 1
    return PromptTemplate.objects.create(
        name=base.name,
        version=version,
        language=base.language,
        system_template=system_template,
        user_template=user_template,
        # A new version keeps its base's kind (one pass or two) and output schema.
        passes=base.passes,
        extraction_template=base.extraction_template
        if extraction_template is None
        else extraction_template,
        output_schema_version=base.output_schema_version,
        created_by=user_or_none(created_by),
    )


def frame_resolve(*, frame: SamplingFrame | str | None) -> SamplingFrame:
    if isinstance(frame, SamplingFrame):
        return frame
    if not frame:
        return frame_default_ensure()
    name, _sep, version = frame.partition("@")
    frames = SamplingFrame.objects.filter(name=name)
    if version:
        if not version.isdigit():
            raise InvalidInput(_("Unknown frame %(f)r.") % {"f": frame}, code="unknown_frame")
        frames = frames.filter(version=int(version))
    found = frames.order_by("-version").first()
    # The default frame by name works even where its row was flushed (see frame_default_ensure).
    if found is None and name == frame_format.default_frame_data()["name"]:
        found = frame_default_ensure()
    if found is None:
        raise InvalidInput(_("Unknown frame %(f)r.") % {"f": frame}, code="unknown_frame")
    return found


def prompt_resolve(*, prompt: PromptTemplate | str | None, language: str) -> PromptTemplate:
    defaults = prompt_defaults_ensure()
    if isinstance(prompt, PromptTemplate):
        found: PromptTemplate | None = prompt
    elif not prompt:
        found = (
            PromptTemplate.objects.filter(name=defaults[language].name).order_by("-version").first()
        )
    else:
        # "name-vN" first; a bare name (which may itself contain "-v") means its latest.
        name, sep, version = prompt.rpartition("-v")
        found = None
        if sep and version.isdigit():
            found = PromptTemplate.objects.filter(name=name, version=int(version)).first()
        if found is None:
            found = PromptTemplate.objects.filter(name=prompt).order_by("-version").first()
    if found is None:
        raise InvalidInput(_("Unknown prompt %(p)r.") % {"p": prompt}, code="unknown_prompt")
    if found.language != language:
        raise InvalidInput(
            _("Prompt %(p)s is in %(pl)s, the batch in %(l)s.")
            % {"p": found.label, "pl": found.language, "l": language},
            code="prompt_language",
        )
    return found


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
        created_by=user_or_none(created_by),
    )
    audit_log(actor=created_by, action="generation.guideline_created", target=guideline.label)
    return guideline
