"""Reading a long-format ratings CSV (for `analyse_ratings`), with one clear error per file.

Columns report, source, reviewer, domain, score are required; extra columns are ignored
except batch, model and prompt_version, which feed the breakdown when present.
"""

import csv
from pathlib import Path

import pandas as pd

from review.stats.frame import BREAKDOWN_COLUMNS, REQUIRED_COLUMNS, SOURCES, Scale


class RatingsFileError(ValueError):
    pass


def ratings_file_read(path: Path, *, scale: Scale) -> pd.DataFrame:
    """The file as a long table, or RatingsFileError naming the first bad line."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RatingsFileError(f"{path}: no such file.") from None
    except UnicodeDecodeError:
        raise RatingsFileError(f"{name}: not UTF-8 text; save the file as UTF-8 CSV.") from None
    reader = csv.reader(text.splitlines(keepends=True))
    header = next(reader, None)
    if not header:
        raise RatingsFileError(f"{name}: the file is empty.")
    header = [column.strip().lower() for column in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise RatingsFileError(
            f"{name}, line 1: missing column(s) {', '.join(missing)}; "
            f"the header must name {', '.join(REQUIRED_COLUMNS)}."
        )
    index = {column: header.index(column) for column in REQUIRED_COLUMNS}
    extra = {column: header.index(column) for column in BREAKDOWN_COLUMNS if column in header}
    rows: list[tuple] = []
    seen: dict[tuple[str, str, str], int] = {}
    for record in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if len(record) < len(header):
            raise RatingsFileError(
                f"{name}, line {line}: {len(record)} fields where the header has {len(header)}."
            )
        values = {column: record[i].strip() for column, i in index.items()}
        for column in ("report", "reviewer", "domain", "source", "score"):
            if not values[column]:
                raise RatingsFileError(f"{name}, line {line}: empty {column}.")
        source = values["source"].lower()
        if source not in SOURCES:
            raise RatingsFileError(
                f"{name}, line {line}: unknown source '{values['source']}' "
                "(expected real or synthetic)."
            )
        score = _score(values["score"], name=name, line=line, scale=scale)
        key = (values["report"], values["reviewer"], values["domain"])
        if key in seen:
            raise RatingsFileError(
                f"{name}, line {line}: report {key[0]} was already rated by reviewer {key[1]} "
                f"in domain {key[2]} (line {seen[key]})."
            )
        seen[key] = line
        rows.append(
            (
                values["report"],
                source,
                values["reviewer"],
                values["domain"],
                score,
                *(record[i].strip() or None for i in extra.values()),
            )
        )
    if not rows:
        raise RatingsFileError(f"{name}: no ratings after the header.")
    return pd.DataFrame(rows, columns=[*REQUIRED_COLUMNS, *extra])


def _score(text: str, *, name: str, line: int, scale: Scale) -> int:
    try:
        value = float(text)
    except ValueError:
        raise RatingsFileError(f"{name}, line {line}: score '{text}' is not a number.") from None
    if value != value or value != int(value):
        raise RatingsFileError(f"{name}, line {line}: score '{text}' is not a whole number.")
    if not scale.low <= value <= scale.high:
        raise RatingsFileError(
            f"{name}, line {line}: score {text} is outside the scale {scale.low}–{scale.high}."
        )
    return int(value)
