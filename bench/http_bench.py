"""HTTP answer latency and throughput: a real server process, a load client, loopback only.

Starts `uvicorn handlers.app:app_from_env --factory --workers N` (what `applybot serve` runs) over the
seed knowledge base, with PostgreSQL (a database of its own, dropped afterwards; SQLite when no
server answers) and a `chroma run` server, as docker-compose.yml deploys it. For 1 and 2 workers and
concurrency 1, 8, 32 and 64 it loads `POST /api/ask`, `--repeat` times, and reports p50/p95/p99
latency, answers per second (min/median/max over the passes), the errors, and where the CPU went
(ms per answer in the workers, Chroma, PostgreSQL and the load client).

Two load clients:
- `wrk` (C, from apt; the default when installed) keeps N connections busy for `--seconds` with
  the first turn of every development question in turn. Its own CPU is small, so on a 2-core
  machine the rate is the server's, not the client's.
- `httpx` (Python) sends every case of tests/data/eval_dev.jsonl with its history first, in one
  session, so follow-ups are exercised; it spends 2-5 ms of CPU per answer itself.

Before measuring, every worker answers every question once on a connection pinned to it (warm-up,
not counted: `cold` in the JSON), which fills its query-vector and search-result caches; the measured
passes see questions the workers have answered before, as a server answering the same questions
again does. `--unseen` (wrk) sends numbered variants instead, which no cache helps: every answer
then embeds its question (the cost of a question never asked before).

Targets: p95 <= 30 ms at concurrency 1; >= 150 answers/s at concurrency 32 with no errors.

    python bench/http_bench.py [--workers 1 2] [--concurrency 1 8 32 64] [--repeat 3]
                               [--client auto|wrk|httpx] [--seconds 10]
                               [--db auto|postgresql|sqlite] [--out docs/bench_http.json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "2")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bot.evaluation import load_jsonl, percentile  # noqa: E402
from tests.support.deployment import (  # noqa: E402
    AppServer,
    ask_on,
    connect_to_worker,
    prepare_data,
    server_env,
)
from tests.support.servers import ChromaServer  # noqa: E402

ADMIN_URL = os.environ.get("APPLYBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
TARGET_P95_MS_AT_1 = 30.0
TARGET_RATE_AT_32 = 150.0


def _cpu_ticks() -> tuple[int, int, int]:
    """(busy, total, stolen) clock ticks of all CPUs since boot, from /proc/stat.

    Stolen ticks are the hypervisor's (another machine on the same host): busy, but not ours.
    """
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields), fields[7]


def _proc_ticks(pid: int) -> int:
    """User + system CPU of one process in clock ticks (0 when it is gone)."""
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return 0
    fields = stat[stat.rfind(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                if int(stat[stat.rfind(")") + 2 :].split()[1]) == pid:
                    out.append(int(entry.name))
    return out


def _postgres_backends(database_name: str) -> list[int]:
    """PostgreSQL server processes serving connections to this database."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                if cmdline.startswith("postgres:") and f" {database_name} " in cmdline:
                    out.append(int(entry.name))
    return out


