"""Django admin, for coordinators and staff only (reviewers are never staff)."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from review import services
from review.models import (
    Assignment,
    AuditEvent,
    Domain,
    Rating,
    Report,
    ReportImport,
    Study,
    StudyReviewer,
)


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0

    # Domains are read by every figure: fixed once an assessment is submitted.
    def has_add_permission(self, request, obj=None):
        return obj is None or not services.study_settings_locked(study=obj)

    def has_change_permission(self, request, obj=None):
        return obj is None or not services.study_settings_locked(study=obj)

    def has_delete_permission(self, request, obj=None):
        return obj is None or not services.study_settings_locked(study=obj)


class StudyAdminForm(forms.ModelForm):
    change_reason = forms.CharField(
        label=_("Reason for changing a locked setting"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Required to change the margin or the scale once ratings have been submitted; "
            "recorded in the audit trail."
        ),
    )

    class Meta:
        model = Study
        fields = [
            "name",
            "description",
            "raters_per_report",
            "scale_min",
            "scale_max",
            "seed",
            "noninferiority_margin",
            "created_by",
        ]

    def locked_changes(self) -> dict[str, list]:
        if not self.instance.pk or not services.study_settings_locked(study=self.instance):
            return {}
        return {
            field: [self.initial.get(field), self.cleaned_data.get(field)]
            for field in services.LOCKED_STUDY_FIELDS
            if field in self.changed_data
        }

    def clean(self):
        data = super().clean() or {}
        changes = self.locked_changes()
        if changes and not (data.get("change_reason") or "").strip():
            raise forms.ValidationError(
                _("Ratings have been submitted: give a reason to change %(fields)s.")
                % {"fields": ", ".join(sorted(changes))}
            )
        if changes and {"scale_min", "scale_max"} & set(changes):
            low, high = data.get("scale_min"), data.get("scale_max")
            outside = Rating.objects.filter(assignment__study=self.instance).exclude(
                score__gte=low, score__lte=high
            )
            if low is not None and high is not None and outside.exists():
                raise forms.ValidationError(
                    _("Some submitted scores lie outside %(low)s–%(high)s.")
                    % {"low": low, "high": high}
                )
        return data


class StudyReviewerInline(admin.TabularInline):
    model = StudyReviewer
    extra = 0


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "status", "raters_per_report", "created_at"]
    list_filter = ["status"]
    search_fields = ["name", "code"]
    inlines = [DomainInline, StudyReviewerInline]
    readonly_fields = ["code", "status", "opened_at", "closed_at"]
    form = StudyAdminForm

    def save_model(self, request, obj, form, change):
        changes = form.locked_changes() if change else {}
        super().save_model(request, obj, form, change)
        if changes:
            services.audit_log(
                actor=request.user,
                action="study.locked_settings_change",
                study=obj,
                target=obj.code,
                details={
                    "reason": form.cleaned_data["change_reason"].strip(),
                    "changes": changes,
                },
            )


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ["code", "source", "language", "external_id", "created_at"]
    list_filter = ["source", "language"]
    search_fields = ["code", "external_id"]
    readonly_fields = ["code", "content_hash", "created_at"]


@admin.register(ReportImport)
class ReportImportAdmin(admin.ModelAdmin):
    list_display = ["file_name", "file_format", "report_count", "created_by", "created_at"]
    readonly_fields = [f.name for f in ReportImport._meta.fields]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["code", "study", "reviewer", "position", "status", "submitted_at"]
    list_filter = ["status", "study"]
    raw_id_fields = ["report", "reviewer", "study"]


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = ["assignment", "domain", "score", "updated_at"]
    raw_id_fields = ["assignment", "domain"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor", "action", "study", "target"]
    list_filter = ["action"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _admin_has_permission(request) -> bool:
    # Staff status alone is not enough: the admin shows sources and provenance, so only
    # coordinators (and superusers, who hold every permission) may enter it.
    user = request.user
    return bool(user.is_active and user.is_staff and user.has_perm("review.coordinate"))


admin.site.has_permission = _admin_has_permission  # type: ignore[method-assign]
admin.site.site_header = "synthreports administration"
