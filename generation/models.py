"""Sampling frames, prompt templates, batches and batch items.

Invariants backed by the database: one item per (batch, index); one report per item (a
one-to-one link, so a redelivered or duplicated task cannot attach a second report); item
status among the known values; one frame and one prompt template per (name, version).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from generation.backends import BACKEND_CHOICES, BACKEND_NAMES
from review.models import Report


class SamplingFrame(models.Model):
    """Versioned distributions the scenario sampler draws from (validated on creation)."""

    name = models.SlugField(_("name"), max_length=100)
    version = models.PositiveIntegerField(_("version"), default=1)
    title = models.CharField(_("title"), max_length=200, blank=True)
    data = models.JSONField(_("frame data"))
    # {key: {"citation": …, "url": …}}: copied from data["sources"] for display and search.
    sources = models.JSONField(_("sources"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="frame_name_version_unique"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"


class PromptTemplateInUse(Exception):
    """A prompt template already used by a batch cannot change: make a new version."""


class PromptTemplate(models.Model):
    name = models.SlugField(_("name"), max_length=100)
    version = models.PositiveIntegerField(_("version"), default=1)
    language = models.CharField(_("language"), max_length=8)
    system_template = models.TextField(_("system prompt"))
    user_template = models.TextField(_("user prompt template"))
    output_schema_version = models.PositiveIntegerField(_("output schema version"), default=1)

    class Passes(models.TextChoices):
        # Version 1: narrative and annotations in one JSON answer.
        SINGLE = "single", _("One pass (narrative and annotations as JSON)")
        # Version 2: narrative, then extraction, then critique (and revisions).
        TWO_PASS = "two_pass", _("Two passes (narrative, then extraction) and a critique")

    passes = models.CharField(
        _("passes"), max_length=16, choices=Passes.choices, default=Passes.SINGLE
    )
    # Pass 2's user prompt ($narrative, $fields); empty for one-pass templates.
    extraction_template = models.TextField(_("extraction prompt template"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    CONTENT_FIELDS = (
        "name",
        "version",
        "language",
        "system_template",
        "user_template",
        "passes",
        "extraction_template",
    )

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="prompt_name_version_unique"),
            models.CheckConstraint(condition=Q(language__in=["fr", "en"]), name="prompt_language"),
        ]

    def __str__(self) -> str:
        return self.label

    def save(self, *args, **kwargs):
        # Provenance says "prompt X-vN" on every report: that must keep meaning one text.
        if self.pk is not None and Batch.objects.filter(prompt_id=self.pk).exists():
            stored = PromptTemplate.objects.filter(pk=self.pk).values(*self.CONTENT_FIELDS).first()
            if stored and any(stored[f] != getattr(self, f) for f in self.CONTENT_FIELDS):
                raise PromptTemplateInUse(
                    f"Prompt template {self.label} is used by a batch; save a new version."
                )
        super().save(*args, **kwargs)

    @property
    def label(self) -> str:
        return f"{self.name}-v{self.version}"


class Batch(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        FINISHED = "finished", _("Finished")
        CANCELLED = "cancelled", _("Cancelled")

    name = models.CharField(_("name"), max_length=120)
    count = models.PositiveIntegerField(_("number of reports"))
    frame = models.ForeignKey(SamplingFrame, on_delete=models.PROTECT, related_name="batches")
    prompt = models.ForeignKey(PromptTemplate, on_delete=models.PROTECT, related_name="batches")
    backend = models.CharField(_("backend"), max_length=32, choices=BACKEND_CHOICES)
    model = models.CharField(_("model"), max_length=100)
    temperature = models.FloatField(_("temperature"), default=0.7)
    seed = models.BigIntegerField(_("seed"))
    language = models.CharField(_("language"), max_length=8)
    site_filter = models.CharField(_("cancer site filter"), max_length=40, blank=True)
    # The critique of two-pass prompts: the judge may be another backend and model than the
    # writer (empty: the writer's), and a non-conform report is rewritten at most
    # max_revisions times.
    critique = models.BooleanField(_("critique and revise"), default=True)
    judge_backend = models.CharField(
        _("judge backend"), max_length=32, choices=BACKEND_CHOICES, blank=True, default=""
    )
    judge_model = models.CharField(_("judge model"), max_length=100, blank=True)
    max_revisions = models.PositiveSmallIntegerField(_("maximum revisions"), default=2)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)

    class Mode(models.TextChoices):
        DIRECT = "direct", _("Direct (one API call per item)")
        # Mistral's Batch API: one JSONL job for the whole batch, at half the price,
        # answered within hours; what it does not answer resumes in direct mode.
        BATCH_API = "batch_api", _("Batch API (half price, slower)")

    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices, default=Mode.DIRECT)
    # The provider's job: its id, input file, and last status seen by the poller ("" before
    # submission; PROCESSED once its results were taken and the rest sent to direct mode).
    provider_job_id = models.CharField(max_length=100, blank=True)
    provider_file_id = models.CharField(max_length=100, blank=True)
    provider_status = models.CharField(max_length=32, blank=True)
    provider_checked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="generation_batches",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The clinical knowledge base the scenarios were drawn with (null: batches from before it).
    guideline = models.ForeignKey(
        "GuidelineVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="batches",
        verbose_name=_("guideline knowledge base"),
    )
    # The launch request's Idempotency-Key (API) or form token (page): a replayed launch
    # finds this batch instead of paying for a second one.
    idempotency_key = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "batches"
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="batch_idempotency_key_unique",
            ),
            models.CheckConstraint(condition=Q(count__gte=1), name="batch_count_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["running", "finished", "cancelled"]),
                name="batch_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(backend__in=BACKEND_NAMES), name="batch_backend_valid"
            ),
            models.CheckConstraint(
                condition=Q(temperature__gte=0) & Q(temperature__lte=2),
                name="batch_temperature_range",
            ),
            models.CheckConstraint(
                condition=Q(judge_backend__in=["", *BACKEND_NAMES]),
                name="batch_judge_backend_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def judge_backend_name(self) -> str:
        return self.judge_backend or self.backend

    @property
    def judge_model_name(self) -> str:
        return self.judge_model or self.model


class ProviderJob(models.Model):
    """One job a Batch API batch sent to the provider: a one-pass batch has one, a two-pass
    chain one per step (writer, extraction, judge, revision, round by round). The batch row
    names only the current job; these keep the chain for the coordinator watching it."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="provider_jobs")
    job_id = models.CharField(max_length=100, unique=True)
    file_id = models.CharField(max_length=100, blank=True)
    # Two-pass step of the calls it carries ("" for a one-pass batch) and revision round.
    stage = models.CharField(max_length=16, blank=True)
    round = models.PositiveSmallIntegerField(default=0)
    lines = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=32, blank=True)
    submitted_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # What its lines came to once processed (done, advanced, retry, failed, direct...).
    outcome = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["submitted_at", "id"]

    def __str__(self) -> str:
        return f"{self.job_id} ({self.stage or 'one pass'}, {self.status})"

    @property
    def step_label(self) -> str:
        if not self.stage:
            return str(_("one pass"))
        labels = {
            "writer": _("writer"),
            "extraction": _("extraction"),
            "judge": _("judge"),
            "revision": _("revision"),
        }
        label = str(labels.get(self.stage, self.stage))
        return f"{label} {self.round}" if self.round else label

    @property
    def outcome_summary(self) -> str:
        """ "done 40 · direct 2": the outcomes its lines came to, zeros left out."""
        # In the pipeline's order: jsonb keeps its keys in an order of its own.
        order = ("done", "advanced", "retry", "failed", "not_claimed", "next_job", "direct")
        keys = [*(k for k in order if k in self.outcome), *sorted(set(self.outcome) - set(order))]
        return " · ".join(f"{key} {self.outcome[key]}" for key in keys if self.outcome[key])