class CpuMeter:
    """How much CPU each part of the set-up used over a pass, and how much everything else did."""

    def __init__(self, server: AppServer, chroma: ChromaServer, database_name: str) -> None:
        self.server, self.chroma, self.database_name = server, chroma, database_name

    def ours(self) -> dict[str, dict[int, int]]:
        """Clock ticks per process, by role: the server (master and workers), Chroma, PostgreSQL, client."""
        roles: dict[str, list[int]] = {"server": [], "chroma": [], "postgresql": []}
        if self.server.process is not None:
            roles["server"] = [self.server.process.pid, *_children(self.server.process.pid)]
        if self.chroma.process is not None:
            roles["chroma"] = [self.chroma.process.pid]
        if self.database_name:
            roles["postgresql"] = _postgres_backends(self.database_name)
        taken = {pid for pids in roles.values() for pid in pids}
        roles["client"] = [os.getpid(), *(p for p in _children(os.getpid()) if p not in taken)]
        return {role: {pid: _proc_ticks(pid) for pid in pids} for role, pids in roles.items()}

    @staticmethod
    def _reaped_client_ms() -> float:
        """CPU of finished child processes (a wrk run), which /proc no longer shows."""
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (usage.ru_utime + usage.ru_stime) * 1000

    def start(self) -> None:
        self._ours, self._ticks, self._reaped = self.ours(), _cpu_ticks(), self._reaped_client_ms()

    def stop(self, answers: int) -> dict[str, Any]:
        ours, ticks = self.ours(), _cpu_ticks()
        tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
        per_role_ms = {
            role: tick_ms * sum(t - self._ours.get(role, {}).get(pid, 0) for pid, t in pids.items())
            for role, pids in ours.items()
        }
        per_role_ms["client"] += self._reaped_client_ms() - self._reaped
        busy, total = ticks[0] - self._ticks[0], max(1, ticks[1] - self._ticks[1])
        used_ticks = sum(per_role_ms.values()) / tick_ms
        return {
            "machine_busy": round(busy / total, 2),
            "others_busy": round(max(0.0, busy - used_ticks) / total, 2),
            "stolen": round((ticks[2] - self._ticks[2]) / total, 3),
            # Where the CPU went: milliseconds of CPU per answer, by part of the set-up.
            "cpu_ms_per_answer": {role: round(ms / max(1, answers), 2) for role, ms in per_role_ms.items()},
        }


def _machine_busy(seconds: float) -> float:
    before = _cpu_ticks()
    time.sleep(seconds)
    after = _cpu_ticks()
    return (after[0] - before[0]) / max(1, after[1] - before[1])


