"""The coordinators' full-text search index: each report's search vectors, computed after
the report is stored rather than while it is inserted.

Until issue 21's third round the index was four GIN expression indexes on the report table
(`to_tsvector(config, text)` for each language's two configurations), so PostgreSQL computed
two vectors inside the import's COPY: 2.0 s of the 3.3 s it took to store 2,000 reports of
2,500 characters (83 ms without them). The vectors now live in `ReportSearch` and are
computed by `reports_search_index`:

- an import schedules it when it commits (`reports_search_index_schedule`: a Celery task,
  debounced), so the coordinator's upload no longer waits for it;
- the generation pipeline and a restored backup index their reports in their own
  transaction (one report at a time, or a rare command);
- Celery beat sweeps every `REVIEW_SEARCH_INDEX_SWEEP_SECONDS` for anything a lost message
  left behind.

A report without vectors yet is found all the same: the search computes them on the fly for
those reports (`review.selectors.fulltext_matching`), so the index only ever changes how fast
a search is, never what it finds. SQLite (the demo) has no full-text search: nothing to do.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

from review.models import Report, ReportSearch
from synthreports.celery import task_send

INDEX_TASK = "review.reports_search_index"
# Report languages and the PostgreSQL text-search configurations their text is indexed
# with: the built-in one, whose stemmer knows accented endings, and its copy with `unaccent`
# before the stemmer (migration 0010). A report matching either is found.
SEARCH_CONFIGS = {"fr": ("french", "french_unaccent"), "en": ("english", "english_unaccent")}
# Reports per statement: ~1 s of PostgreSQL work, short enough not to hold a worker long.
CHUNK = 1000
_PENDING_KEY = "reports-search-index-pending"


def _config_case(position: int) -> str:
    # Configuration names are this module's constants, never user input.
    branches = " ".join(
        f"WHEN '{language}' THEN '{configs[position]}'::regconfig"
        for language, configs in SEARCH_CONFIGS.items()
    )
    return f"CASE r.language {branches} END"


_INDEX_SQL = f"""
INSERT INTO {ReportSearch._meta.db_table} (report_id, stemmed, unaccented)
SELECT r.id, to_tsvector({_config_case(0)}, r.text), to_tsvector({_config_case(1)}, r.text)
FROM {Report._meta.db_table} r
WHERE r.language IN ({", ".join(f"'{language}'" for language in SEARCH_CONFIGS)})
  AND NOT EXISTS (SELECT 1 FROM {ReportSearch._meta.db_table} s WHERE s.report_id = r.id)
  {{restriction}}
ORDER BY r.id LIMIT %s
ON CONFLICT (report_id) DO NOTHING
"""  # noqa: S608 (table and configuration names come from the code; values are bound)


def reports_search_index(*, report_ids: list[int] | None = None, limit: int = CHUNK) -> int:
    """Compute the search vectors of up to `limit` reports that have none (of `report_ids`
    only, when given); returns how many were indexed. Safe to run twice at once: a report
    indexed by the other run is skipped (ON CONFLICT)."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        if report_ids is None:
            cursor.execute(_INDEX_SQL.format(restriction=""), [limit])
        elif report_ids:
            cursor.execute(
                _INDEX_SQL.format(restriction="AND r.id = ANY(%s)"), [list(report_ids), limit]
            )
        else:
            return 0
        return cursor.rowcount


def reports_search_index_all() -> int:
    """Index every report without vectors, chunk by chunk (the task and the sweep)."""
    total = 0
    while True:
        with transaction.atomic():
            done = reports_search_index()
        total += done
        if done < CHUNK:
            return total


def reports_search_index_schedule() -> bool:
    """Ask a worker to index the new reports once the current transaction commits.
    Debounced: while a message is pending nothing more is sent (the task indexes whatever
    has no vectors when it runs). Returns whether a message was sent (or will be)."""
    if connection.vendor != "postgresql":
        return False
    # Expires by itself: a message lost with a broker restart blocks nothing for long, and
    # the beat sweep indexes what it left.
    if not cache.add(_PENDING_KEY, 1, timeout=settings.REVIEW_SEARCH_INDEX_SWEEP_SECONDS):
        return False

    transaction.on_commit(lambda: task_send(INDEX_TASK))
    return True


def reports_search_index_pending_clear() -> None:
    """Called by the task as it starts: reports stored from now on schedule a new run."""
    cache.delete(_PENDING_KEY)
