"""Statistics of a rating study: pure functions over a long-format ratings table."""

from review.stats.frame import AUTHORSHIP_DOMAIN, REQUIRED_COLUMNS, Scale
from review.stats.results import DEFAULT_BOOTSTRAP, Results, analyse

__all__ = [
    "AUTHORSHIP_DOMAIN",
    "DEFAULT_BOOTSTRAP",
    "REQUIRED_COLUMNS",
    "Results",
    "Scale",
    "analyse",
]
