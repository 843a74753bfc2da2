"""Studies, reports, assignments and ratings.

Invariants backed by the database, not only by forms: scores inside the study's scale
(a trigger, see migration 0002), one rating per assignment and domain, one assignment per
study, reviewer and report, one report per position in a reviewer's queue.
"""

import hashlib
import secrets
from collections.abc import Collection

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import connection, models
from django.db.models import Q
from django.db.models.fields.json import KeyTransform
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

# Crockford-style alphabet: no I, L, O, U, so codes read aloud or copied by hand survive.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


# Byte -> letter: 32 letters divide 256, so each letter stands for 8 byte values (the low
# five bits), and a uniform random byte picks a letter uniformly.
_CODE_LETTER_OF_BYTE = bytes(ord(CODE_ALPHABET[byte & 31]) for byte in range(256))


def random_code(prefix: str, length: int) -> str:
    # One call for all the randomness and one table lookup per byte: opening a study makes
    # thousands of codes.
    return prefix + secrets.token_bytes(length).translate(_CODE_LETTER_OF_BYTE).decode("ascii")


def report_code_new() -> str:
    return random_code("R-", 6)


def study_code_new() -> str:
    return random_code("S-", 6)


def assignment_code_new() -> str:
    return random_code("", 10)


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ReportImport(models.Model):
    """One upload of real reports: the provenance of every report it created."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="report_imports"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    file_name = models.CharField(max_length=255)
    file_hash = models.CharField(max_length=64)
    file_format = models.CharField(max_length=16)
    encoding = models.CharField(max_length=32, blank=True)
    report_count = models.PositiveIntegerField(default=0)
    options = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.report_count} reports)"


class Tag(models.Model):
    """A coordinator's label on reports ("pilot", "lung-2024"), used to compose studies."""

    name = models.SlugField(_("name"), max_length=64, unique=True, allow_unicode=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ReportManager(models.Manager["Report"]):
    def ids_by_code(self, codes: Collection[str]) -> dict[str, int]:
        """The id of each stored report among `codes`, by code (unknown codes are absent).
        On PostgreSQL the codes go as one array: `code__in` of an import's 2,000 codes sent
        2,000 parameters, a query that took 15-40 ms to build and parse, against 5 ms."""
        if connection.vendor != "postgresql":
            return dict(self.filter(code__in=codes).values_list("code", "pk"))
        # The model's own table name; the codes are bound.
        sql = f"SELECT code, id FROM {self.model._meta.db_table} WHERE code = ANY(%s)"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, [list(codes)])
            return dict(cursor.fetchall())


class Report(models.Model):
    class Source(models.TextChoices):
        REAL = "real", _("Real")
        SYNTHETIC = "synthetic", _("Synthetic")

    code = models.CharField(max_length=16, unique=True, default=report_code_new, editable=False)
    text = models.TextField()
    # Text as received, before placeholders were replaced by surrogates (coordinators only).
    original_text = models.TextField(blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    language = models.CharField(max_length=8, default="fr")
    annotations = models.JSONField(default=list, blank=True)
    external_id = models.CharField(max_length=255, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    # Where the report came from: for synthetic reports the generation batch, model,
    # prompt version and parameters; for demo stand-ins a note saying so.
    provenance = models.JSONField(default=dict, blank=True)
    report_import = models.ForeignKey(
        ReportImport, null=True, blank=True, on_delete=models.PROTECT, related_name="reports"
    )
    # Indexed in Meta: a field's db_index also builds a LIKE index, and it is only ever
    # matched whole.
    content_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="reports")

    objects = ReportManager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(source__in=["real", "synthetic"]), name="report_source_valid"
            ),
            models.CheckConstraint(condition=~Q(text=""), name="report_text_not_empty"),
        ]
        indexes = [
            # The import's duplicate check looks every upload's raw-text hashes up here
            # (review/imports/services.py): without it, one scan of the table per chunk.
            models.Index(KeyTransform("original_hash", "provenance"), name="report_original_hash"),
            models.Index(fields=["content_hash"], name="report_content_hash"),
        ]

    def __str__(self) -> str:
        return self.code

    def save(self, *args, **kwargs):
        self.content_hash = content_hash(self.text)
        super().save(*args, **kwargs)


