"""Draw the benchmark results in docs/*.json as PNG plots in docs/plots/ (for docs/benchmarks.md).

Every bar or point is the median of the repeated passes; the error bars span their min and max (the
machine's noise). A plot whose JSON is missing is skipped, with a line saying so.

    python bench/plots.py [--docs docs]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no screen here
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _load(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        print(f"skipped: {path} is missing")
        return None
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _spread(stat: dict[str, float]) -> tuple[float, list[float]]:
    """(median, [below, above]) for an error bar from min/median/max."""
    mid = stat["median"]
    return mid, [mid - stat["min"], stat["max"] - mid]


def _save(fig: Any, out: Path) -> None:
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    print(f"wrote {out}")


def http_plots(runs_by_label: dict[str, dict[str, Any]], target_rate: float, out: Path) -> None:
    """Answers per second and p95 latency against concurrency, one line per set-up."""
    fig, (rate_ax, p95_ax) = plt.subplots(1, 2, figsize=(11, 4.2))
    for label, report in runs_by_label.items():
        for workers in sorted({r["workers"] for r in report["runs"]}):
            runs = sorted(
                (r for r in report["runs"] if r["workers"] == workers), key=lambda r: r["concurrency"]
            )
            xs = [r["concurrency"] for r in runs]
            for ax, key in ((rate_ax, "answers_per_s"), (p95_ax, "p95_ms")):
                mids, errs = zip(*(_spread(r["summary"][key]) for r in runs), strict=True)
                ax.errorbar(
                    xs,
                    mids,
                    yerr=list(zip(*errs, strict=True)),
                    marker="o",
                    capsize=3,
                    label=f"{label}, {workers} worker{'s' if workers > 1 else ''}",
                )
    rate_ax.axhline(
        target_rate, color="grey", linestyle="--", linewidth=1, label=f"target {target_rate:g}/s at 32"
    )
    rate_ax.set(xscale="log", xlabel="concurrent clients", ylabel="answers per second", title="Throughput")
    p95_ax.axhline(30, color="grey", linestyle="--", linewidth=1, label="target 30 ms at 1")
    p95_ax.set(
        xscale="log", yscale="log", xlabel="concurrent clients", ylabel="p95 latency, ms", title="p95 latency"
    )
    for ax in (rate_ax, p95_ax):
        ax.set_xticks([1, 8, 32, 64], labels=["1", "8", "32", "64"])
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("POST /api/ask over loopback, 2 cores (median of passes; bars: min-max)", fontsize=10)
    _save(fig, out)


def cpu_plot(report: dict[str, Any], out: Path) -> None:
    """Where an answer's CPU goes, by process, at each concurrency (2 workers)."""
    runs = sorted(
        (r for r in report["runs"] if r["workers"] == max(x["workers"] for x in report["runs"])),
        key=lambda r: r["concurrency"],
    )
    roles = list(runs[0]["summary"].get("cpu_ms_per_answer", {}))
    if not roles:
        print("skipped: no CPU breakdown in the HTTP report")
        return
    fig, ax = plt.subplots(figsize=(6.5, 4))
    bottoms = [0.0] * len(runs)
    labels = [str(r["concurrency"]) for r in runs]
    for role in roles:
        values = [r["summary"]["cpu_ms_per_answer"][role] for r in runs]
        ax.bar(labels, values, bottom=bottoms, label=role)
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    ax.set(
        xlabel="concurrent clients",
        ylabel="CPU ms per answer",
        title="CPU per answer by process (2 workers, questions asked before)",
    )
    ax.legend(fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)
    _save(fig, out)


