"""Settings for rdvpasseport, read from the environment (see .env.example).

Production differs from development by environment variables only. Importing them reads the environment and
.env, nothing else: no connection is tried, no folder created (the Makefile and scripts/dev_env.py do that
for development).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from communes import france
from rdvpasseport.rates import parse_rate

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def _env_bool(name: str, default: bool) -> bool:
    """Read a boolean and fail loudly on anything that is not clearly one."""
    raw = env.str(name, default="")
    if raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no, on/off), got {raw!r}")


def _env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = env.str(name, default="")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be >= {minimum}, got {value}")
    return value


def _env_float(name: str, default: float, minimum: float = 0.0, maximum: float = float("inf")) -> float:
    raw = env.str(name, default="")
    if raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from None
    if not minimum <= value <= maximum:  # also refuses nan
        raise ImproperlyConfigured(f"{name} must be between {minimum} and {maximum}, got {raw!r}")
    return value


def _env_log_level(name: str, default: str) -> str:
    level = (env.str(name, default="") or default).strip().upper()
    if level not in {"CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"}:
        raise ImproperlyConfigured(
            f"{name} must be one of CRITICAL, ERROR, WARNING, INFO, DEBUG, got {level!r}"
        )
    return level


DEBUG = _env_bool("DEBUG", False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (see .env.example)")
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
# Where the running code can be downloaded (the AGPL asks a network service to offer it); shown on "À propos".
SOURCE_CODE_URL = env.str("SOURCE_CODE_URL", default="")
# The operator's address for citizens' questions and data requests; shown in the footer and on "À propos".
CONTACT_EMAIL = env.str("CONTACT_EMAIL", default="")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- Security: production-safe defaults when DEBUG=0, development-friendly ones when DEBUG=1. ---
# `manage.py check --deploy` is clean with the production values listed in docs/OPERATIONS.md.
SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# The container health check and a Prometheus on the private network speak plain HTTP to gunicorn.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
# One year by default, the minimum the HSTS preload list accepts. Start lower on a first deployment.
SECURE_HSTS_SECONDS = _env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = _env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = env.str("SECURE_REFERRER_POLICY", default="") or "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = _env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Opt in only behind a TLS-terminating proxy that sets X-Forwarded-Proto and drops the client's own:
# otherwise a client could claim HTTPS. Without it behind such a proxy, SECURE_SSL_REDIRECT loops.
if _env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Number of reverse proxies in front of the app that append to X-Forwarded-For: the client address used
# by rate limits, the admin lockout and the /metrics network filter is the one the outermost proxy saw.
TRUSTED_PROXY_COUNT = _env_int("TRUSTED_PROXY_COUNT", 0)
# The admin lives at a less guessable path in production (relative, with a trailing slash).
ADMIN_URL = env.str("ADMIN_URL", default="") or "admin/"
if ADMIN_URL.startswith("/") or not ADMIN_URL.endswith("/"):
    raise ImproperlyConfigured(f"ADMIN_URL must be relative and end with a slash, got {ADMIN_URL!r}")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "django_htmx",
    "template_partials",
    "django_celery_beat",
    "csp",
    "axes",
    "corsheaders",
    "communes",
    "slots",
    "scrapers",
    "ops",
    "demo",
    "stats",
    "opendata",
    "alerts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before the rate limit: a refused cross-origin request still says why to the browser.
    "corsheaders.middleware.CorsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Before sessions and the views: a refused request costs one Redis round trip.
    "rdvpasseport.ratelimit.RateLimitMiddleware",
    "ops.metrics.SearchLatencyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a lockout raised during authentication into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "rdvpasseport.urls"
WSGI_APPLICATION = "rdvpasseport.wsgi.application"

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
                "demo.context_processors.demo_banner",
                "slots.context_processors.contact",
            ],
        },
    },
]

# The embedded default (a SQLite file under var/, which the Makefile creates) exists only so that `make run`
# works on a bare machine; tests and production use PostgreSQL through DATABASE_URL.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = _env_int("CONN_MAX_AGE", 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Admin login brute-force protection (django-axes): after AXES_FAILURE_LIMIT failures for one username from
# one client address, that pair is locked out for AXES_COOLOFF_TIME hours. `manage.py axes_reset` unlocks.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = _env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = _env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = _env_int("AXES_COOLOFF_TIME", 1, minimum=1)  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "rdvpasseport.ratelimit.client_ip"

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# French is the source language. English comes from the browser's Accept-Language or the footer's language
# switch (set_language), kept in this cookie for a year: URLs carry no language prefix.
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_HTTPONLY = True
TIME_ZONE = france.PARIS.key
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# WhiteNoise warns on every start when the folder is missing: collectstatic or the Makefile creates it.
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Redis: the cache, the per-host request limit of the scrapers and (by default) the Celery broker.
# Unset or empty (a bare machine without Redis): a local cache and kombu's filesystem transport. The Makefile's
# development targets set it to the local Redis when one answers (scripts/dev_env.py).
REDIS_URL = env.str("REDIS_URL", default="")
# Seconds before a direct Redis call (rate limits, health, per-host limiter) gives up; connecting gets half.
REDIS_SOCKET_TIMEOUT = _env_float("REDIS_SOCKET_TIMEOUT", 1.0, minimum=0.05, maximum=60.0)
if REDIS_URL:
    # Failing open with short socket timeouts: pages keep answering from PostgreSQL when Redis is down or hangs.
    CACHES = {
        "default": {
            "BACKEND": "rdvpasseport.cache.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# An empty value (as in a .env copied from .env.example) means unset, not "Celery's default AMQP broker".
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or REDIS_URL or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    # Folders created by the Makefile (`make run`, `worker`, `beat`, `web`).
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Every periodic task is a row created by `manage.py setup_schedules` (ops/schedules.py), editable in the admin.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Scrapes wait on the network, not the CPU: a thread pool runs many at once in one process.
# Each thread holds one database connection while it runs a task. SQLite (bare machine) cannot take many
# concurrent writers, hence a smaller default there.
CELERY_WORKER_POOL = env.str("CELERY_WORKER_POOL", default="threads")
CELERY_WORKER_CONCURRENCY = _env_int(
    "CELERY_WORKER_CONCURRENCY", 32 if DATABASES["default"]["ENGINE"].endswith("postgresql") else 2, minimum=1
)

# Scrapes (scrapers.services.source_scrape): time limits of one source's scrape, in seconds. The hard limit
# is also how long a worker holds a source; the thread pool does not enforce these limits (prefork does),
# so the HTTP client's own timeouts bound a scrape there.
SCRAPE_SOFT_TIME_LIMIT = _env_int("SCRAPE_SOFT_TIME_LIMIT", 120, minimum=1)
SCRAPE_TIME_LIMIT = _env_int("SCRAPE_TIME_LIMIT", 150, minimum=1)
if SCRAPE_TIME_LIMIT <= SCRAPE_SOFT_TIME_LIMIT:
    raise ImproperlyConfigured("SCRAPE_TIME_LIMIT must be greater than SCRAPE_SOFT_TIME_LIMIT")
# A run with at least this many parse errors, making more than this share of the items read, is suspicious.
SCRAPE_SUSPICIOUS_PARSE_ERRORS = _env_int("SCRAPE_SUSPICIOUS_PARSE_ERRORS", 5, minimum=1)
SCRAPE_SUSPICIOUS_PARSE_ERROR_RATIO = 0.1
# An empty answer after a good run with slots is suspicious until this many empty answers in a row.
SCRAPE_ZERO_SLOTS_CONFIRMATIONS = _env_int("SCRAPE_ZERO_SLOTS_CONFIRMATIONS", 3, minimum=1)
# A run removing more than this share of a source's upcoming slots at once is suspicious (an answer that left
# town halls out, read as "no slot"), until SCRAPE_ZERO_SLOTS_CONFIRMATIONS such runs in a row.
SCRAPE_SUSPICIOUS_REMOVED_SHARE = _env_float("SCRAPE_SUSPICIOUS_REMOVED_SHARE", 0.5, minimum=0.0, maximum=1.0)
# Scrape runs older than this are deleted by the daily purge.
SCRAPE_RUNS_KEEP_DAYS = _env_int("SCRAPE_RUNS_KEEP_DAYS", 30, minimum=1)
# Statistics: each town hall's daily figures are kept this many days (the department and area figures
# forever); the statistics page charts this many days.
STATS_TOWN_HALL_KEEP_DAYS = _env_int("STATS_TOWN_HALL_KEEP_DAYS", 400, minimum=7)
STATS_CHART_DAYS = _env_int("STATS_CHART_DAYS", 90, minimum=7)

# Logs go to stdout: one JSON object per line in production (LOG_FORMAT=json, the default when DEBUG=0),
# readable lines in development.
LOG_FORMAT = env.str("LOG_FORMAT", default="") or ("plain" if DEBUG else "json")
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be 'json' or 'plain', got {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": LOG_FORMAT}
    },
    "root": {"handlers": ["console"], "level": _env_log_level("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # urllib3's DEBUG lines print request URLs, and a source's key may travel in one (clicrdv's apikey).
        "urllib3": {"level": "INFO"},
    },
}

# Error reporting: only when SENTRY_DSN is set. No personal data (addresses, cookies, users) is sent.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        environment=env.str("SENTRY_ENVIRONMENT", default="") or "production",
        release=env.str("SENTRY_RELEASE", default="") or None,
        traces_sample_rate=_env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0, maximum=1.0),
    )

# Content-Security-Policy (django-csp 4): exactly what the pages use. Scripts and styles are static files
# (no inline code), map tiles come from OpenStreetMap, htmx talks to this site only.
_CSP_DIRECTIVES: dict[str, object] = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:", "https://tile.openstreetmap.org"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
if SECURE_SSL_REDIRECT:
    _CSP_DIRECTIVES["upgrade-insecure-requests"] = True
if _csp_report_uri := env.str("CSP_REPORT_URI", default=""):
    _CSP_DIRECTIVES["report-uri"] = [_csp_report_uri]
CONTENT_SECURITY_POLICY = {"DIRECTIVES": _CSP_DIRECTIVES}

# Rate limits per client address (rdvpasseport/ratelimit.py): "N/s", "N/m", "N/h", "N/d", "N/5m"...
# or "off" (rdvpasseport/rates.py). Counted in Redis (Django's cache without it), in fixed windows.


def _env_rate(name: str, default: str) -> str:
    value = env.str(name, default="").strip().lower() or default
    try:
        parse_rate(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must look like 30/m, 100/h, 10/5m or off, got {value!r}"
        ) from None
    return value


# Search answers kept in the cache until their area's data changes (slots/search_cache.py), at most this long.
# 0 turns the cache off; so does the default without Redis: a cache of each process's own would miss the
# workers' invalidations.
SEARCH_CACHE_SECONDS = _env_int("SEARCH_CACHE_SECONDS", 120 if REDIS_URL else 0)

RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
RATELIMIT_SEARCH = _env_rate("RATELIMIT_SEARCH", "30/m")
RATELIMIT_AUTOCOMPLETE = _env_rate("RATELIMIT_AUTOCOMPLETE", "120/m")
RATELIMIT_API = _env_rate("RATELIMIT_API", "60/m")
# (bucket, path prefixes, rate): the first rule whose prefix starts the path applies.
# Alert sign-ups (POST /alertes and the request for a management link): per client address, and per email
# address (counted under a keyed hash of it, never the address itself).
RATELIMIT_ALERTS = _env_rate("RATELIMIT_ALERTS", "10/h")
RATELIMIT_ALERTS_EMAIL = _env_rate("RATELIMIT_ALERTS_EMAIL", "3/h")
RATELIMITS = [
    ("search", ("/recherche",), RATELIMIT_SEARCH),
    ("autocomplete", ("/autocomplete",), RATELIMIT_AUTOCOMPLETE),
    ("api", ("/api/",), RATELIMIT_API),
]

# Health (/healthz) and metrics (/metrics): see docs/OPERATIONS.md.
# Checks whose failure makes /healthz answer 503; the others only make it "degraded" (200).
# Only the database is critical by default: without Redis, pages and the API still answer (cache and rate
# limits fail open), so a load balancer must not take the web processes out.
HEALTHZ_CRITICAL_CHECKS = env.list("HEALTHZ_CRITICAL_CHECKS", default=None) or ["database"]
if _unknown_checks := set(HEALTHZ_CRITICAL_CHECKS) - {"database", "redis", "beat", "workers", "sources"}:
    raise ImproperlyConfigured(f"HEALTHZ_CRITICAL_CHECKS: unknown checks {sorted(_unknown_checks)}")
HEALTH_BEAT_MAX_AGE = _env_int("HEALTH_BEAT_MAX_AGE", 180, minimum=60)  # seconds since the last heartbeat
HEALTH_SOURCE_FAILURES = _env_int("HEALTH_SOURCE_FAILURES", 3, minimum=1)  # consecutive failures = failing
HEALTH_SOURCE_STALE_INTERVALS = _env_int("HEALTH_SOURCE_STALE_INTERVALS", 3, minimum=1)  # intervals = stale
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Token only by default: behind a reverse proxy on the same host every request comes from 127.0.0.1, so a
# loopback allowance would open /metrics to the whole Internet.
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=[])
for _network in METRICS_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"METRICS_ALLOWED_NETWORKS: {_network!r} is not a CIDR network") from None

# Reference data import: the departments imported by default (Île-de-France and former Rhône-Alpes).
DEFAULT_DEPARTMENTS = env.list("DEFAULT_DEPARTMENTS", default=list(france.DEFAULT_DEPARTMENTS))

# The local demo booking server (`manage.py demo_server`, started by `make run`): about fifty real town halls
# with generated slots, registered as a source by `manage.py setup_demo`. DEMO=0 removes it.
# Off unless asked for (`make run` asks): in production the demo port must not be on the scraper allowlist.
DEMO = _env_bool("DEMO", False)
# host:port pairs the scrapers may reach although they are private or loopback addresses (the SSRF guard
# refuses those otherwise): the demo server's own address only, by default.
SCRAPER_ALLOWED_HOSTS = [
    host.strip()
    for host in (env.str("SCRAPER_ALLOWED_HOSTS", default="") or ("127.0.0.1:8765" if DEMO else "")).split(
        ","
    )
    if host.strip()
]


# Scrapers' HTTP client (scrapers/fetching/http.py) and per-host politeness (scrapers/fetching/throttle.py).
SCRAPER_TIMEOUT = _env_float("SCRAPER_TIMEOUT", 15.0, minimum=0.1)  # connect and read timeouts, seconds
SCRAPER_MAX_BYTES = _env_int("SCRAPER_MAX_BYTES", 5_000_000, minimum=1024)  # largest response body read
# Let the scrapers reach private, loopback and link-local addresses. Tests and local demos only: in
# production this opens the SSRF door (a source URL could read internal services).
SCRAPER_ALLOW_PRIVATE_ADDRESSES = _env_bool("SCRAPER_ALLOW_PRIVATE_ADDRESSES", False)
SCRAPER_HOST_CONCURRENCY = _env_int("SCRAPER_HOST_CONCURRENCY", 4, minimum=1)  # requests in flight per host
SCRAPER_POLITE_DELAY = _env_float("SCRAPER_POLITE_DELAY", 0.2)  # seconds between two requests to a host

# CORS (django-cors-headers): the read-only public API may be called from any web page, GET only, without
# cookies or credentials. Nothing else of the site is shared with other origins.
CORS_ALLOW_ALL_ORIGINS = True
CORS_URLS_REGEX = r"^/api/v1/.*$"
CORS_ALLOW_METHODS = ["GET", "OPTIONS"]
CORS_ALLOW_CREDENTIALS = False

# Open-data files (/donnees/*.csv, .json): kept in the cache until the next ingestion, for at most this many
# seconds (so that slots already past leave the files even if every collection stops), when not larger.
OPENDATA_CACHE_SECONDS = _env_int("OPENDATA_CACHE_SECONDS", 3600, minimum=0)
OPENDATA_CACHE_MAX_BYTES = _env_int("OPENDATA_CACHE_MAX_BYTES", 20_000_000, minimum=0)
# Email (alerts). EMAIL_URL is django-environ's email URL: smtp+tls://user:password@host:587,
# smtps://..., consolemail://... Unset: files under var/mail with DEBUG=1 (`make run` shows
# where), the SMTP server on localhost:25 otherwise.
if env.str("EMAIL_URL", default=""):
    _email = env.email_url("EMAIL_URL")
elif DEBUG:
    _email = {
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(VAR_DIR / "mail"),
    }
else:
    _email = {"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend"}
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_FILE_PATH = _email.get("EMAIL_FILE_PATH") or str(VAR_DIR / "mail")
EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL"))
EMAIL_TIMEOUT = _env_int("EMAIL_TIMEOUT", 15, minimum=1)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="") or "rdvpasseport <alertes@localhost>"
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Alerts: at most one email per alert every ALERT_MIN_INTERVAL_MINUTES (0: no wait) and ALERT_DAILY_CAP a
# day; an alert ends after ALERT_MAX_EMAILS emails or ALERT_MAX_DAYS days, or at its own date.
ALERT_MIN_INTERVAL_MINUTES = _env_int("ALERT_MIN_INTERVAL_MINUTES", 60)
ALERT_DAILY_CAP = _env_int("ALERT_DAILY_CAP", 6, minimum=1)
ALERT_MAX_EMAILS = _env_int("ALERT_MAX_EMAILS", 10, minimum=1)
ALERT_MAX_DAYS = _env_int("ALERT_MAX_DAYS", 30, minimum=1)