class ReportSearch(models.Model):
    """A report's full-text search vectors (PostgreSQL), one row per indexed report.

    Filled after the report is stored (`review.search_index`): for an import, by a Celery task
    once the upload is committed, since computing them took ~60 % of an import's time (two
    `to_tsvector` of 2,500 characters: ~0.9 ms of PostgreSQL CPU per report, issue 21). A
    report without its row yet is still found: the search computes its vectors on the fly.
    A table of its own so that the report's row (read by every page) carries no vectors."""

    report = models.OneToOneField(
        Report, primary_key=True, on_delete=models.CASCADE, related_name="search"
    )
    # The report language's built-in configuration, then its copy with `unaccent` before the
    # stemmer (review.search_index.SEARCH_CONFIGS; migration 0010).
    stemmed = SearchVectorField()
    unaccented = SearchVectorField()

    def __str__(self) -> str:
        return f"search vectors of report {self.report_id}"


class Study(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    class Kind(models.TextChoices):
        RATING = "rating", _("Rating study")
        # Physicians verify the structured annotations of synthetic reports, one verdict
        # per annotation (review/audit_study/): no domains, no scores, no source to blind.
        ANNOTATION_AUDIT = "annotation_audit", _("Annotation audit")

    code = models.CharField(max_length=16, unique=True, default=study_code_new, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.RATING)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    raters_per_report = models.PositiveSmallIntegerField(_("raters per report"), default=2)
    scale_min = models.SmallIntegerField(_("lowest score"), default=1)
    scale_max = models.SmallIntegerField(_("highest score"), default=10)
    seed = models.BigIntegerField(_("random seed"), default=0)
    noninferiority_margin = models.FloatField(_("non-inferiority margin"), default=1.0)
    # Shown to reviewers before their first report and on demand; Markdown, rendered with
    # raw HTML disabled (review/instructions.py). English and French versions.
    instructions = models.TextField(_("instructions (English)"), blank=True)
    instructions_fr = models.TextField(_("instructions (French)"), blank=True)
    # How many of each reviewer's reports come back a second time, later in their queue,
    # as an attention check (test–retest agreement on the results page).
    attention_checks = models.PositiveSmallIntegerField(
        _("attention checks per reviewer"), default=0
    )
    # Automatic reminders (review.people.reminders_send_due, run by Celery beat): a panel
    # reviewer with unfinished reports and no activity for this many days is e-mailed, at
    # most once per this many days. Empty: no automatic reminder.
    reminder_every_days = models.PositiveSmallIntegerField(
        _("remind inactive reviewers every (days)"),
        null=True,
        blank=True,
        help_text=_("Leave empty for no automatic reminder."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="studies_created",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The study's additions to the house style (review.conventions: accents and abbreviation
    # forms of its corpus), fixed when it opens so what reviewers read does not change.
    house_style = models.JSONField(default=dict, blank=True, editable=False)
    reports = models.ManyToManyField(Report, through="StudyReport", related_name="studies")
    reviewers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="StudyReviewer", related_name="review_studies"
    )
    # django-simple-history: one row per save of a study's configuration (scale, seed,
    # raters per report, margin, instructions…), shown by the admin's "History" page.
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "studies"
        permissions = [
            ("coordinate", "Can set up studies, see report sources, generate and export"),
            ("rate", "Can rate the reports assigned to them"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(raters_per_report__gte=1), name="study_raters_at_least_one"
            ),
            models.CheckConstraint(
                condition=Q(scale_min__lt=models.F("scale_max")), name="study_scale_ordered"
            ),
            models.CheckConstraint(
                condition=Q(scale_min__gte=0) & Q(scale_max__lte=100), name="study_scale_bounded"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "open", "closed"]), name="study_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(noninferiority_margin__gt=0), name="study_margin_positive"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["rating", "annotation_audit"]), name="study_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class StudyReport(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", _("Study report")
        CALIBRATION = "calibration", _("Calibration item")

    # No index of its own: studyreport_unique (study, report) serves every lookup by study.
    study = models.ForeignKey(
        Study, on_delete=models.CASCADE, related_name="memberships", db_index=False
    )
    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="memberships")
    # Calibration items are rated first by every reviewer, then shown with the panel's
    # reference scores ({domain key: score}); they never enter the study's statistics.
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    reference_scores = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["study", "report"], name="studyreport_unique"),
            models.CheckConstraint(
                condition=Q(role__in=["member", "calibration"]), name="studyreport_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.study_id}:{self.report_id}"


class StudyReviewer(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="panel")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="panel_seats"
    )
    # A reviewer who dropped out stays on record (their submitted ratings count) but is
    # given no new assignments.
    active = models.BooleanField(default=True)
    # Stable pseudonym used in exports and results instead of the login name.
    pseudonym = models.CharField(max_length=16)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["study", "reviewer"], name="studyreviewer_unique"),
            models.UniqueConstraint(fields=["study", "pseudonym"], name="studyreviewer_pseudonym"),
        ]

    def __str__(self) -> str:
        return self.pseudonym