def baselines_plot(report: dict[str, Any], out: Path) -> None:
    """Accuracy, citation validity and p95 latency of applybot and the simple baselines."""
    summary = report["summary"]
    names = list(summary)
    fig, (quality_ax, latency_ax) = plt.subplots(1, 2, figsize=(11, 4))
    width = 0.38
    for offset, key, label in (
        (-width / 2, "accuracy", "answer accuracy"),
        (width / 2, "citation_validity", "citation validity"),
    ):
        mids, errs = zip(*(_spread(summary[n][key]) for n in names), strict=True)
        quality_ax.bar(
            [i + offset for i in range(len(names))],
            mids,
            width,
            yerr=list(zip(*errs, strict=True)),
            capsize=3,
            label=label,
        )
    quality_ax.set_xticks(range(len(names)), labels=names)
    quality_ax.set(ylim=(0, 1.05), title=f"Quality on {report['questions']} development questions")
    quality_ax.legend(fontsize=8)
    for offset, key in ((-width / 2, "p50_ms"), (width / 2, "p95_ms")):
        mids, errs = zip(*(_spread(summary[n][key]) for n in names), strict=True)
        latency_ax.bar(
            [i + offset for i in range(len(names))],
            mids,
            width,
            yerr=list(zip(*errs, strict=True)),
            capsize=3,
            label=key[:3],
        )
    latency_ax.set_xticks(range(len(names)), labels=names)
    latency_ax.set(ylabel="ms per question (in-process, cold)", title="Latency")
    latency_ax.legend(fontsize=8)
    for ax in (quality_ax, latency_ax):
        ax.grid(True, axis="y", alpha=0.3)
    fig.suptitle("applybot against simple baselines, one run (median of passes; bars: min-max)", fontsize=10)
    _save(fig, out)


def scale_plot(report: dict[str, Any], out: Path) -> None:
    """Query p95, build throughput and memory against the size of the knowledge base."""
    sizes = [s for s in report["sizes"] if s.get("complete") and s.get("latency")]
    if not sizes:
        print("skipped: no complete size in the retrieval report")
        return
    xs = [s["size"] for s in sizes]
    fig, (latency_ax, build_ax, memory_ax) = plt.subplots(1, 3, figsize=(13, 3.8))
    for mode in ("hybrid", "dense", "lexical"):
        mids, errs = zip(*(_spread(s["latency"][mode]["p95_ms"]) for s in sizes), strict=True)
        latency_ax.errorbar(xs, mids, yerr=list(zip(*errs, strict=True)), marker="o", capsize=3, label=mode)
    latency_ax.axhline(60, color="grey", linestyle="--", linewidth=1, label="target 60 ms at 100k")
    latency_ax.set(
        xscale="log", yscale="log", xlabel="chunks", ylabel="query p95, ms", title="Search latency"
    )
    latency_ax.legend(fontsize=8)
    build_ax.plot(xs, [s["build_chunks_per_s"] for s in sizes], marker="o")
    build_ax.set(
        xscale="log", xlabel="chunks", ylabel="chunks per second", title="Index build (vectors reused)"
    )
    memory_ax.plot(
        xs, [s["memory_after_build"]["rss_mb"] for s in sizes], marker="o", label="RSS after build"
    )
    memory_ax.plot(xs, [s["disk_mb"]["total"] for s in sizes], marker="s", label="on disk")
    memory_ax.set(xscale="log", yscale="log", xlabel="chunks", ylabel="MB", title="Memory and disk")
    memory_ax.legend(fontsize=8)
    for ax in (latency_ax, build_ax, memory_ax):
        ax.grid(True, which="both", alpha=0.3)
    _save(fig, out)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    plots = args.docs / "plots"
    plots.mkdir(parents=True, exist_ok=True)

    http = {
        label: report
        for label, name in (
            ("seen questions", "bench_http.json"),
            ("unseen questions", "bench_http_unseen.json"),
            ("conversations (httpx)", "bench_http_httpx.json"),
        )
        if (report := _load(args.docs / name)) is not None
    }
    if http:
        target = next(iter(http.values()))["targets"]["answers_per_s_at_concurrency_32"]
        http_plots(http, target, plots / "http.png")
    if (report := http.get("seen questions")) is not None:
        cpu_plot(report, plots / "http_cpu.png")
    if (report := _load(args.docs / "bench_baselines.json")) is not None:
        baselines_plot(report, plots / "baselines.png")
    if (report := _load(args.docs / "bench_retrieval.json")) is not None:
        scale_plot(report, plots / "scale.png")


if __name__ == "__main__":
    main()
