"""Test settings: only what makes the suite fast; everything else is base.py's."""

import os

os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "test-secret-key")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/rdvpasseport")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/1")
# The test client and the live server speak plain HTTP: no redirect to HTTPS, cookies sent over HTTP.
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
os.environ.setdefault("CSRF_COOKIE_SECURE", "0")

from .base import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# The connector tests talk to real HTTP servers on 127.0.0.1; the SSRF guard is tested with this turned off.
SCRAPER_ALLOW_PRIVATE_ADDRESSES = True
SCRAPER_POLITE_DELAY = 0
# Off so that tests logging in or searching repeatedly are never locked out; their own tests turn them on.
AXES_ENABLED = False
RATELIMIT_ENABLED = False
# Tests write slots between searches without an ingestion: the search cache's own tests turn it on.
SEARCH_CACHE_SECONDS = 0