def _postgres_reachable() -> bool:
    import psycopg

    try:
        with psycopg.connect(ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@contextlib.contextmanager
def database(kind: str) -> Iterator[str]:
    """A PostgreSQL database of the run's own (dropped afterwards), or "" for SQLite under the data dir."""
    if kind == "sqlite":
        yield ""
        return
    from tests.support.servers import PgDatabase

    pg = PgDatabase()
    try:
        yield pg.url
    finally:
        pg.drop()


async def run_pass(
    url: str, cases: list[dict[str, Any]], concurrency: int, meter: CpuMeter | None = None
) -> dict[str, Any]:
    """Every case once (history first, same session), `concurrency` cases at a time."""
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    next_case = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:

        async def worker() -> None:
            nonlocal next_case
            while next_case < len(cases):
                case = cases[next_case]
                next_case += 1
                session: str | None = None
                for question in [*case.get("history", []), case["question"]]:
                    body: dict[str, Any] = {"question": question}
                    if session:
                        body["session_id"] = session
                    started = time.perf_counter()
                    try:
                        response = await client.post("/api/ask", json=body)
                    except httpx.HTTPError as exc:
                        errors[type(exc).__name__] += 1
                        break
                    elapsed = (time.perf_counter() - started) * 1000
                    if response.status_code != 200:
                        errors[f"HTTP {response.status_code}"] += 1
                        break
                    latencies.append(elapsed)
                    session = response.json()["session_id"]

        if meter is not None:
            meter.start()
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
        cpu = meter.stop(len(latencies)) if meter is not None else {}
    return {
        "answers": len(latencies),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "seconds": round(wall, 3),
        "answers_per_s": round(len(latencies) / wall, 1) if wall else 0.0,
        "p50_ms": round(percentile(latencies, 0.50), 2),
        "p95_ms": round(percentile(latencies, 0.95), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "load_1m": round(os.getloadavg()[0], 2),
        # Shares of all CPUs busy during the pass: in all, and by processes not of this benchmark.
        **cpu,
    }


WRK_SCRIPT = """
-- Generated by bench/http_bench.py: POST each question in turn; report percentiles as JSON.
local bodies = {%s}
local next_body = 0
request = function()
  next_body = next_body %% #bodies + 1
  return wrk.format("POST", "/api/ask", {["Content-Type"] = "application/json"}, bodies[next_body])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_JSON {\\"requests\\": %%d, \\"duration_us\\": %%d, \\"connect\\": %%d, \\"read\\": %%d, " ..
    "\\"write\\": %%d, \\"status\\": %%d, \\"timeout\\": %%d, \\"p50_us\\": %%d, \\"p95_us\\": %%d, \\"p99_us\\": %%d}\\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def standalone_questions(cases: list[dict[str, Any]]) -> list[str]:
    """Questions that make sense without a conversation: each case's first turn."""
    return [[*case.get("history", []), case["question"]][0] for case in cases]


def unseen_variants(questions: list[str], tag: str, count: int = 5000) -> list[str]:
    """Numbered variants no worker has answered: every one is embedded and searched afresh."""
    return [f"{questions[i % len(questions)]} ({tag}.{i})" for i in range(count)]


def run_wrk_pass(
    url: str, script: Path, concurrency: int, seconds: float, meter: CpuMeter | None = None
) -> dict[str, Any]:
    """`wrk` (C, one thread) keeps `concurrency` connections busy for `seconds`: the server's rate."""
    if meter is not None:
        meter.start()
    done = subprocess.run(
        ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds:g}s", "--timeout", "30s", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("WRK_JSON "))
    result = json.loads(line.removeprefix("WRK_JSON "))
    errors = {k: result[k] for k in ("connect", "read", "write", "status", "timeout") if result[k]}
    answers = result["requests"] - result["status"]
    wall = result["duration_us"] / 1e6
    cpu = meter.stop(answers) if meter is not None else {}
    return {
        "answers": answers,
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "seconds": round(wall, 3),
        "answers_per_s": round(answers / wall, 1) if wall else 0.0,
        "p50_ms": round(result["p50_us"] / 1000, 2),
        "p95_ms": round(result["p95_us"] / 1000, 2),
        "p99_ms": round(result["p99_us"] / 1000, 2),
        "load_1m": round(os.getloadavg()[0], 2),
        **cpu,
    }


def write_wrk_script(path: Path, questions: list[str]) -> Path:
    bodies = ", ".join(f"[==[{json.dumps({'question': q})}]==]" for q in questions)  # ASCII JSON
    path.write_text(WRK_SCRIPT % bodies, encoding="utf-8")
    return path


def warm_up(server: AppServer, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every question once on each worker (a connection pinned to it), so every query cache is warm."""
    out = []
    for pid in server.worker_pids():
        conn, _ = connect_to_worker(server, lambda p, pid=pid: p == pid)  # type: ignore[misc]
        latencies = []
        with contextlib.closing(conn):
            for case in cases:
                session = None
                for question in [*case.get("history", []), case["question"]]:
                    started = time.perf_counter()
                    session = ask_on(conn, question, session)["session_id"]
                    latencies.append((time.perf_counter() - started) * 1000)
        out.append(
            {
                "worker": pid,
                "answers": len(latencies),
                "p50_ms": round(percentile(latencies, 0.50), 2),
                "p95_ms": round(percentile(latencies, 0.95), 2),
            }
        )
    return out


def summarize(passes: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("p50_ms", "p95_ms", "p99_ms", "answers_per_s")
    out: dict[str, Any] = {
        k: {
            "min": min(p[k] for p in passes),
            "median": statistics.median(p[k] for p in passes),
            "max": max(p[k] for p in passes),
        }
        for k in keys
    }
    out["errors"] = sum(p["errors"] for p in passes)
    out["others_busy_max"] = max(p.get("others_busy", 0.0) for p in passes)
    roles = passes[0].get("cpu_ms_per_answer", {})
    out["cpu_ms_per_answer"] = {
        role: statistics.median(p["cpu_ms_per_answer"][role] for p in passes) for role in roles
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32, 64])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", choices=["auto", "postgresql", "sqlite"], default="auto")
    parser.add_argument(
        "--omp-threads",
        type=int,
        default=1,
        help="OMP_NUM_THREADS of each server worker (the embedding engine's threads); default 1",
    )
    parser.add_argument("--questions", type=Path, default=ROOT / "tests" / "data" / "eval_dev.jsonl")
    parser.add_argument(
        "--client",
        choices=["auto", "wrk", "httpx"],
        default="auto",
        help="load client: wrk (C, light; first turns only) or httpx (Python; conversations with "
        "follow-ups in their sessions); auto = wrk when installed",
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="length of one wrk pass")
    parser.add_argument(
        "--unseen",
        action="store_true",
        help="wrk sends numbered variants of the questions that no worker has seen (no cache helps)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "bench_http.json")
    args = parser.parse_args()
    client = args.client if args.client != "auto" else ("wrk" if shutil.which("wrk") else "httpx")

    db_kind = args.db if args.db != "auto" else ("postgresql" if _postgres_reachable() else "sqlite")
    busy_before = _machine_busy(2.0)
    if busy_before > 0.15:
        print(
            f"warning: {busy_before:.0%} of the CPUs are busy before the benchmark starts: numbers will be low"
        )
    cases = load_jsonl(args.questions)
    answers_per_pass = sum(1 + len(c.get("history", [])) for c in cases)
    pass_size = (
        f"{args.seconds:g} s per pass (wrk, {'unseen' if args.unseen else 'seen'} questions)"
        if client == "wrk"
        else f"{answers_per_pass} answers per pass (httpx)"
    )
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="applybot-http-bench-") as tmp, database(db_kind) as db_url:
        root = Path(tmp)
        chroma = ChromaServer(root / "chroma")
        chroma.start()
        try:
            print(f"ingesting the seed knowledge base (database: {db_kind}, Chroma server {chroma.url}) ...")
            (root / "no-cache").mkdir()
            data_dir, knowledge = prepare_data(
                root, root / "no-cache", database_url=db_url, chroma_url=chroma.url
            )
            for workers in args.workers:
                env = server_env(
                    data_dir,
                    knowledge,
                    database_url=db_url,
                    chroma_url=chroma.url,
                    workers=workers,
                    OMP_NUM_THREADS=str(args.omp_threads),
                )
                server = AppServer(env, workers=workers, cwd=root, log_path=root / f"server-{workers}.log")
                started = time.perf_counter()
                server.start()
                print(f"\n{workers} worker(s): up in {time.perf_counter() - started:.1f} s")
                try:
                    cold = warm_up(server, cases)
                    for item in cold:
                        print(
                            f"  warm-up (cold cache) on worker {item['worker']}: "
                            f"p50 {item['p50_ms']} ms, p95 {item['p95_ms']} ms"
                        )
                    for concurrency in args.concurrency:
                        meter = CpuMeter(server, chroma, db_url.rsplit("/", 1)[-1] if db_url else "")
                        if client == "wrk":
                            passes = []
                            for n in range(args.repeat):
                                questions = standalone_questions(cases)
                                if args.unseen:
                                    questions = unseen_variants(questions, f"{workers}.{concurrency}.{n}")
                                script = write_wrk_script(root / "ask.lua", questions)
                                passes.append(
                                    run_wrk_pass(server.url, script, concurrency, args.seconds, meter)
                                )
                        else:
                            passes = [
                                asyncio.run(run_pass(server.url, cases, concurrency, meter))
                                for _ in range(args.repeat)
                            ]
                        summary = summarize(passes)
                        runs.append(
                            {
                                "workers": workers,
                                "concurrency": concurrency,
                                "passes": passes,
                                "summary": summary,
                                "cold": cold,
                            }
                        )
                        print(
                            f"  c={concurrency:<3} p50 {summary['p50_ms']['median']:>7} ms  "
                            f"p95 {summary['p95_ms']['median']:>7} ms  p99 {summary['p99_ms']['median']:>7} ms  "
                            f"{summary['answers_per_s']['median']:>6}/s  errors {summary['errors']}"
                            f"  (other processes: up to {summary['others_busy_max']:.0%} of the CPUs)"
                        )
                        print(
                            "        CPU ms per answer: "
                            + ", ".join(f"{k} {v}" for k, v in summary["cpu_ms_per_answer"].items())
                        )
                finally:
                    server.stop()
        finally:
            chroma.stop()

    print_table(runs, args.repeat, pass_size)
    verdicts = verdict(runs)
    for line in verdicts["lines"]:
        print(line)
    report = {
        "what": f"POST /api/ask over loopback, client {client}; server = uvicorn handlers.app:app_from_env",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "server_omp_num_threads": args.omp_threads,
            "cpus_busy_before_start": round(busy_before, 2),
        },
        "setup": {
            "database": db_kind,
            "chroma": "server (chroma run)",
            "questions": str(args.questions.relative_to(ROOT))
            if args.questions.is_relative_to(ROOT)
            else str(args.questions),
            "cases": len(cases),
            "client": client,
            "pass": pass_size,
            "repeat": args.repeat,
            "query_cache": "cold: numbered variants no worker has seen"
            if client == "wrk" and args.unseen
            else "warm: each worker answered every question once before",
        },
        "targets": {
            "p95_ms_at_concurrency_1": TARGET_P95_MS_AT_1,
            "answers_per_s_at_concurrency_32": TARGET_RATE_AT_32,
        },
        "runs": runs,
        "verdict": verdicts["results"],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")


def print_table(runs: list[dict[str, Any]], repeat: int, pass_size: str) -> None:
    print(f"\n{pass_size}, {repeat} passes: median (min-max)")
    header = (
        f"{'workers':>7} {'conc':>4} {'p50 ms':>18} {'p95 ms':>18} {'p99 ms':>18} {'answers/s':>18} "
        f"{'errors':>6} {'others':>6}"
    )
    print(header)
    print("-" * len(header))

    def cell(stat: dict[str, float]) -> str:
        return f"{stat['median']:.1f} ({stat['min']:.0f}-{stat['max']:.0f})"

    for run in runs:
        s = run["summary"]
        print(
            f"{run['workers']:>7} {run['concurrency']:>4} {cell(s['p50_ms']):>18} {cell(s['p95_ms']):>18} "
            f"{cell(s['p99_ms']):>18} {cell(s['answers_per_s']):>18} {s['errors']:>6} "
            f"{s['others_busy_max']:>6.0%}"
        )
    print(
        "others: the most CPU outside this benchmark's processes during a pass: other work, the kernel's\n"
        "loopback networking, PostgreSQL's background processes, CPU stolen by the host (`stolen` in the JSON)"
    )


def verdict(runs: list[dict[str, Any]]) -> dict[str, Any]:
    lines, results = [], {}
    for run in runs:
        s, w, c = run["summary"], run["workers"], run["concurrency"]
        if c == 1:
            p95 = s["p95_ms"]["median"]
            ok = p95 <= TARGET_P95_MS_AT_1
            results[f"p95_at_1_with_{w}_workers"] = {"median_p95_ms": p95, "meets": ok}
            lines.append(
                f"target p95 <= {TARGET_P95_MS_AT_1:.0f} ms at concurrency 1, {w} worker(s): "
                f"{'meets' if ok else 'misses'} (median p95 {p95} ms)"
            )
        if c == 32:
            rate = s["answers_per_s"]["median"]
            ok = rate >= TARGET_RATE_AT_32 and s["errors"] == 0
            results[f"rate_at_32_with_{w}_workers"] = {
                "median_answers_per_s": rate,
                "errors": s["errors"],
                "meets": ok,
            }
            lines.append(
                f"target >= {TARGET_RATE_AT_32:.0f} answers/s at concurrency 32, {w} worker(s): "
                f"{'meets' if ok else 'misses'} ({rate}/s, {s['errors']} errors)"
            )
    return {"lines": lines, "results": results}


if __name__ == "__main__":
    main()
