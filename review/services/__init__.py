"""Writes for the review app: studies, their panel, assignments, ratings, the audit trail.

Views, the API, tasks and commands parse their input and call one of these keyword-only
functions; bad input raises `InvalidInput`, a forbidden state change `Conflict`, and in
both cases nothing is written. One module per entity; callers import the package
(`from review import services`), which re-exports each module's public names:

- `audit`: the audit trail;
- `studies`: a study from draft to closed (settings, reports, opening, domains);
- `panel`: who reviews a study, and reassignment when a reviewer drops out;
- `locks`: the locks every reviewer write takes, in one order, and the SQL the fast paths share;
- `assignments`: opening a report, the reading time, the comment, the submit;
- `ratings`: scores, one at a time, several at once, and with the submit;
- `reports`: picking a study's reports, tags;
- `blinding`: differences between the sources a coordinator accepts;
- `reviewer`: the reviewer's guidance and safety features (reading time, undo, "cannot
  assess", calibration, attention checks), imported as a module of its own.
"""

from review.services.assignments import (
    Submitted,
    assignment_comment_save,
    assignment_open,
    assignment_open_by_code,
    assignment_submit,
    assignment_submit_in_two_statements,
    reading_time_add_by_code,
)
from review.services.audit import audit_log
from review.services.blinding import (
    ACCEPTABLE_SURFACE_CUES,
    SURFACE_ACCEPTED,
    blinding_surface_accept,
)
from review.services.locks import READING_MS_MAX_PER_VISIT, AssignmentState, assignment_lock
from review.services.panel import study_reviewer_add, study_reviewer_remove, study_reviewers_set
from review.services.ratings import (
    SavedScore,
    assignment_ratings_put,
    assignment_submit_with_scores_in_three_statements,
    rating_save,
    ratings_put_in_one_statement,
    score_parse,
    score_save_in_one_statement,
)
from review.services.reports import report_tags_set, reports_pick_for_study
from review.services.studies import (
    LOCKED_STUDY_FIELDS,
    domains_update,
    study_close,
    study_create,
    study_open,
    study_reminder_schedule_set,
    study_reopen,
    study_report_ids_add,
    study_reports_add,
    study_settings_locked,
    study_update_settings,
)

__all__ = [
    "ACCEPTABLE_SURFACE_CUES",
    "LOCKED_STUDY_FIELDS",
    "READING_MS_MAX_PER_VISIT",
    "SURFACE_ACCEPTED",
    "AssignmentState",
    "SavedScore",
    "Submitted",
    "assignment_comment_save",
    "assignment_lock",
    "assignment_open",
    "assignment_open_by_code",
    "assignment_ratings_put",
    "assignment_submit",
    "assignment_submit_in_two_statements",
    "assignment_submit_with_scores_in_three_statements",
    "audit_log",
    "blinding_surface_accept",
    "domains_update",
    "rating_save",
    "ratings_put_in_one_statement",
    "reading_time_add_by_code",
    "report_tags_set",
    "reports_pick_for_study",
    "score_parse",
    "score_save_in_one_statement",
    "study_close",
    "study_create",
    "study_open",
    "study_reminder_schedule_set",
    "study_reopen",
    "study_report_ids_add",
    "study_reports_add",
    "study_reviewer_add",
    "study_reviewer_remove",
    "study_reviewers_set",
    "study_settings_locked",
    "study_update_settings",
]
