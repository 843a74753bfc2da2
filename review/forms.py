from typing import cast

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from review.models import Study
from review.selectors import synthetic_batches


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


class StudyCreateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
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
    include_real = forms.BooleanField(label=_("All real reports"), required=False, initial=True)
    synthetic_count = forms.IntegerField(
        label=_("Random synthetic reports"), min_value=0, initial=0, required=False
    )
    synthetic_batch = forms.ChoiceField(
        label=_("…drawn from batch"), required=False, choices=[("", _("any batch"))]
    )
    exclude_flagged = forms.BooleanField(
        label=_("Leave out synthetic reports with validation flags"), required=False
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
        batches = cast(forms.ChoiceField, self.fields["synthetic_batch"])
        batches.choices = [("", _("any batch")), *((b, b) for b in synthetic_batches())]

    def clean(self):
        data = super().clean() or {}
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
        if not data.get("include_real") and not data.get("synthetic_count"):
            self.add_error("include_real", _("Choose some reports for the study."))
        return data


class StudySettingsForm(forms.ModelForm):
    class Meta:
        model = Study
        fields = ["name", "description", "noninferiority_margin"]


class DomainForm(forms.Form):
    key = forms.SlugField(label=_("Key"), max_length=64)
    label = forms.CharField(label=_("Label"), max_length=120)
    help_text = forms.CharField(
        label=_("Help text"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    anchor_low = forms.CharField(label=_("Low anchor"), max_length=200, required=False)
    anchor_high = forms.CharField(label=_("High anchor"), max_length=200, required=False)


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
