"""synthreports settings: one file, read from environment variables.

Every value comes from the environment through the small typed readers below, which
reject malformed values at start-up instead of failing later. With nothing set, the app
runs on embedded defaults (SQLite, a file-system Celery broker, the offline generator)
so that `make demo` works on a machine with Python only.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from synthreports import log_hygiene

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    """A string from NAME, or from the file named by NAME_FILE (Docker secrets)."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        try:
            return Path(file_path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_path!r} cannot be read: {exc}") from exc
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true/false, 1/0, yes/no).")


def _env_number[N: (int, float)](
    name: str, default: N, *, parse: type[N], kind: str, minimum: N | None
) -> N:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = parse(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not {kind}.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}.")
    return value


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    return _env_number(name, default, parse=int, kind="an integer", minimum=minimum)


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    return _env_number(name, default, parse=float, kind="a number", minimum=minimum)


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY (or SECRET_KEY_FILE), or DEBUG=true for a "
            "local demo."
        )
    # Only reachable with DEBUG on: a fixed key is fine for a local demo, never for production.
    SECRET_KEY = "insecure-demo-key-do-not-use-in-production"  # noqa: S105 (DEBUG-only fallback)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # The search vectors' field and lookups (review.models.ReportSearch).
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    # Admin history of studies and domains (review.models: HistoricalRecords).
    "simple_history",
    "review",
    "generation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads the request: NUL/lone surrogates, JSON depth, API body size.
    "synthreports.input_boundary.InputBoundaryMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Records who made each change in django-simple-history's rows (the admin's History).
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # An htmx request whose session expired: HX-Redirect to the login page.
    "synthreports.htmx_answers.HtmxLoginRedirectMiddleware",
    # After authentication: it needs request.user to know who is served.
    "review.middleware.ReviewerNoStoreMiddleware",
    # Last, as django-axes requires: it turns repeated failed logins into a lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "synthreports.urls"
WSGI_APPLICATION = "synthreports.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "review.context_processors.roles",
            ],
        },
    },
]

# Embedded default: a SQLite file in WAL mode so the web process and the demo worker can
# read while the other writes. Tests and production use PostgreSQL through DATABASE_URL.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from exc
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # the demo
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    # Django's PostgreSQL backend whose health check skips the round trip while the
    # connection's socket is quiet (synthreports/db/postgresql/base.py says why it is safe).
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["ENGINE"] = "synthreports.db.postgresql"
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Server-side binding lets psycopg prepare what a connection runs repeatedly (after
    # DATABASE_PREPARE_THRESHOLD runs): PostgreSQL then skips parsing and planning the
    # session, role and rating queries every request makes. On the rating flow it halved
    # PostgreSQL's CPU per request (bench/RESULTS.md). 0 turns it off, e.g. behind PgBouncer
    # in transaction mode, which cannot keep prepared statements before version 1.21.
    DATABASE_PREPARE_THRESHOLD = env_int("DATABASE_PREPARE_THRESHOLD", 5, minimum=0)
    if DATABASE_PREPARE_THRESHOLD:
        DATABASES["default"]["OPTIONS"] = {
            "server_side_binding": True,
            "prepare_threshold": DATABASE_PREPARE_THRESHOLD,
        }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "synthreports.login_throttle.AddressRangeThrottleBackend",
    # ModelBackend that reads the user's review roles with the user, in one query.
    "review.permissions.RoleReadingModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "review:home"
LOGOUT_REDIRECT_URL = "login"

AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_float("AXES_COOLOFF_HOURS", 0.25, minimum=0)
# Lock a username from one address: a shared hospital NAT address must not lock out everyone.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_ENABLED = env_bool("AXES_ENABLED", default=True)
# And a whole address range (IPv4 /24, IPv6 /64), at a higher count, against one password
# sprayed over many usernames (synthreports/login_throttle.py).
LOGIN_RANGE_FAILURE_LIMIT = env_int("LOGIN_RANGE_FAILURE_LIMIT", 30, minimum=1)
LOGIN_RANGE_PREFIX_IPV4 = env_int("LOGIN_RANGE_PREFIX_IPV4", 24, minimum=8)
LOGIN_RANGE_PREFIX_IPV6 = env_int("LOGIN_RANGE_PREFIX_IPV6", 64, minimum=16)
CSRF_FAILURE_VIEW = "synthreports.htmx_answers.csrf_failure"

# The shared cache: Redis when REDIS_URL is set (production), the database cache table when
# the database is the demo's SQLite file (made by migration review 0010), otherwise each
# process's memory (tests on PostgreSQL without Redis). CACHE_BACKEND overrides the choice.
REDIS_URL = env_str("REDIS_URL", "")
_IS_SQLITE = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
CACHE_BACKEND = env_str(
    "CACHE_BACKEND", "redis" if REDIS_URL else ("database" if _IS_SQLITE else "locmem")
)
CACHE_TABLE = "synthreports_cache"
_CACHE_BACKENDS: dict[str, dict[str, object]] = {
    "redis": {
        "BACKEND": "synthreports.redis_cache.ReusingRedisCache",
        "LOCATION": env_str("CACHE_REDIS_URL", REDIS_URL or "redis://127.0.0.1:6379/0"),
        "KEY_PREFIX": "synthreports",
    },
    "database": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": CACHE_TABLE,
    },
    "locmem": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}
