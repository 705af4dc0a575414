"""Check that PostgreSQL and Redis answer before the test suite runs, and create the database if missing.

Says exactly how to start whichever does not answer.
"""

from __future__ import annotations

import os
import sys
from urllib.parse import urlparse

import psycopg
import redis


def check_postgres(url: str) -> bool:
    parsed = urlparse(url)
    dbname = parsed.path.lstrip("/") or "rdvpasseport"
    admin_url = parsed._replace(path="/postgres").geturl()
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{dbname}"')
                print(f"Created PostgreSQL database {dbname}.")
    except psycopg.Error as exc:
        print(
            f"PostgreSQL does not answer at {parsed.hostname}:{parsed.port or 5432} ({exc}).", file=sys.stderr
        )
        print(
            "Start it, for instance with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n"
            "  or: docker compose up -d postgres\n"
            "  or point TEST_DATABASE_URL at a running server (postgres://USER@HOST:PORT/DB).",
            file=sys.stderr,
        )
        return False
    return True


def check_redis(url: str) -> bool:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        print(f"Redis does not answer at {url} ({exc}).", file=sys.stderr)
        print(
            "Start it, for instance with: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save ''\n"
            "  or: docker compose up -d redis\n"
            "  or point TEST_REDIS_URL at a running server.",
            file=sys.stderr,
        )
        return False
    return True


def main() -> int:
    ok_pg = check_postgres(os.environ["DATABASE_URL"])
    ok_redis = check_redis(os.environ["REDIS_URL"])
    return 0 if ok_pg and ok_redis else 1


if __name__ == "__main__":
    sys.exit(main())
