"""Django admin, for coordinators and staff only (reviewers are never staff)."""

from django.contrib import admin

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
