"""Real servers for tests: uvicorn in a thread on a free loopback port, a PostgreSQL database of
its own per test, and how to start Chromium."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from typing import Any

import pytest
import uvicorn

# Debian's Chromium, started so that it makes no connections of its own (this network is closed).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class Server:
    """A real uvicorn server in a thread, serving an ASGI app on a free loopback port."""

    def __init__(self, app: Any) -> None:
        self.app = app
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 120  # the lifespan loads the model and the indexes
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


ADMIN_URL = os.environ.get("APPLYBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def admin_connection() -> Any:
    """A connection to the test PostgreSQL server (a failure, not a skip, when it is down)."""
    import psycopg

    try:
        return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        # The store must be proven on real PostgreSQL: a missing server is a failure, not a skip.
        pytest.fail(f"PostgreSQL is not reachable at {ADMIN_URL}: {exc}")


class PgDatabase:
    """A PostgreSQL database of its own for one test, dropped afterwards."""

    def __init__(self) -> None:
        self.name = f"applybot_test_{uuid.uuid4().hex[:12]}"
        with admin_connection() as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        base = ADMIN_URL.rsplit("/", 1)[0]
        self.url = f"{base}/{self.name}"

    def refuse_connections(self) -> None:
        """Make the database unreachable: no new connections, and the open ones are cut."""
        with admin_connection() as conn:
            conn.execute(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false')
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (self.name,)
            )

    def accept_connections(self) -> None:
        with admin_connection() as conn:
            conn.execute(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true')

    def drop(self) -> None:
        with admin_connection() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