class Domain(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="domains")
    key = models.SlugField(_("key"), max_length=64)
    label = models.CharField(_("label"), max_length=120)
    help_text = models.TextField(_("help text"), blank=True)
    anchor_low = models.CharField(_("low anchor"), max_length=200, blank=True)
    anchor_high = models.CharField(_("high anchor"), max_length=200, blank=True)
    # Worked examples of what a 1, a 5 and a 10 look like in this domain (study guidelines).
    example_low = models.TextField(_("example of a lowest score"), blank=True)
    example_mid = models.TextField(_("example of a middle score"), blank=True)
    example_high = models.TextField(_("example of a highest score"), blank=True)
    # Other languages: {"fr": {"label": …, "help_text": …, "anchor_low": …, "anchor_high": …,
    # "example_low": …, …}}.
    translations = models.JSONField(default=dict, blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    # Keys, labels, anchors and examples as they were at each change (django-simple-history).
    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["study", "key"], name="domain_key_unique"),
        ]

    def __str__(self) -> str:
        return self.label

    @classmethod
    def from_raw_row(cls, values) -> "Domain":
        """A domain from its columns as a raw cursor returns them (concrete fields in
        order): raw rows skip the fields' converters, so the JSON translations, which may
        arrive as text, are converted here."""
        from django.db import connection

        converted = [
            field.from_db_value(value, None, connection)
            if hasattr(field, "from_db_value")
            else value
            for field, value in zip(cls._meta.concrete_fields, values, strict=True)
        ]
        return cls.from_db(
            connection.alias, [field.attname for field in cls._meta.concrete_fields], converted
        )

    def localized(self, field: str, language: str | None) -> str:
        if language:
            value = self.translations.get(language[:2], {}).get(field)
            if value:
                return str(value)
        return str(getattr(self, field))


class Assignment(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Not started")
        IN_PROGRESS = "in_progress", _("In progress")
        SUBMITTED = "submitted", _("Submitted")

    class Kind(models.TextChoices):
        REGULAR = "regular", _("Study report")
        CALIBRATION = "calibration", _("Calibration item")
        # The second showing of a report already in the reviewer's queue.
        ATTENTION = "attention", _("Attention check")

    code = models.CharField(max_length=16, unique=True, default=assignment_code_new)
    # No index of their own: assignment_unique_position (study, reviewer, …) and assign_queue
    # (reviewer, study, …) serve the lookups by either; a study's opening writes 6,000 rows.
    study = models.ForeignKey(
        Study, on_delete=models.CASCADE, related_name="assignments", db_index=False
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="assignments",
        db_index=False,
    )
    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="assignments")
    position = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    first_opened_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # Reading time as the page measured it (visible, focused, not idle), in milliseconds,
    # over every visit; each visit counts at most the wall time since the server served
    # the page (services.reviewer.assignment_reading_time_add, the one place it changes).
    active_ms = models.PositiveBigIntegerField(default=0)
    # The current visit: when the rating page was last served, and the milliseconds of it
    # already counted in active_ms.
    reading_visit_at = models.DateTimeField(null=True, blank=True)
    reading_visit_ms = models.PositiveBigIntegerField(default=0)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.REGULAR)
    # What the reviewer sees in place of the report's code: an attention check must not
    # give itself away by showing a code the reviewer has already rated.
    display_code = models.CharField(max_length=16, blank=True)
    comment = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["study", "reviewer", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "reviewer", "report", "kind"], name="assignment_unique_report"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["regular", "calibration", "attention"]),
                name="assignment_kind_valid",
            ),
            models.UniqueConstraint(
                fields=["study", "reviewer", "position"], name="assignment_unique_position"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "in_progress", "submitted"]),
                name="assignment_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="submitted", submitted_at__isnull=False)
                | ~Q(status="submitted"),
                name="assignment_submitted_has_time",
            ),
        ]
        indexes = [
            # The hot path: a reviewer's next unrated report in a study.
            models.Index(fields=["reviewer", "study", "status", "position"], name="assign_queue"),
            # "Continue" and the rating page's next unrated report: one index probe however
            # many reports the reviewer has already submitted.
            models.Index(
                fields=["reviewer", "study", "position"],
                condition=~Q(status="submitted"),
                name="assign_next_unrated",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class Rating(models.Model):
    # No index of its own: rating_unique (assignment, domain) serves the lookups by assignment.
    assignment = models.ForeignKey(
        Assignment, on_delete=models.CASCADE, related_name="ratings", db_index=False
    )
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="ratings")
    score = models.SmallIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["assignment", "domain"], name="rating_unique"),
            # The study's own bounds are enforced by the trigger in migration 0002; this is
            # the outer bound any study scale lies within.
            models.CheckConstraint(
                condition=Q(score__gte=0) & Q(score__lte=100), name="rating_score_bounded"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assignment_id}/{self.domain_id}={self.score}"