if CACHE_BACKEND not in _CACHE_BACKENDS:
    raise ImproperlyConfigured(
        f"CACHE_BACKEND={CACHE_BACKEND!r} is not one of: {', '.join(_CACHE_BACKENDS)}."
    )
CACHES = {"default": _CACHE_BACKENDS[CACHE_BACKEND]}

# Sessions live in the shared cache when there is one: a signed-in request then reads its
# session from Redis (or the demo's cache table) instead of the django_session table, and a
# save writes nothing to PostgreSQL. Process memory is not shared between gunicorn workers,
# so without Redis or the database cache the sessions stay in the database.
# SESSION_STORE=db forces the database (e.g. a Redis without persistence that must not
# sign everybody out when it restarts).
SESSION_STORE = env_str("SESSION_STORE", "db" if CACHE_BACKEND == "locmem" else "cache")
if SESSION_STORE not in {"cache", "db"}:
    raise ImproperlyConfigured(f"SESSION_STORE={SESSION_STORE!r} is not cache or db.")
if SESSION_STORE == "cache" and CACHE_BACKEND == "locmem":
    raise ImproperlyConfigured("SESSION_STORE=cache needs CACHE_BACKEND=redis or database.")
SESSION_ENGINE = f"django.contrib.sessions.backends.{SESSION_STORE}"

# The signed-in user and their roles kept this long in Redis (review/user_cache.py): the
# rating flow's score save then makes one statement, not two. Changes made through the ORM
# forget the users concerned at once; others are seen within this time. 0 turns it off; off
# without Redis (the database cache would answer with a query, a process's memory is not
# shared between workers).
USER_CACHE_SECONDS = env_int("USER_CACHE_SECONDS", 60 if CACHE_BACKEND == "redis" else 0, minimum=0)
if USER_CACHE_SECONDS and CACHE_BACKEND == "locmem":
    raise ImproperlyConfigured("USER_CACHE_SECONDS needs CACHE_BACKEND=redis or database.")

SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=300)
SESSION_EXPIRE_AT_BROWSER_CLOSE = False
SESSION_COOKIE_HTTPONLY = True

