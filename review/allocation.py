"""Who rates what, and in which order: pure functions, reproducible from a seed.

Kept free of the ORM so the guarantees (k distinct reviewers per report, loads within one
of each other, source-balanced queues without long runs) are tested on plain data.
"""

import random
from collections.abc import Hashable, Sequence

# Permuted blocks of varying size, as in randomised trials: each block holds the sources in
# the overall proportion, so runs stay short, and the varying size keeps the position of
# the next report's source unpredictable.
BLOCK_SIZES = (4, 6, 8)


def allocate_reviewers[R: Hashable, V: Hashable](
    *, reports: Sequence[R], reviewers: Sequence[V], raters_per_report: int, seed: int
) -> dict[V, list[R]]:
    """Give each report to exactly `raters_per_report` distinct reviewers.

    Reports are dealt round-robin over a seeded shuffle of reviewers: slot i of the
    sequence (report r, rater j) goes to reviewer i mod m. Consecutive slots of one report
    are distinct reviewers as long as k <= m, and every reviewer gets floor or ceil of
    n*k/m reports, so loads differ by at most one.
    """
    if raters_per_report < 1:
        raise ValueError("raters_per_report must be at least 1")
    if raters_per_report > len(reviewers):
        raise ValueError(
            f"{raters_per_report} raters per report need at least {raters_per_report} "
            f"reviewers; the study has {len(reviewers)}."
        )
    rng = random.Random(seed)
    shuffled_reports = list(reports)
    rng.shuffle(shuffled_reports)
    shuffled_reviewers = list(reviewers)
    rng.shuffle(shuffled_reviewers)
    allocation: dict[V, list[R]] = {reviewer: [] for reviewer in shuffled_reviewers}
    slot = 0
    for report in shuffled_reports:
        for _ in range(raters_per_report):
            allocation[shuffled_reviewers[slot % len(shuffled_reviewers)]].append(report)
            slot += 1
    return allocation


def interleave_by_source[R: Hashable](
    *, items: Sequence[R], source_of: dict[R, str], seed: int
) -> list[R]:
    """A seeded order of `items` in which the sources are mixed in permuted blocks."""
    rng = random.Random(seed)
    by_source: dict[str, list[R]] = {}
    for item in items:
        by_source.setdefault(source_of[item], []).append(item)
    for group in by_source.values():
        rng.shuffle(group)
    total = len(items)
    order: list[R] = []
    while len(order) < total:
        remaining = total - len(order)
        block_size = min(rng.choice(BLOCK_SIZES), remaining)
        block: list[R] = []
        # Fill the block in proportion to what is left of each source (largest remainder).
        left = {source: len(group) for source, group in by_source.items() if group}
        left_total = sum(left.values())
        quotas = {source: block_size * count / left_total for source, count in left.items()}
        takes = {source: int(quota) for source, quota in quotas.items()}
        short = block_size - sum(takes.values())
        by_remainder = sorted(
            quotas, key=lambda source: (quotas[source] - takes[source], rng.random()), reverse=True
        )
        for source in by_remainder[:short]:
            takes[source] += 1
        for source, count in takes.items():
            count = min(count, len(by_source[source]))
            block.extend(by_source[source][:count])
            del by_source[source][:count]
        rng.shuffle(block)
        order.extend(block)
    return order


def longest_run(labels: Sequence[str]) -> int:
    longest = current = 0
    previous = None
    for label in labels:
        current = current + 1 if label == previous else 1
        previous = label
        longest = max(longest, current)
    return longest


def queue_with_checks[R: Hashable](
    *, queue: Sequence[R], calibration: Sequence[R], attention_checks: int, seed: int
) -> list[tuple[R, str]]:
    """A reviewer's queue at study opening as (report, kind): the calibration items first
    (same order for everyone), then their queue, with `attention_checks` of its reports
    shown a second time ("attention") at least three reports later."""
    rows: list[tuple[R, str]] = [(item, "calibration") for item in calibration]
    regular: list[tuple[R, str]] = [(item, "regular") for item in queue]
    checks = min(attention_checks, len(queue) // 2)
    if checks:
        rng = random.Random(seed)
        # Repeats come from the first half and land in the second, so the two showings are
        # never side by side.
        half = len(queue) // 2
        for index in sorted(rng.sample(range(half), checks), reverse=True):
            start = min(max(index + 3, half), len(regular))
            regular.insert(rng.randrange(start, len(regular) + 1), (queue[index], "attention"))
    rows.extend(regular)
    return rows
