"""Who rates what, and in which order: pure functions, reproducible from a seed.

Kept free of the ORM so the guarantees (k distinct reviewers per report, loads within one
of each other, random queues without long runs of one source) are tested on plain data.
"""

import random
from collections.abc import Hashable, Sequence

# The longest run of one source a reviewer's queue may hold. Permuted blocks (the previous
# design) balance the sources inside every short block, so a reviewer who recognises a few
# reports of a block can infer the rest; a uniformly random order constrained only on run
# length leaks nothing beyond "after six of one kind, the other comes" — and six in a row
# already happens by chance in a shuffled queue of a hundred.
MAX_RUN = 6


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
    *, items: Sequence[R], source_of: dict[R, str], seed: int, max_run: int = MAX_RUN
) -> list[R]:
    """A seeded random order of `items` in which no source runs longer than `max_run`.

    With two sources the order is drawn uniformly among all orders that respect the run
    limit (counted exactly, see `_two_source_labels`), so nothing but the limit constrains
    a position: no block balance, no drift of one source towards the start. When the
    limit cannot hold (one source far outnumbers the other) it is raised just enough.
    """
    if max_run < 1:
        raise ValueError("max_run must be at least 1")
    rng = random.Random(seed)
    by_source: dict[str, list[R]] = {}
    for item in items:
        by_source.setdefault(source_of[item], []).append(item)
    for group in by_source.values():
        rng.shuffle(group)
    if len(by_source) == 2:
        (first, a_items), (second, b_items) = sorted(by_source.items())
        # The fewest runs the majority needs: the limit rises only when it must.
        big, small = max(len(a_items), len(b_items)), min(len(a_items), len(b_items))
        limit = max(max_run, -(-big // (small + 1)))
        labels = _two_source_labels(len(a_items), len(b_items), limit=limit, rng=rng)
        return [by_source[first if label == 0 else second].pop() for label in labels]
    return _proportional_order(by_source, rng=rng, max_run=max_run)


def _compositions(n: int, limit: int) -> list[list[int]]:
    """table[j][k]: the ways to split k items into j runs of 1..limit items each."""
    table = [[0] * (n + 1) for _ in range(n + 1)]
    table[0][0] = 1
    for j in range(1, n + 1):
        prefix = 0
        row, previous = table[j], table[j - 1]
        for k in range(1, n + 1):
            # Sum of previous[k-limit .. k-1], kept as a sliding window.
            prefix += previous[k - 1]
            if k - limit - 1 >= 0:
                prefix -= previous[k - limit - 1]
            row[k] = prefix
    return table


def _runs_draw(count: int, runs: int, limit: int, table: list[list[int]], rng: random.Random):
    """Run lengths splitting `count` items into `runs` runs, uniformly among all such splits."""
    sizes = []
    for j in range(runs, 0, -1):
        options = [size for size in range(1, limit + 1) if size <= count]
        weights = [table[j - 1][count - size] for size in options]
        size = rng.choices(options, weights=weights)[0]
        sizes.append(size)
        count -= size
    return sizes


def _two_source_labels(a: int, b: int, *, limit: int, rng: random.Random) -> list[int]:
    """A uniformly drawn sequence of a zeros and b ones with no run longer than `limit`:
    choose the number of runs of each (and which source opens) in proportion to how many
    sequences have it, then the run lengths uniformly."""
    if a == 0 or b == 0:
        return [0] * a + [1] * b
    table = _compositions(max(a, b), limit)
    shapes, weights = [], []
    for runs_a in range(1, a + 1):
        for runs_b in (runs_a - 1, runs_a, runs_a + 1):
            if not 1 <= runs_b <= b:
                continue
            ways = table[runs_a][a] * table[runs_b][b]
            # Equal run counts can open with either source; otherwise the larger opens.
            openers = (0, 1) if runs_a == runs_b else ((0,) if runs_a > runs_b else (1,))
            for opener in openers:
                if ways:
                    shapes.append((runs_a, runs_b, opener))
                    weights.append(ways)
    runs_a, runs_b, opener = rng.choices(shapes, weights=weights)[0]
    sizes = {
        0: _runs_draw(a, runs_a, limit, table, rng),
        1: _runs_draw(b, runs_b, limit, table, rng),
    }
    labels: list[int] = []
    current = opener
    while sizes[0] or sizes[1]:
        labels.extend([current] * sizes[current].pop())
        current = 1 - current
    return labels


def _proportional_order[R: Hashable](
    by_source: dict[str, list[R]], *, rng: random.Random, max_run: int
) -> list[R]:
    """More than two sources (not a case studies have today): next source drawn in proportion
    to what is left of it among those that keep the run limit feasible."""
    total = sum(len(group) for group in by_source.values())
    order: list[R] = []
    last: str | None = None
    run = 0
    while len(order) < total:
        candidates = [
            source
            for source, group in sorted(by_source.items())
            if group
            and not (source == last and run >= max_run)
            and _feasible_after(by_source, source, last=last, run=run, max_run=max_run)
        ]
        if not candidates:
            candidates = [source for source, group in sorted(by_source.items()) if group]
        weights = [len(by_source[source]) for source in candidates]
        chosen = rng.choices(candidates, weights=weights)[0]
        order.append(by_source[chosen].pop())
        run = run + 1 if chosen == last else 1
        last = chosen
    return order


def _feasible_after[R: Hashable](
    by_source: dict[str, list[R]], chosen: str, *, last: str | None, run: int, max_run: int
) -> bool:
    """Whether, after taking one item of `chosen`, the rest can still be ordered without a
    run longer than `max_run`: each source's remainder must fit in the runs the other
    sources' items separate."""
    left = {source: len(group) for source, group in by_source.items()}
    left[chosen] -= 1
    chosen_run = run + 1 if chosen == last else 1
    total = sum(left.values())
    for source, count in left.items():
        others = total - count
        room = max_run * others + (max_run - chosen_run if source == chosen else max_run)
        if count > room:
            return False
    return True


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