# Hardening outside DEBUG; behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER too.
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    if env_bool("BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en")
LANGUAGES = [("en", _("English")), ("fr", _("Français"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Paris")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Production serves hashed, compressed files built by collectstatic; the demo and the
# tests serve the files in static/ as they are.
STATIC_MANIFEST = env_bool("STATIC_MANIFEST", default=not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("UPLOAD_MAX_BYTES", 50 * 1024 * 1024, minimum=1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# The input boundary (synthreports/input_boundary.py): JSON bodies of the API are small
# (scores, codes, settings); deeper nesting than this is an attack, not a request.
API_MAX_JSON_BYTES = env_int("API_MAX_JSON_BYTES", 2 * 1024 * 1024, minimum=1024)
JSON_MAX_DEPTH = env_int("JSON_MAX_DEPTH", 32, minimum=4)
API_MAX_PAGE_SIZE = env_int("API_MAX_PAGE_SIZE", 500, minimum=1)

REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes DRF answer 401 (not 403) to a missing
    # or bad credential, as HTTP asks; a browser session is still accepted.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "review.permissions.RoleReadingTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # JSON only: a form-encoded PUT used to be parsed into nothing and answered 200; now
    # 415. The import endpoint declares its own multipart parser.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # A maximum page size (API_MAX_PAGE_SIZE) and strictly parsed limit/offset.
    "DEFAULT_PAGINATION_CLASS": "synthreports.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "review.api.exception_handler",
    # The browsable pages document every field: coordinators only.
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "synthreports.api_access.BrowsableForCoordinators",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "synthreports API",
    "DESCRIPTION": "Blinded evaluation studies of synthetic clinical reports.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the installed sidecar package: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Celery. The embedded default is kombu's file-system transport: web and worker exchange
# messages through a folder, so the demo needs no broker server.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
BROKER_DIR = Path(env_str("BROKER_DIR", str(BASE_DIR / "var" / "broker")))
if CELERY_BROKER_URL.startswith("filesystem://"):
    for folder in ("queue", "processed", "control"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        # kombu's default is "control" in the working directory (broadcast/pidbox files).
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # Above the longest task (LLM time limit plus retries' countdown), so Redis does not
    # hand an unacknowledged message to a second worker while the first still runs it.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=60)
    }
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE

# Generation (see generation/): offline writer unless a Mistral API key or server is given.
MISTRAL_API_KEY = env_str("MISTRAL_API_KEY")
MISTRAL_SERVER_URL = env_str("MISTRAL_SERVER_URL")
MISTRAL_MODEL = env_str("MISTRAL_MODEL", "mistral-large-latest")
MISTRAL_TIMEOUT_SECONDS = env_float("MISTRAL_TIMEOUT_SECONDS", 120.0, minimum=1)


def _model_prices(name: str) -> dict[str, tuple[float, float]]:
    """ "model=in/out,other" → {model: (EUR per million in, out)}; a bare name costs 0."""
    prices = {}
    for entry in env_list(name, []):
        model, _sep, price = entry.partition("=")
        try:
            price_in, _slash, price_out = price.partition("/")
            prices[model.strip()] = (float(price_in or 0), float(price_out or 0))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: {entry!r} is not model or model=in/out (EUR per million tokens)."
            ) from None
    return prices


# A self-hosted OpenAI-compatible server (vLLM, Ollama…): configuration, not code. Its
# models become the `openai_compatible` backend's; the writer and the judge may use any.
OPENAI_COMPATIBLE_SERVER_URL = env_str("OPENAI_COMPATIBLE_SERVER_URL")
OPENAI_COMPATIBLE_API_KEY = env_str("OPENAI_COMPATIBLE_API_KEY")
OPENAI_COMPATIBLE_MODELS = _model_prices("OPENAI_COMPATIBLE_MODELS")
GENERATION_DEFAULT_BACKEND = env_str(
    "GENERATION_DEFAULT_BACKEND", "mistral" if MISTRAL_API_KEY else "offline"
)
GENERATION_MAX_BATCH_SIZE = env_int("GENERATION_MAX_BATCH_SIZE", 5000, minimum=1)
GENERATION_MAX_ATTEMPTS = env_int("GENERATION_MAX_ATTEMPTS", 5, minimum=1)
# Upper bound on the critique's rewrites of one report, whatever a batch asks (issue 14).
GENERATION_MAX_REVISIONS = env_int("GENERATION_MAX_REVISIONS", 2, minimum=0)
GENERATION_RATE_LIMIT_PER_SECOND = env_float("GENERATION_RATE_LIMIT_PER_SECOND", 5.0, minimum=0)
GENERATION_TOKENS_PER_MINUTE = env_int("GENERATION_TOKENS_PER_MINUTE", 500_000, minimum=0)
GENERATION_STUCK_AFTER_SECONDS = env_int("GENERATION_STUCK_AFTER_SECONDS", 900, minimum=30)
# A batch with items waiting and no progress for this long may have lost its messages (a
# Redis restart): the sweep sends them again (generation/services.py items_requeue_stuck).
GENERATION_PENDING_RESEND_SECONDS = env_int("GENERATION_PENDING_RESEND_SECONDS", 60, minimum=10)
# Model prices live with the backends (BACKENDS in generation/backends/__init__.py).

# E-mail (invitations, access resets, reminders) through Django 6.1's MAILERS.
# EMAIL_BACKEND=smtp (the default outside DEBUG) sends through EMAIL_HOST; console (the
# default in DEBUG, and what `make demo` sets) prints each message to the web process's
# output. README and .env.example list the SMTP variables.
EMAIL_BACKENDS = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
}
_EMAIL_BACKEND = env_str("EMAIL_BACKEND", "console" if DEBUG else "smtp")
if _EMAIL_BACKEND not in EMAIL_BACKENDS:
    raise ImproperlyConfigured(
        f"EMAIL_BACKEND={_EMAIL_BACKEND!r} is not one of: {', '.join(EMAIL_BACKENDS)}."
    )
_EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
_EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=_EMAIL_PORT == 587)
_EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=_EMAIL_PORT == 465)
if _EMAIL_USE_TLS and _EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be true.")
MAILERS: dict[str, dict[str, object]] = {
    "default": (
        {
            "BACKEND": EMAIL_BACKENDS["smtp"],
            "OPTIONS": {
                "host": env_str("EMAIL_HOST", "localhost"),
                "port": _EMAIL_PORT,
                "username": env_str("EMAIL_HOST_USER"),
                "password": env_str("EMAIL_HOST_PASSWORD"),
                "use_tls": _EMAIL_USE_TLS,
                "use_ssl": _EMAIL_USE_SSL,
                "timeout": env_int("EMAIL_TIMEOUT", 20, minimum=1),
            },
        }
        if _EMAIL_BACKEND == "smtp"
        else {"BACKEND": EMAIL_BACKENDS[_EMAIL_BACKEND]}
    )
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "synthreports <noreply@localhost>")
# An invitation's or access reset's set-password link (Django's PasswordResetTokenGenerator)
# stays valid this many days, and only until the password is set.
INVITATION_VALID_DAYS = env_int("INVITATION_VALID_DAYS", 7, minimum=1)
PASSWORD_RESET_TIMEOUT = INVITATION_VALID_DAYS * 24 * 3600

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"scrub": {"()": "synthreports.log_hygiene.ScrubSensitiveData"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["scrub"]}
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# Statistics (review/stats): bootstrap resamples behind every confidence interval.
STATS_BOOTSTRAP_RESAMPLES = env_int("STATS_BOOTSTRAP_RESAMPLES", 2000, minimum=100)
# A study's results, judge comparison and surface cues are recomputed in the background
# (review/computations.py) this many seconds after a submission: a burst is one computation.
RESULTS_REFRESH_DELAY_SECONDS = env_int("RESULTS_REFRESH_DELAY_SECONDS", 5, minimum=0)
# Import of real reports (review/imports/).
IMPORT_MAX_UPLOAD_BYTES = env_int("IMPORT_MAX_UPLOAD_BYTES", 200 * 1024 * 1024, minimum=1024)
IMPORT_MAX_REPORT_CHARS = env_int("IMPORT_MAX_REPORT_CHARS", 100_000, minimum=100)
IMPORT_MAX_ARCHIVE_MEMBERS = env_int("IMPORT_MAX_ARCHIVE_MEMBERS", 50_000, minimum=1)
IMPORT_MAX_UNCOMPRESSED_BYTES = env_int("IMPORT_MAX_UNCOMPRESSED_BYTES", 1024**3, minimum=1024)
IMPORT_MAX_COMPRESSION_RATIO = env_int("IMPORT_MAX_COMPRESSION_RATIO", 100, minimum=2)
# JSON list of {"kind": …, "pattern": …} replacing the default placeholder patterns.
IMPORT_PLACEHOLDERS_FILE = env_str("IMPORT_PLACEHOLDERS_FILE", "")
IMPORT_SHIFT_REAL_DATES = env_bool("IMPORT_SHIFT_REAL_DATES", default=True)
IMPORT_DATE_SHIFT_MAX_DAYS = env_int("IMPORT_DATE_SHIFT_MAX_DAYS", 180, minimum=1)
# Generation pipeline (generation/): retry backoff for transient LLM errors (429, 5xx,
# timeouts): base * 2**retry with jitter, capped; Retry-After wins when the server sends it.
GENERATION_RETRY_BACKOFF_SECONDS = env_float("GENERATION_RETRY_BACKOFF_SECONDS", 5.0, minimum=0)
GENERATION_RETRY_BACKOFF_MAX_SECONDS = env_float(
    "GENERATION_RETRY_BACKOFF_MAX_SECONDS", 600.0, minimum=1
)
# How long a task waits for the global rate limiter before giving its worker back.
GENERATION_RATE_LIMIT_MAX_WAIT_SECONDS = env_float(
    "GENERATION_RATE_LIMIT_MAX_WAIT_SECONDS", 30.0, minimum=1
)
# Batch API jobs (issue 14): how long Mistral may take before the job expires (what it
# did not answer then resumes in direct mode), and how often the poller looks.
GENERATION_BATCH_API_TIMEOUT_HOURS = env_int("GENERATION_BATCH_API_TIMEOUT_HOURS", 24, minimum=1)
# Scheduled reminders (review.tasks.reminders_send_due): how often beat looks for reviewers
# due one (each study says whether and every how many days; 0 turns the check off), and
# the address their links start with, since no request is there to tell it.
REVIEW_REMINDERS_CHECK_SECONDS = env_float("REVIEW_REMINDERS_CHECK_SECONDS", 3600.0, minimum=0)
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000/")
CELERY_BEAT_SCHEDULE = {
    "generation-requeue-stuck-items": {
        "task": "generation.items_requeue_stuck",
        "schedule": env_float("GENERATION_SWEEP_INTERVAL_SECONDS", 60.0, minimum=5),
    },
    "generation-provider-jobs-poll": {
        "task": "generation.provider_jobs_poll",
        "schedule": env_float("GENERATION_BATCH_API_POLL_SECONDS", 60.0, minimum=5),
    },
}
# The search index of reports (review.search_index): an import asks a worker to fill it as it
# commits; beat sweeps this often for what a lost message left (a report without its index
# is still found, only more slowly).
REVIEW_SEARCH_INDEX_SWEEP_SECONDS = env_float("REVIEW_SEARCH_INDEX_SWEEP_SECONDS", 300.0, minimum=5)
CELERY_BEAT_SCHEDULE["review-reports-search-index"] = {
    "task": "review.reports_search_index",
    "schedule": REVIEW_SEARCH_INDEX_SWEEP_SECONDS,
}
if REVIEW_REMINDERS_CHECK_SECONDS > 0:
    CELERY_BEAT_SCHEDULE["review-reminders-send-due"] = {
        "task": "review.reminders_send_due",
        "schedule": REVIEW_REMINDERS_CHECK_SECONDS,
    }
# Error answers (400/403/404/409) documented on every API operation (synthreports/openapi.py).
REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = "synthreports.openapi.ErrorDocumentingAutoSchema"
# Report text is patient data and must never reach the logs, even at LOG_LEVEL=DEBUG:
# Django's template engine logs whole contexts (report text) when a variable is missing,
# and the SQL log carries query parameters (report text, ratings). Kept at INFO.
LOGGING["loggers"].update(  # type: ignore[attr-defined]
    {"django.template": {"level": "INFO"}, "django.db.backends": {"level": "INFO"}}
)
# Fraction of GENERATION_RATE_LIMIT_PER_SECOND the limiter leaves unused (0 to 0.5): the
# provider counts request arrivals, which lag our admissions by a few varying milliseconds.
GENERATION_RATE_LIMIT_HEADROOM = env_float("GENERATION_RATE_LIMIT_HEADROOM", 0.05, minimum=0)
if GENERATION_RATE_LIMIT_HEADROOM > 0.5:
    raise ImproperlyConfigured("GENERATION_RATE_LIMIT_HEADROOM must be between 0 and 0.5.")

# Exception messages (PostgreSQL's DETAIL and CONTEXT quote row values: patient names,
# birth dates) are scrubbed from every log record of every process that reads these
# settings (web, worker, commands), whatever handlers are configured later.
log_hygiene.install()
