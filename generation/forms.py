import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from generation import guidelines
from generation.backends import BACKEND_CHOICES, BACKENDS, network_model_choices
from generation.models import Batch, PromptTemplate, SamplingFrame
from review.models import Report, ReportImport, Study


def site_choices() -> list[tuple[str, str]]:
    language = "fr" if (get_language() or "").startswith("fr") else "en"
    sites = [(key, guidelines.site_label(key, language)) for key, _en in guidelines.site_choices()]
    return [("", str(_("all sites, by frequency"))), *sites]


class BatchLaunchForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=120,
        required=False,
        help_text=_(
            "Shown when composing studies (e.g. “Lung pilot, Mistral Large”); empty: the date, "
            "language and size."
        ),
    )
    count = forms.IntegerField(label=_("Number of reports"), min_value=1, initial=10)
    frame = forms.ModelChoiceField(
        label=_("Sampling frame"), queryset=SamplingFrame.objects.all(), empty_label=None
    )
    site_filter = forms.ChoiceField(label=_("Cancer site"), required=False, choices=site_choices)
    language = forms.ChoiceField(
        label=_("Language"), choices=[("fr", "Français"), ("en", "English")], initial="fr"
    )
    prompt = forms.ModelChoiceField(
        label=_("Prompt version"),
        queryset=PromptTemplate.objects.all(),
        required=False,
        empty_label=_("latest version for the language"),
    )
    backend = forms.ChoiceField(label=_("Backend"), choices=BACKEND_CHOICES)
    model = forms.ChoiceField(label=_("Model"), choices=network_model_choices, required=False)
    temperature = forms.FloatField(
        label=_("Temperature"), min_value=0, max_value=2, initial=0.7, required=False
    )
    mode = forms.ChoiceField(
        label=_("Mode"),
        choices=Batch.Mode.choices,
        initial=Batch.Mode.DIRECT,
        required=False,
        help_text=_(
            "Batch API: provider jobs at half the price, answered within hours (two-pass "
            "prompts: one job per pass); what they do not answer resumes in direct mode."
        ),
    )
    critique = forms.BooleanField(
        label=_("Critique and revise (two-pass prompts)"),
        required=False,
        initial=True,
        help_text=_(
            "The consistency checker and an LLM judge review each report; a non-conform "
            "report is rewritten, at most the number of revisions below."
        ),
    )
    # Any backend of the registry with a language model, and any of its models: the model
    # is checked against the chosen backend by batch_launch (one message for page, API, CLI).
    judge_backend = forms.ChoiceField(
        label=_("Judge backend"),
        choices=lambda: [("", _("same as the writer")), *network_backend_choices()],
        required=False,
    )
    judge_model = forms.ChoiceField(
        label=_("Judge model"),
        choices=lambda: [("", _("same as the writer")), *network_model_choices()],
        required=False,
        help_text=_("With another judge backend, empty means that backend's first model."),
    )
    max_revisions = forms.IntegerField(label=_("Maximum revisions"), min_value=0, required=False)
    seed = forms.IntegerField(
        label=_("Seed"),
        min_value=0,
        max_value=2**31 - 1,
        required=False,
        help_text=_("Leave empty for a random seed; the same seed gives the same scenarios."),
    )
    style_import = forms.ModelChoiceField(
        label=_("Write like the real reports of"),
        queryset=ReportImport.objects.order_by("-created_at"),
        required=False,
        empty_label=_("no style profile"),
        help_text=_(
            "The reports then follow that import's lengths, sections and heading style, so "
            "reviewers cannot tell the sources apart by their look."
        ),
    )

    style_study = forms.ModelChoiceField(
        label=_("Write like the real reports of the study"),
        queryset=Study.objects.filter(reports__source=Report.Source.REAL)
        .distinct()
        .order_by("-created_at"),
        required=False,
        empty_label=_("no study"),
        help_text=_(
            "The reports then follow the lengths, sections, headings, abbreviations and date "
            "styles of that study's real reports, for the study they are generated for."
        ),
    )

    def clean(self):
        data = super().clean() or {}
        if data.get("style_import") and data.get("style_study"):
            raise forms.ValidationError(
                _("Choose the real reports of an import or of a study, not both.")
            )
        return data

    # A fresh token in every form shown; a replayed POST of the same form (double click,
    # back and resubmit) carries it again and finds the batch launched the first time.
    launch_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.fields["launch_token"].initial = uuid.uuid4().hex
        # The maximum comes from settings at request time, not at import time.
        self.fields["count"] = forms.IntegerField(
            label=_("Number of reports"),
            min_value=1,
            max_value=settings.GENERATION_MAX_BATCH_SIZE,
            initial=10,
        )
        self.fields["backend"].initial = settings.GENERATION_DEFAULT_BACKEND
        self.fields["model"].initial = settings.MISTRAL_MODEL
        self.fields["max_revisions"].initial = settings.GENERATION_MAX_REVISIONS
        # The bound comes from settings at request time, as the count's maximum does.
        self.fields["max_revisions"].validators.append(
            MaxValueValidator(settings.GENERATION_MAX_REVISIONS)
        )


class FrameUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Frame file (JSON or YAML)"),
        help_text=_("Same format as the default frame; download it below as a template."),
    )


def network_backend_choices() -> list[tuple[str, Any]]:
    """The backends that call a language model (the offline writer cannot judge)."""
    return [(name, spec.label) for name, spec in BACKENDS.items() if spec.network]


class StudyJudgeForm(forms.Form):
    """The LLM judge of a study: any model of a network backend (not only the writer's)."""

    backend = forms.ChoiceField(
        label=_("Backend"), choices=network_backend_choices, initial="mistral"
    )
    model = forms.ChoiceField(label=_("Judge model"), choices=network_model_choices)


class GuidelineUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Knowledge base file (YAML)"),
        help_text=_(
            "A revised version of the knowledge base: download the current one below, edit it "
            "(raise `version`), upload it. It is checked before anything is saved."
        ),
    )