class JudgeRating(models.Model):
    """An LLM judge's score of one report of a study on one domain.

    Kept apart from `Rating` on purpose: the physicians' statistics read `Rating` only, so
    the judge can never be counted among them; it is compared with them instead.
    """

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="judge_ratings")
    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="judge_ratings")
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="judge_ratings")
    model = models.CharField(max_length=100)
    score = models.SmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["study", "report", "domain", "model"], name="judge_rating_unique"
            ),
            models.CheckConstraint(
                condition=Q(score__gte=0) & Q(score__lte=100), name="judge_rating_score_bounded"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model}:{self.report_id}/{self.domain_id}={self.score}"


class CannotAssess(models.Model):
    """A reviewer could not assess a report (e.g. identifying details left in). The
    assignment and its scores are gone; this row keeps what happened for the coordinator."""

    class Reason(models.TextChoices):
        IDENTIFYING = "identifying", _("Identifying data left in")
        LANGUAGE = "language", _("Wrong language")
        TRUNCATED = "truncated", _("Truncated or unreadable")
        OTHER = "other", _("Other")

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="cannot_assess")
    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="cannot_assess")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cannot_assess"
    )
    reason = models.CharField(max_length=16, choices=Reason.choices)
    note = models.CharField(max_length=500, blank=True)
    # Who took the report over; null when no other reviewer was free to.
    reassigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(reason__in=["identifying", "language", "truncated", "other"]),
                name="cannotassess_reason_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.report_id}: {self.reason}"


class ReviewerPreference(models.Model):
    """Per-reviewer display settings, copied into the session at login (no query per page)."""

    class TextSize(models.TextChoices):
        SMALL = "s", _("Small")
        MEDIUM = "m", _("Medium")
        LARGE = "l", _("Large")
        XLARGE = "xl", _("Extra large")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_preference"
    )
    text_size = models.CharField(max_length=2, choices=TextSize.choices, default=TextSize.MEDIUM)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.text_size}"


class Reminder(models.Model):
    """One reminder e-mailed to one reviewer about one study: sent from the study page or
    by the scheduled task, which sends none within the study's interval of the last one."""

    class Kind(models.TextChoices):
        MANUAL = "manual", _("From the study page")
        SCHEDULED = "scheduled", _("Scheduled")

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="reminders")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reminders_received"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Unfinished reports when it was sent.
    remaining = models.PositiveIntegerField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_at", "-id"]
        indexes = [
            models.Index(fields=["study", "reviewer", "-sent_at"], name="reminder_last_sent"),
        ]

    def __str__(self) -> str:
        return f"{self.study_id}/{self.reviewer_id} {self.sent_at:%Y-%m-%d %H:%M}"


