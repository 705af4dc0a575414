"""Run a development command with REDIS_URL and DEMO decided: the Makefile's run, web, worker and beat go through it.

Settings only read the environment. When neither the environment nor .env sets REDIS_URL, this uses the local
Redis (127.0.0.1:6379) if it answers, and none otherwise: then the site uses a local cache and Celery kombu's
filesystem broker under var/broker, so that `make run` works on a bare machine. A REDIS_URL that is set, even
empty, is left alone. DEMO (off in settings, so that production never runs it by accident) is turned on the
same way: unless the environment or .env says otherwise.

Usage: python scripts/dev_env.py COMMAND [ARGUMENTS...]
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Mapping
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
LOCAL_REDIS = ("127.0.0.1", 6379)
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_answers(address: tuple[str, int] = LOCAL_REDIS, timeout: float = 0.3) -> bool:
    try:
        with socket.create_connection(address, timeout=timeout):
            return True
    except OSError:
        return False


def redis_url_default(environment: Mapping[str, str]) -> str | None:
    """The REDIS_URL to set when `environment` has none (the local Redis or ""); None when it has one."""
    if "REDIS_URL" in environment:
        return None
    return LOCAL_REDIS_URL if redis_answers() else ""


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    # What settings will read: the environment first, then .env for what it does not set.
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
    default = redis_url_default(os.environ)
    if default is not None:
        os.environ["REDIS_URL"] = default
    os.environ.setdefault("DEMO", "1")
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
