import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "synthreports.settings")
application = get_wsgi_application()

from synthreports.warmup import warm_up  # noqa: E402 (needs the app loaded above)

warm_up()