class AuditEvent(models.Model):
    """Append-only record of who did what: openings, exports, unblinding views…"""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=64, db_index=True)
    study = models.ForeignKey(
        Study, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    target = models.CharField(max_length=120, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.target}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit events are append-only.")


class AnnotationVerdict(models.Model):
    """One reviewer's verdict on one of the model's annotations of a report (audit studies).

    The annotation is named by its index in `Report.annotations` (the stored list is never
    rewritten once a report exists), with its field and span copied so that a verdict
    reads on its own in exports. A correction (value or span) is kept beside the verdict.
    """

    class Verdict(models.TextChoices):
        CORRECT = "correct", _("Correct")
        WRONG_VALUE = "wrong_value", _("Wrong value")
        WRONG_SPAN = "wrong_span", _("Wrong span")
        NOT_IN_TEXT = "not_in_text", _("Not in text")

    assignment = models.ForeignKey(
        Assignment, on_delete=models.CASCADE, related_name="annotation_verdicts"
    )
    annotation_index = models.PositiveIntegerField()
    verdict = models.CharField(max_length=16, choices=Verdict.choices)
    corrected_value = models.CharField(max_length=500, blank=True)
    corrected_start = models.PositiveIntegerField(null=True, blank=True)
    corrected_end = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["assignment", "annotation_index"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "annotation_index"], name="annotation_verdict_unique"
            ),
            models.CheckConstraint(
                condition=Q(verdict__in=["correct", "wrong_value", "wrong_span", "not_in_text"]),
                name="annotation_verdict_valid",
            ),
            # A corrected span has both ends, in order, or neither.
            models.CheckConstraint(
                condition=Q(corrected_start__isnull=True, corrected_end__isnull=True)
                | Q(corrected_start__lt=models.F("corrected_end")),
                name="annotation_verdict_span_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assignment_id}#{self.annotation_index}={self.verdict}"


class AddedAnnotation(models.Model):
    """An annotation the model missed, added by a reviewer of an audit study."""

    assignment = models.ForeignKey(
        Assignment, on_delete=models.CASCADE, related_name="added_annotations"
    )
    field = models.CharField(max_length=64)
    value = models.CharField(max_length=500)
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["assignment", "start", "end", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start__lt=models.F("end")), name="added_annotation_span_ordered"
            ),
            models.CheckConstraint(condition=~Q(value=""), name="added_annotation_has_value"),
        ]

    def __str__(self) -> str:
        return f"{self.assignment_id}+{self.field}[{self.start}:{self.end}]"


class AnnotationAdjudication(models.Model):
    """The coordinator's decision on a model annotation the reviewers disagreed on; it
    overrides the majority in the verified dataset."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="adjudications")
    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="adjudications")
    annotation_index = models.PositiveIntegerField()
    verdict = models.CharField(max_length=16, choices=AnnotationVerdict.Verdict.choices)
    value = models.CharField(max_length=500, blank=True)
    start = models.PositiveIntegerField(null=True, blank=True)
    end = models.PositiveIntegerField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["study", "report", "annotation_index"], name="adjudication_unique"
            ),
            models.CheckConstraint(
                condition=Q(verdict__in=["correct", "wrong_value", "wrong_span", "not_in_text"]),
                name="adjudication_verdict_valid",
            ),
            models.CheckConstraint(
                condition=Q(start__isnull=True, end__isnull=True) | Q(start__lt=models.F("end")),
                name="adjudication_span_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.study_id}/{self.report_id}#{self.annotation_index}={self.verdict}"


class AddedAdjudication(models.Model):
    """The coordinator's acceptance or rejection of an annotation reviewers added without a
    strict majority; it decides whether the addition (the group of overlapping additions of
    this field holding this span) is a label of the verified dataset."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="added_adjudications")
    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="+")
    field = models.CharField(max_length=64)
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    accepted = models.BooleanField()
    value = models.CharField(max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["study", "report", "field", "start", "end"],
                name="added_adjudication_unique",
            ),
            models.CheckConstraint(
                condition=Q(start__lt=models.F("end")), name="added_adjudication_span_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.report_id}+{self.field}[{self.start}:{self.end}]"


class StudyComputation(models.Model):
    """A study's figures as last computed by the `review.study_computations_refresh` task
    (review/computations.py): the results (per interface language: labels and plot words
    differ), the LLM judge's comparison, the surface cues and the leak audit. Pages read
    the stored value with its age instead of computing while the coordinator waits.

    `payload` is a pickle written only by that task, never from a request's data."""

    class Kind(models.TextChoices):
        RESULTS = "results", _("results")
        JUDGE = "judge", _("judge comparison")
        SURFACE = "surface", _("surface cues")
        LEAK_AUDIT = "leak_audit", _("leak audit")

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="computations")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    language = models.CharField(max_length=10, blank=True, default="")
    # What the value was computed from (ratings, members, settings): a different current
    # fingerprint means the stored value is stale and a refresh is under way.
    fingerprint = models.CharField(max_length=300)
    computed_at = models.DateTimeField()
    seconds = models.FloatField(default=0)
    payload = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["study", "kind", "language"], name="study_computation_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.study_id} {self.kind} {self.language} {self.computed_at:%Y-%m-%d %H:%M}"
