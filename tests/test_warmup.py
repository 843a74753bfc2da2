"""The web process loads its views, templates and catalogues before the first request."""

import os
import subprocess
import sys
from pathlib import Path

from synthreports.warmup import warm_up

ROOT = Path(__file__).resolve().parent.parent


def test_warm_up_touches_no_database(db, django_assert_num_queries):
    # gunicorn runs it in the master before forking (preload_app): no connection may open.
    with django_assert_num_queries(0):
        warm_up()


def test_loading_the_wsgi_application_imports_every_view_and_the_rating_template():
    # ...and opens no database connection: gunicorn's master loads it before forking, and
    # workers sharing one connection's socket would garble each other's queries.
    probe = (
        "import sys, synthreports.wsgi\n"
        "from django.db import connections\n"
        "from django.template import engines\n"
        "loader = engines['django'].engine.template_loaders[0]\n"
        "from review.conventions.accents import dictionary_lexicon\n"
        "from review.blinding.house_style import first_names\n"
        "print('review.views.results' in sys.modules, 'pandas' in sys.modules,\n"
        "      dictionary_lexicon.cache_info().currsize == 1,\n"
        "      first_names.cache_info().currsize == 1,\n"
        "      'faker.providers.person.fr_FR' in sys.modules,\n"
        "      any(key.startswith('review/rate.html') for key in loader.get_template_cache),\n"
        "      all(connection.connection is None for connection in connections.all()))\n"
        # What the first task sent loads; and no broker pool, which workers would share.
        "from celery.utils.imports import load_extension_class_names\n"
        "from synthreports.celery import app\n"
        "print(load_extension_class_names.cache_info().currsize == 1,\n"
        "      'celery.app.amqp' in sys.modules, 'celery.events.dispatcher' in sys.modules,\n"
        "      app._pool is None)\n"
    )
    env = {**os.environ, "DEBUG": "false", "SECRET_KEY": "warm-up-test-secret-key-0123456789"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert result.stdout.split() == ["True"] * 11
