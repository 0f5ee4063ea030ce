"""applybot deployed as production runs it, for tests and benchmarks: `uvicorn
handlers.app:app_from_env --factory --workers N` as a process of its own on a loopback port, the
environment it gets, a data dir with the seed notice ingested, asking one chosen worker, and
its PostgreSQL database read from outside.

Which worker accepted a connection, and how much CPU a process used, are read from /proc."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.services import ingest_and_index
from bot.store import open_store
from handlers.app import KEEP_ALIVE_S
from tests.support.factories import TODAY, make_settings
from tests.support.paths import ROOT, SEED
from tests.support.servers import free_port


def _proc_children(pid: int) -> list[int]:
    """Child process ids of `pid`, read from /proc (no extra dependency)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if int(fields[1]) == pid:
            out.append(int(entry.name))
    return out


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, in seconds."""
    stat = (Path("/proc") / str(pid) / "stat").read_text()
    fields = stat[stat.rfind(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _socket_inodes(pid: int) -> set[str]:
    out = set()
    fd_dir = Path("/proc") / str(pid) / "fd"
    try:
        entries = list(fd_dir.iterdir())
    except OSError:
        return out
    for fd in entries:
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                out.add(target[8:-1])
    return out


def _tcp_inode(server_port: int, client_port: int) -> str | None:
    """The inode of the server side of an established loopback connection, once it has been accepted."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as fh:
            next(fh)
            for line in fh:
                parts = line.split()
                local_port = int(parts[1].rsplit(":", 1)[1], 16)
                remote_port = int(parts[2].rsplit(":", 1)[1], 16)
                if local_port == server_port and remote_port == client_port and parts[9] != "0":
                    return parts[9]
    return None


def server_env(
    data_dir: Path,
    knowledge_dir: Path,
    *,
    database_url: str = "",
    chroma_url: str = "",
    workers: int = 2,
    **extra: str,
) -> dict[str, str]:
    """The environment of a server process: only these APPLYBOT_* settings, nothing inherited."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPLYBOT_")}
    env.update(
        PYTHONPATH=str(ROOT),
        # One embedding thread per worker: two workers with two spinning OpenMP threads each on two
        # cores answer several times slower than with one (see the deployment report).
        OMP_NUM_THREADS="1",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
        APPLYBOT_DATA_DIR=str(data_dir),
        APPLYBOT_KNOWLEDGE_DIR=str(knowledge_dir),
        APPLYBOT_DATABASE_URL=database_url,
        APPLYBOT_CHROMA_URL=chroma_url,
        APPLYBOT_TODAY=TODAY.isoformat(),
        APPLYBOT_WORKERS=str(workers),
        APPLYBOT_RATE_LIMIT_PER_MINUTE="100000000",
    )
    env.update(extra)
    return env


class AppServer:
    """`uvicorn handlers.app:app_from_env --factory --workers N` on a free loopback port."""

    def __init__(self, env: dict[str, str], *, workers: int, cwd: Path, log_path: Path) -> None:
        self.env, self.workers, self.cwd, self.log_path = env, workers, cwd, log_path
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 180.0) -> None:
        command = [
            sys.executable, "-m", "uvicorn", "handlers.app:app_from_env", "--factory",
            "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers),
            "--no-access-log", "--timeout-graceful-shutdown", "5", "--backlog", "4096",
            "--timeout-keep-alive", str(KEEP_ALIVE_S),
        ]  # fmt: skip
        log = self.log_path.open("ab")
        # A session of its own: the server and its workers are stopped together, by this id only.
        self.process = subprocess.Popen(
            command, env=self.env, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self.wait_started(self.workers, timeout_s)

    def started_count(self) -> int:
        """How many worker start-ups completed so far (uvicorn logs one line per worker)."""
        try:
            return self.log_path.read_text(errors="replace").count("Application startup complete")
        except OSError:
            return 0

    def wait_started(self, count: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"the server exited:\n{self.log_tail()}")
            if self.started_count() >= count and self._ready():
                return
            time.sleep(0.2)
        raise RuntimeError(f"the server did not start in {timeout_s:.0f} s:\n{self.log_tail()}")

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/readyz", timeout=5) as response:
                return response.status == 200
        except OSError:
            return False

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def worker_pids(self) -> list[int]:
        """The uvicorn worker processes (children of the master started by multiprocessing's spawn)."""
        if self.process is None:
            return []
        if self.workers == 1:
            return [self.process.pid]
        return sorted(p for p in _proc_children(self.process.pid) if "spawn_main" in _cmdline(p))

    def worker_of(self, client_port: int, timeout_s: float = 5.0) -> int | None:
        """The worker that accepted the connection from this client port (None if none did in time)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            inode = _tcp_inode(self.port, client_port)
            if inode is not None:
                for pid in self.worker_pids():
                    if inode in _socket_inodes(pid):
                        return pid
            time.sleep(0.005)
        return None

    def stop(self) -> None:
        if self.process is None:
            return
        pgid = self.process.pid  # the session started above: its id is the server's own
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            self.process.wait(timeout=10)
        # Workers whose master died first would still hold the group: end them too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        self.process = None


def prepare_data(
    root: Path, embedding_cache: Path, *, database_url: str = "", chroma_url: str = ""
) -> tuple[Path, Path]:
    """A knowledge dir with the seed notice and a data dir with it ingested (the cache saves embedding)."""
    knowledge, data_dir = root / "knowledge", root / "data"
    knowledge.mkdir(parents=True)
    shutil.copy(SEED, knowledge / SEED.name)
    (data_dir / "cache").mkdir(parents=True)
    cache = embedding_cache / "embeddings.sqlite"
    if cache.exists():
        shutil.copy(cache, data_dir / "cache" / "embeddings.sqlite")
    settings = make_settings(data_dir, knowledge, database_url=database_url, chroma_url=chroma_url)
    store = open_store(settings)
    try:
        ingest_and_index(settings, [knowledge], store=store)
    finally:
        store.close()
    return data_dir, knowledge


def ask_on(conn: http.client.HTTPConnection, question: str, session_id: str | None = None) -> dict[str, Any]:
    body = {"question": question, **({"session_id": session_id} if session_id else {})}
    conn.request("POST", "/api/ask", body=json.dumps(body), headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    payload = response.read()
    assert response.status == 200, payload[:300]
    return dict(json.loads(payload))


def connect_to_worker(
    server: AppServer, accept: Callable[[int], bool]
) -> tuple[http.client.HTTPConnection, int]:
    """A new connection that a worker `accept`s (reconnect until one does; bounded)."""
    for _ in range(200):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        conn.connect()
        assert conn.sock is not None
        pid = server.worker_of(conn.sock.getsockname()[1])
        if pid is not None and accept(pid):
            return conn, pid
        conn.close()
    raise AssertionError("no connection reached the wanted worker in 200 tries")


# -- its database, seen from outside ---------------------------------------------------------------------


def _pg_query(url: str, sql: str) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url, connect_timeout=5) as conn:
        return list(conn.execute(sql).fetchall())


def message_counts(url: str) -> tuple[int, int]:
    """(rows, distinct message ids) in the messages table."""
    rows = _pg_query(url, "SELECT count(*), count(DISTINCT message_id) FROM messages")
    return int(rows[0][0]), int(rows[0][1])


def logged_ids(url: str) -> set[str]:
    return {str(r[0]) for r in _pg_query(url, "SELECT message_id FROM messages")}
