import datetime as dt
import random

import pytest

from generation import frame_format as frames
from generation.clinical import draw, knowledge, population

SAMPLE_SIZE = 3000


@pytest.fixture(scope="session")
def kb():
    return knowledge.default_knowledge()


@pytest.fixture(scope="session")
def pop():
    return population.default_population()


@pytest.fixture(scope="session")
def frame():
    return frames.frame_validate(frames.default_frame_data())


def draw_case(kb, pop, frame, *, seed: int, site: str):
    return draw.clinical_draw(
        rng=random.Random(f"clinical:{seed}"),
        kb=kb,
        population=pop,
        frame=frame,
        site=site,
        admission=dt.date(2024, 1, 1) + dt.timedelta(days=seed % 700),
    )


@pytest.fixture(scope="session")
def sample(kb, pop, frame):
    """A few thousand scenarios over every site (same seeds every run)."""
    sites = sorted(frame.sites)
    return [
        draw_case(kb, pop, frame, seed=i, site=sites[i % len(sites)]) for i in range(SAMPLE_SIZE)
    ]


@pytest.fixture(scope="session")
def find(kb, pop, frame):
    """The first sampled case of a site matching a predicate (to plant a violation in)."""

    def _find(site, predicate=lambda case: True, tries=20000):
        for seed in range(tries):
            case = draw_case(kb, pop, frame, seed=seed, site=site)
            if predicate(case):
                return case
        raise AssertionError(f"no {site} case matches")

    return _find
