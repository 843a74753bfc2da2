"""Statistics of a rating study: pure functions over a long-format ratings table."""

from review.stats.analysis import DEFAULT_BOOTSTRAP, Results, analyse
from review.stats.frame import AUTHORSHIP_DOMAIN, REQUIRED_COLUMNS, Scale

__all__ = [
    "AUTHORSHIP_DOMAIN",
    "DEFAULT_BOOTSTRAP",
    "REQUIRED_COLUMNS",
    "Results",
    "Scale",
    "analyse",
]
