"""Django admin for generation records (coordinators are staff)."""

from django.contrib import admin, messages

from generation import catalogue
from generation.models import Batch, BatchItem, PromptTemplate, ProviderJob, SamplingFrame
from review.exceptions import ServiceError


@admin.register(SamplingFrame)
class SamplingFrameAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "title", "created_at"]
    readonly_fields = ["created_at"]

    def save_model(self, request, obj, form, change):
        # Frames are validated like uploads; an invalid one is not saved.
        from generation.frame_format import FrameInvalid, frame_validate

        try:
            frame_validate(obj.data)
        except FrameInvalid as exc:
            messages.error(request, "Frame not saved: " + " | ".join(exc.errors))
            return
        obj.sources = obj.data.get("sources", {})
        super().save_model(request, obj, form, change)


@admin.register(PromptTemplate)
class PromptTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "language", "output_schema_version", "created_at"]

    def save_model(self, request, obj, form, change):
        if change and obj.batches.exists():
            try:
                base = PromptTemplate.objects.get(pk=obj.pk)
                new = catalogue.prompt_template_new_version(
                    base=base,
                    system_template=obj.system_template,
                    user_template=obj.user_template,
                    created_by=request.user,
                )
            except ServiceError as exc:
                messages.error(request, exc.message)
                return
            messages.info(request, f"{base.label} is used by batches; saved as {new.label}.")
            return
        super().save_model(request, obj, form, change)


class ProviderJobInline(admin.TabularInline):
    """A Batch API batch's jobs at the provider, as the poller recorded them: read only."""

    model = ProviderJob
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in ProviderJob._meta.fields]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "backend", "model", "status", "count", "created_at"]
    list_filter = ["status", "backend"]
    readonly_fields = [f.name for f in Batch._meta.fields]
    inlines = [ProviderJobInline]


@admin.register(BatchItem)
class BatchItemAdmin(admin.ModelAdmin):
    list_display = ["batch", "index", "status", "attempts", "finish_reason"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in BatchItem._meta.fields]