class BatchItem(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="items")
    index = models.PositiveIntegerField()
    # Sampled at launch, before any LLM call: the batch's composition is visible and
    # reproducible whatever the model later does.
    scenario = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    finish_reason = models.CharField(max_length=32, blank=True)
    # [{"code": "segment_not_found", "detail": "…"}]; the judge's anomalies are flags too
    # ({"code": "judge_anomaly", "category", "detail", "evidence", "correction"}).
    flags = models.JSONField(default=list, blank=True)

    class Verdict(models.TextChoices):
        NOT_JUDGED = "", _("Not judged")
        CONFORM = "conform", _("Conform")
        NOT_CONFORM = "not_conform", _("Not conform")
        # The judge's answer did not parse: never read as conform.
        UNAVAILABLE = "judge_unavailable", _("Judge unavailable")

    verdict = models.CharField(max_length=24, choices=Verdict.choices, blank=True, default="")
    # Every LLM call of every attempt, in order: {"kind": writer|extraction|judge|revision,
    # "attempt", "round", "model", "tokens_in", "tokens_out", "latency_ms", "cost_eur",
    # "finish_reason", "outcome", …}. Calls of an attempt that failed are kept too.
    passes = models.JSONField(default=list, blank=True)
    # A two-pass item between calls of Batch API mode (generation.two_pass.Step): the next
    # call's stage and round, the texts it needs, and "job": the provider job its call was
    # sent in ("" awaiting the next job, "direct" handed to direct mode, which resumes
    # from here). Empty for direct items and once the report is written.
    pass_state = models.JSONField(default=dict, blank=True)
    # The Celery task id that holds the claim: a redelivered message (same id) may take
    # its own item back; anyone else finds it taken.
    claim_token = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    report = models.OneToOneField(
        Report, null=True, blank=True, on_delete=models.PROTECT, related_name="batch_item"
    )

    class Meta:
        ordering = ["batch", "index"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "index"], name="batchitem_unique_index"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "running", "done", "failed", "skipped"]),
                name="batchitem_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="done") | Q(report__isnull=False),
                name="batchitem_done_has_report",
            ),
            models.CheckConstraint(
                condition=Q(verdict__in=["", "conform", "not_conform", "judge_unavailable"]),
                name="batchitem_verdict_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["batch", "status"], name="batchitem_batch_status"),
            models.Index(fields=["status", "claimed_at"], name="batchitem_status_claimed"),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}#{self.index}"


class GuidelineVersion(models.Model):
    """A version of the clinical knowledge base (YAML: plans, eligibility, rules, sources).

    Validated on creation (generation.clinical.knowledge) and immutable: a batch names the
    version its scenarios were drawn with, so a revision is always a new version.
    """

    name = models.SlugField(_("name"), max_length=100)
    version = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200, blank=True)
    text = models.TextField(_("knowledge base (YAML)"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "version"], name="guideline_name_version_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"
