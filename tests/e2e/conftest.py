"""Browser fixtures: Debian's Chromium driven by Playwright against pytest-django's live server.

The live server runs in a thread of this process on the PostgreSQL test database, so the
tests can set up data with the factories and read the database after the browser acted.
"""

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from review.models import Assignment
from tests.conftest import make_open_study
from tests.factories import PASSWORD, CoordinatorFactory, ReviewerFactory
from tests.transactional_fixtures import roles  # noqa: F401 (a fixture, requested by name)

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
AXE_JS = REPO_ROOT / "static" / "vendor" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 900}
TABLET = {"width": 768, "height": 1024}
WIDE = {"width": 1920, "height": 1080}
PHONE = {"width": 390, "height": 844}
SIZES = [DESKTOP, WIDE, PHONE, TABLET]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Browser tests last (after pytest-django's own ordering): while Playwright is alive the
    main thread has a running event loop, which the settings below allow for only them."""
    browser_tests = [item for item in items if item.get_closest_marker("e2e")]
    others = [item for item in items if not item.get_closest_marker("e2e")]
    items[:] = others + browser_tests


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (see .ci/run).")
    # Playwright's sync API runs an event loop in this thread; Django's guard against ORM
    # calls from async code would then refuse the tests' own database reads. Set only while
    # the browser lives, so no other test (or subprocess it starts) inherits it.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        # Playwright gives a launched browser its own fresh, temporary profile.
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture(autouse=True)
def _plain_http_cookies(settings):
    # The live server speaks plain HTTP; the production defaults mark cookies Secure.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False


@pytest.fixture
def new_context(browser, live_server) -> Iterator[Callable[..., BrowserContext]]:
    """Open a browser context (own cookies) with a locale and a viewport; closed after the test."""
    contexts: list[BrowserContext] = []

    def open_context(
        *, locale: str = "en-GB", viewport: dict | None = None, **options
    ) -> BrowserContext:
        context = browser.new_context(
            **options,
            base_url=live_server.url,
            locale=locale,
            extra_http_headers={"Accept-Language": f"{locale},{locale[:2]};q=0.9"},
            viewport=viewport or DESKTOP,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context) -> Page:
    return new_context().new_page()


@pytest.fixture
def study_setup(roles):  # noqa: F811 (the imported fixture, requested by name)
    """An open study: two reviewers, eight reports, each report rated by both (8 each)."""
    coordinator = CoordinatorFactory()
    reviewers = [ReviewerFactory(), ReviewerFactory()]
    study = make_open_study(coordinator=coordinator, reviewers=reviewers)
    return {"study": study, "coordinator": coordinator, "reviewers": reviewers}


def queue(reviewer, study) -> list[Assignment]:
    return list(Assignment.objects.filter(reviewer=reviewer, study=study).order_by("position"))


def log_in(page: Page, user) -> None:
    """Log in through the real form (in whatever language the page is)."""
    page.goto(reverse("login"))
    page.locator("#id_username").fill(user.username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def run_axe(page: Page) -> list[dict]:
    """axe-core on the current page: the serious and critical violations (id, nodes)."""
    page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "nodes": [node["target"] for node in violation["nodes"]],
        }
        for violation in result
        if violation["impact"] in {"serious", "critical"}
    ]


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def shots(page: Page, name: str) -> None:
    """The current page at the four sizes (the layout reflows in place), as the screen
    shows it (not the full page: what is on screen is the point), then back."""
    original = page.viewport_size
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        page.set_viewport_size(size)
        page.wait_for_timeout(100)
        path = SCREENSHOTS / f"{name}-{size['width']}x{size['height']}.png"
        page.screenshot(path=str(path))
        assert path.stat().st_size > 0
    if original:
        page.set_viewport_size(original)


# A report of realistic length and shape for screenshots and layout checks (invented patient).
SAMPLE_REPORT = """Motif d'hospitalisation :
Cure n°3 de chimiothérapie par carboplatine-pemetrexed-pembrolizumab pour un adénocarcinome \
pulmonaire du lobe supérieur droit, stade IVA (cT2bN2M1a), PD-L1 à 30 %, sans altération \
moléculaire ciblable (EGFR, ALK, ROS1 négatifs).

Antécédents :
- Hypertension artérielle traitée par amlodipine.
- Diabète de type 2 sous metformine, HbA1c à 7,1 %.
- Tabagisme sevré en 2019, estimé à 35 paquets-années.

Histoire de la maladie :
Découverte en mars d'une toux persistante et d'une altération de l'état général. Le scanner \
thoraco-abdomino-pelvien retrouve une masse de 48 mm du lobe supérieur droit, des adénopathies \
médiastinales homolatérales et un épanchement pleural droit dont la ponction confirme la \
nature métastatique. La RCP du 12 avril a retenu une immunochimiothérapie de première ligne.

Examen clinique :
Patient en bon état général, OMS 1, poids 71 kg (stable). Auscultation pulmonaire : diminution \
du murmure vésiculaire à la base droite. Pas d'œdème des membres inférieurs.

Évolution :
La cure a été administrée sans incident. Bilan biologique pré-thérapeutique satisfaisant : \
polynucléaires neutrophiles à 3,2 G/L, plaquettes à 245 G/L, créatininémie à 78 µmol/L. \
Pas de toxicité immuno-induite à ce stade ; TSH normale.

Conclusion :
Bonne tolérance de la troisième cure. Scanner d'évaluation prévu après la quatrième cure, \
puis discussion en RCP d'un entretien par pemetrexed-pembrolizumab.

Traitement de sortie :
- Acide folique 0,4 mg par jour, vitamine B12 toutes les 9 semaines.
- Ondansétron 8 mg matin et soir pendant 2 jours si nausées.
"""


def use_sample_report(assignment) -> None:
    report = assignment.report
    report.text = SAMPLE_REPORT
    report.save(update_fields=["text"])
