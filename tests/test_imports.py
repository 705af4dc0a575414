"""Every module of the project imports on its own, in a fresh interpreter.

An import cycle hides while something else happens to import its modules first (`import scrapers.http`
once failed alone, and worked only after the connectors). A subprocess sets Django up once — with the admin
app that does not autodiscover, since importing every admin.py would import most of the project — then
forks a child per module that imports that module and nothing else; a child that fails prints why.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
PACKAGES = ("rdvpasseport", "communes", "slots", "scrapers", "ops", "demo")

CHILDREN = r"""
import os, sys, traceback
import django
from django.conf import settings
settings.INSTALLED_APPS = [
    "django.contrib.admin.apps.SimpleAdminConfig" if app == "django.contrib.admin" else app
    for app in settings.INSTALLED_APPS
]
django.setup()
failed = 0
for name in sys.argv[1:]:
    pid = os.fork()
    if pid == 0:
        try:
            __import__(name)
        except BaseException:
            print(f"--- {name}", file=sys.stderr)
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    failed += status != 0
sys.exit(1 if failed else 0)
"""


def project_modules() -> list[str]:
    modules = []
    for package in PACKAGES:
        for path in sorted((BASE_DIR / package).rglob("*.py")):
            parts = path.relative_to(BASE_DIR).with_suffix("").parts
            if "migrations" in parts:
                continue  # loaded by the migration framework, not imported by name
            modules.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return modules


def test_every_module_imports_alone_in_a_fresh_interpreter() -> None:
    modules = project_modules()
    assert "scrapers.ingest" in modules and "communes.geocoding" in modules

    result = subprocess.run(
        [sys.executable, "-c", CHILDREN, *modules],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "rdvpasseport.settings.test"},
    )

    assert result.returncode == 0, result.stderr[-5000:]
