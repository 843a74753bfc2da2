from typing import cast

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from review import composition
from review.exceptions import ServiceError
from review.models import Study


def reviewer_choices():
    """Active reviewers who are not coordinators: a coordinator sees every report's source
    and is never put on a panel (the services refuse it as well)."""
    User = get_user_model()
    coordinators = User.objects.filter(
        Q(groups__permissions__codename="coordinate") | Q(user_permissions__codename="coordinate")
    ).values("pk")
    return (
        User.objects.filter(is_active=True, is_superuser=False)
        .filter(Q(groups__permissions__codename="rate") | Q(user_permissions__codename="rate"))
        .exclude(pk__in=coordinators)
        .distinct()
        .order_by("username")
    )


PANEL_REFUSED = _(
    "Choose an active reviewer. Coordinators see every report's source and never sit on a panel."
)


def _choices_with_counts(choices) -> list[tuple[str, str]]:
    return [
        (
            c.value,
            ngettext("%(label)s — %(n)d report", "%(label)s — %(n)d reports", c.count)
            % {"label": c.label, "n": c.count},
        )
        for c in choices
    ]


class CompositionForm(forms.Form):
    """The study's reports: real ones by import, synthetic ones by batch, narrowed by tags
    and metadata. `selection` (a ReportSelection) is set once the form is valid."""

    real_imports = forms.MultipleChoiceField(
        label=_("Real reports from"), required=False, widget=forms.CheckboxSelectMultiple
    )
    real_count = forms.IntegerField(
        label=_("How many real reports"),
        min_value=1,
        required=False,
        help_text=_("Empty: all matching; a number: drawn at random with the study's seed."),
    )
    synthetic_batches = forms.MultipleChoiceField(
        label=_("Synthetic reports from"), required=False, widget=forms.CheckboxSelectMultiple
    )
    synthetic_count = forms.IntegerField(
        label=_("How many synthetic reports"),
        min_value=1,
        required=False,
        help_text=_("Empty: all matching; a number: drawn at random with the study's seed."),
    )
    exclude_flagged = forms.BooleanField(
        label=_("Leave out synthetic reports with validation flags"), required=False
    )
    tags = forms.MultipleChoiceField(
        label=_("Only reports tagged"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Any of the ticked tags; none ticked: no tag filter."),
    )
    metadata_filter = forms.CharField(
        label=_("Only reports whose metadata match"),
        required=False,
        max_length=500,
        help_text=_("key=value, several separated by ;  e.g. site=lung; year=2023"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, choices in (
            ("real_imports", composition.real_import_choices()),
            ("synthetic_batches", composition.synthetic_batch_choices()),
            ("tags", composition.tag_choices()),
        ):
            cast(forms.MultipleChoiceField, self.fields[name]).choices = _choices_with_counts(
                choices
            )

    def clean_metadata_filter(self):
        try:
            return composition.metadata_filter_parse(self.cleaned_data.get("metadata_filter", ""))
        except ServiceError as exc:
            raise forms.ValidationError(exc.message) from None

    def clean(self):
        data = super().clean() or {}
        if not data.get("real_imports") and not data.get("synthetic_batches"):
            self.add_error("real_imports", _("Choose some reports: an import, a batch, or both."))
        data["selection"] = composition.ReportSelection(
            real_imports=tuple(data.get("real_imports") or ()),
            real_count=data.get("real_count"),
            synthetic_batches=tuple(data.get("synthetic_batches") or ()),
            synthetic_count=data.get("synthetic_count"),
            tags=tuple(data.get("tags") or ()),
            metadata=data.get("metadata_filter") or (),
            exclude_flagged=bool(data.get("exclude_flagged")),
        )
        return data


class StudyCreateForm(CompositionForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=Study.Kind.choices,
        initial=Study.Kind.RATING,
        required=False,
        help_text=_(
            "An annotation audit asks reviewers to verify the synthetic reports' annotations."
        ),
    )
    description = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False)
    raters_per_report = forms.IntegerField(label=_("Raters per report"), min_value=1, initial=2)
    scale_min = forms.IntegerField(label=_("Lowest score"), min_value=0, max_value=99, initial=1)
    scale_max = forms.IntegerField(label=_("Highest score"), min_value=1, max_value=100, initial=10)
    seed = forms.IntegerField(
        label=_("Random seed"),
        required=False,
        min_value=0,
        max_value=2**31 - 1,
        help_text=_("Leave empty for a random seed; the same seed gives the same assignment."),
    )
    noninferiority_margin = forms.FloatField(
        label=_("Non-inferiority margin (points)"), min_value=0.01, initial=1.0
    )
    reviewers = forms.ModelMultipleChoiceField(
        label=_("Reviewers"),
        queryset=get_user_model().objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": PANEL_REFUSED},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        reviewers = cast(forms.ModelMultipleChoiceField, self.fields["reviewers"])
        reviewers.queryset = reviewer_choices()

    def clean(self):
        data = super().clean()
        low, high = data.get("scale_min"), data.get("scale_max")
        if low is not None and high is not None and low >= high:
            self.add_error("scale_max", _("The highest score must be above the lowest."))
        reviewers = data.get("reviewers") or []
        k = data.get("raters_per_report")
        if k and reviewers and k > len(reviewers):
            self.add_error(
                "reviewers",
                _("Choose at least %(k)d reviewers for %(k)d raters per report.") % {"k": k},
            )
        if data.get("kind") == Study.Kind.ANNOTATION_AUDIT and data.get("real_imports"):
            # Real reports carry no generated annotations to verify.
            self.add_error("real_imports", _("An annotation audit takes synthetic reports only."))
        return data


class StudySettingsForm(forms.ModelForm):
    class Meta:
        model = Study
        fields = ["name", "description", "noninferiority_margin"]


class DomainForm(forms.Form):
    """One rating domain in English (the stored fields) and French (translations["fr"]):
    reviewers see the language their browser asks for."""

    key = forms.SlugField(label=_("Key"), max_length=64)
    label = forms.CharField(label=_("Label (English)"), max_length=120)
    help_text = forms.CharField(
        label=_("Help text (English)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    anchor_low = forms.CharField(label=_("Low anchor (English)"), max_length=200, required=False)
    anchor_high = forms.CharField(label=_("High anchor (English)"), max_length=200, required=False)
    label_fr = forms.CharField(label=_("Label (French)"), max_length=120, required=False)
    help_text_fr = forms.CharField(
        label=_("Help text (French)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    anchor_low_fr = forms.CharField(label=_("Low anchor (French)"), max_length=200, required=False)
    anchor_high_fr = forms.CharField(
        label=_("High anchor (French)"), max_length=200, required=False
    )

    ENGLISH = ("label", "help_text", "anchor_low", "anchor_high")


DomainFormSet = forms.formset_factory(DomainForm, extra=1, can_delete=True)


class ReviewerChoiceForm(forms.Form):
    reviewer = forms.ModelChoiceField(
        label=_("Reviewer"),
        queryset=get_user_model().objects.none(),
        error_messages={"invalid_choice": PANEL_REFUSED},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["reviewer"]).queryset = reviewer_choices()


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"), max_length=254)
    full_name = forms.CharField(label=_("Name"), max_length=200, required=False)
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[("reviewer", _("Reviewer")), ("coordinator", _("Coordinator"))],
        initial="reviewer",
    )


class AuditFilterForm(forms.Form):
    study = forms.CharField(label=_("Study code"), max_length=16, required=False)
    user = forms.CharField(label=_("User"), max_length=150, required=False)
    action = forms.CharField(label=_("Action starts with"), max_length=64, required=False)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return data
