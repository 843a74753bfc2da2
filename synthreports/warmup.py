"""Load at start-up what the first requests of a fresh web process would otherwise load.

Without it, the first request a gunicorn worker serves imports every view module through
the URLconf (the results views bring pandas, SciPy and Matplotlib: about 1.7 s of CPU),
compiles the templates and reads the translation catalogues. A physician clicking while
the deployment scales up or restarts a worker waited that long. Nothing here touches the
database, so it is safe in gunicorn's master process before it forks (preload_app).
"""

from celery.app.backends import by_url
from django.conf import settings
from django.template.loader import get_template
from django.urls import get_resolver, reverse
from django.utils import translation

from review.blinding.house_style import first_names
from review.conventions.accents import clinical_lexicon, dictionary_lexicon
from review.surrogates import SurrogateGenerator
from synthreports.celery import app as celery_app

# The reviewer's pages first: they are the most requested.
TEMPLATES = (
    "review/rate.html",
    "review/home.html",
    "base.html",
    "registration/login.html",
)


def warm_up() -> None:
    get_resolver().url_patterns  # noqa: B018 (imports every view module)
    # The accent lexicons every rating page's house style reads (~0.5 s to build from the
    # packaged dictionary): built once in the master, shared by the forked workers.
    dictionary_lexicon()
    clinical_lexicon()
    # The first names the house style looks names up in (~45 ms from Faker's lists), and
    # Faker's locale providers an import's surrogates load (~30 ms, found by scanning their
    # packages): the first rating page and the first import of each worker paid them.
    first_names()
    for language, _name in settings.LANGUAGES:
        SurrogateGenerator(language=language)
    for name in TEMPLATES:
        get_template(name)
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            translation.gettext("Your ratings")
            reverse("review:home")
    celery_sender_load()


def celery_sender_load() -> None:
    """Load what sending a first task loads (40-70 ms): a submit schedules the study's
    results refresh and an import its search index, so a reviewer's first submit to each
    worker paid it. Only classes and routing tables: no broker connection and no pool is
    made here, which the forked workers would share (each connects on its first send,
    ~10 ms)."""
    # The result backend's class: found by scanning the installed packages' entry points
    # (cached by Celery for the process's life) even when results are disabled.
    by_url(celery_app.conf.result_backend, celery_app.loader)
    # The broker's transport module, the task router and queues, the event dispatcher.
    celery_app.connection_for_write().get_transport_cls()
    celery_app.amqp.router  # noqa: B018
    celery_app.amqp.queues  # noqa: B018
    celery_app.events.Dispatcher  # noqa: B018
