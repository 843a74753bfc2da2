"""Django admin, for coordinators and staff only (reviewers are never staff).

The admin is no way around the study rules: once a study has submitted ratings, what they
were given against (scale, seed, raters per report, margin, domain keys) is read-only; a
report in an opened study keeps its text, source and provenance; assignments and ratings
are read-only (their writes go through the services, which audit them). Every change made
here is audited, and so is every page that shows reports' sources.

Studies and their domains also keep every saved version (django-simple-history): the
"History" button on a study or domain lists who changed what and when, with the reason
given for a locked setting; the audit trail keeps its own "admin.*" events beside it.
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from review import services
from review.models import (
    Assignment,
    AuditEvent,
    CannotAssess,
    Domain,
    Rating,
    Reminder,
    Report,
    ReportImport,
    ReviewerPreference,
    Study,
    StudyReport,
    StudyReviewer,
)
from review.selectors import report_list_unblinded
from review.services import audit_log


def _study_of(obj: Any) -> Study | None:
    if isinstance(obj, Study):
        return obj
    return getattr(obj, "study", None)


def _has_submitted_ratings(study: Study | None) -> bool:
    return bool(
        study is not None
        and study.pk is not None
        and study.assignments.filter(status=Assignment.Status.SUBMITTED).exists()
    )


class AuditedAdmin(admin.ModelAdmin):
    """Every addition, change and deletion made in the admin is also an AuditEvent
    ("admin.<model>.<verb>", with the fields changed)."""

    def _audit(self, request: HttpRequest, obj: Any, verb: str, details: dict) -> None:
        audit_log(
            actor=request.user,
            action=f"admin.{obj._meta.model_name}.{verb}",
            study=_study_of(obj),
            target=str(obj)[:120],
            details=details,
        )

    def log_addition(self, request, obj, message):
        self._audit(request, obj, "add", {})
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        # Django's change message: the object's own changed fields, then one entry per
        # inline row added, changed or deleted (with its model's name).
        changed = sorted(
            {
                field
                for entry in message
                if "changed" in entry and "name" not in entry["changed"]
                for field in entry["changed"]["fields"]
            }
        )
        inlines = sorted(
            {
                f"{verb} {entry[verb]['name']}"
                for entry in message
                for verb in ("added", "changed", "deleted")
                if verb in entry and "name" in entry[verb]
            }
        )
        self._audit(request, obj, "change", {"fields": changed, "inlines": inlines})
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            self._audit(request, obj, "delete", {})
        return super().log_deletions(request, queryset)


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0

    def get_readonly_fields(self, request, obj=None):
        # A submitted rating was given against this key and these anchors.
        if _has_submitted_ratings(obj):
            return ["key", "label", "help_text", "anchor_low", "anchor_high", "translations"]
        return []

    def has_add_permission(self, request, obj=None):
        return not _has_submitted_ratings(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not _has_submitted_ratings(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _has_submitted_ratings(obj) and super().has_delete_permission(request, obj)


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
    # Panel changes go through the study page, which reassigns and audits.
    readonly_fields = ["reviewer", "pseudonym", "active"]

    def has_add_permission(self, request, obj=None):
        return obj is None or obj.status == Study.Status.DRAFT

    def has_delete_permission(self, request, obj=None):
        return obj is None or obj.status == Study.Status.DRAFT


@admin.register(Study)
class StudyAdmin(AuditedAdmin, SimpleHistoryAdmin):
    list_display = ["name", "code", "status", "raters_per_report", "created_at"]
    history_list_display = ["status", "scale_min", "scale_max", "seed", "raters_per_report"]
    list_filter = ["status"]
    search_fields = ["name", "code"]
    inlines = [DomainInline, StudyReviewerInline]
    readonly_fields = ["code", "status", "opened_at", "closed_at"]
    form = StudyAdminForm

    def save_model(self, request, obj, form, change):
        changes = form.locked_changes() if change else {}
        if changes:
            # The history row of this save carries the reason too.
            obj._change_reason = form.cleaned_data["change_reason"].strip()[:100]
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

    # Opened: the allocation was drawn from these. Margin and scale stay editable with a
    # reason (StudyAdminForm), since a protocol amendment is sometimes legitimate.
    FROZEN_ONCE_OPENED = ["seed", "raters_per_report"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.status != Study.Status.DRAFT:
            fields += self.FROZEN_ONCE_OPENED
        return fields


@admin.register(Domain)
class DomainAdmin(AuditedAdmin, SimpleHistoryAdmin):
    """Domains are edited on their study's page (DomainInline, with its locks); this list
    is there for each domain's History."""

    list_display = ["label", "key", "study", "order"]
    list_filter = ["study"]
    search_fields = ["key", "label", "study__code"]
    history_list_display = ["key", "label", "anchor_low", "anchor_high"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Report)
class ReportAdmin(AuditedAdmin):
    list_display = ["code", "source", "language", "external_id", "created_at"]
    list_filter = ["source", "language"]
    search_fields = ["code", "external_id"]
    readonly_fields = ["code", "content_hash", "created_at"]
    FROZEN_IN_STUDY = ["text", "original_text", "source", "language", "annotations", "provenance"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.studies.exclude(status=Study.Status.DRAFT).exists():
            fields += self.FROZEN_IN_STUDY
        return fields

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None and request.method == "GET":
            # The list shows each report's source: an unblinding view of every report on it.
            report_list_unblinded(
                actor=request.user,
                codes=[report.code for report in changelist.result_list],
                where="admin",
            )
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        report = getattr(response, "context_data", {}).get("original")
        if report is not None and request.method == "GET":
            audit_log(actor=request.user, action="report.unblinded_view", target=report.code)
        return response


@admin.register(ReportImport)
class ReportImportAdmin(admin.ModelAdmin):
    list_display = ["file_name", "file_format", "report_count", "created_by", "created_at"]
    readonly_fields = [f.name for f in ReportImport._meta.fields]


class ReadOnlyAdmin(AuditedAdmin):
    """Viewable, not editable: these rows change through the services only (locks, the
    study's state, the change-after-submit audit)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ["code", "study", "reviewer", "position", "status", "submitted_at"]
    list_filter = ["status", "study"]
    raw_id_fields = ["report", "reviewer", "study"]


@admin.register(Rating)
class RatingAdmin(ReadOnlyAdmin):
    list_display = ["assignment", "domain", "score", "updated_at"]
    raw_id_fields = ["assignment", "domain"]


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    list_display = ["sent_at", "study", "reviewer", "kind", "remaining"]
    list_filter = ["kind", "study"]


@admin.register(CannotAssess)
class CannotAssessAdmin(ReadOnlyAdmin):
    """A record of what happened (the assignment and its scores are gone): never edited."""

    list_display = ["created_at", "study", "report", "reviewer", "reason", "reassigned_to"]
    list_filter = ["reason", "study"]
    raw_id_fields = ["study", "report", "reviewer", "reassigned_to"]


@admin.register(StudyReport)
class StudyReportAdmin(ReadOnlyAdmin):
    """A study's reports and calibration items with their reference scores: set on the
    study's pages while it is a draft (services.reviewer.study_calibration_set), shown here."""

    list_display = ["study", "report", "role"]
    list_filter = ["role", "study"]
    raw_id_fields = ["study", "report"]


@admin.register(ReviewerPreference)
class ReviewerPreferenceAdmin(AuditedAdmin):
    """A reviewer's text size; the reviewer sets it on the rating page."""

    list_display = ["user", "text_size"]
    list_filter = ["text_size"]
    raw_id_fields = ["user"]


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
