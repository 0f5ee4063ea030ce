"""The `applybot` command line: one subcommand per job (ingest, inspect, search, ask, chat, eval, serve)."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from common.settings import Settings, get_settings

app = typer.Typer(
    help="applybot: answers applicants' questions about calls for applications.", no_args_is_help=True
)


def _print_json(data: object) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


@app.callback()
def _configure(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug messages.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@app.command()
def ingest(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files or directories; default: the knowledge dir.")
    ] = None,
    prune: Annotated[bool, typer.Option(help="Drop documents whose files are gone.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Parse notices into the knowledge base and update the search index."""
    from bot.services import ingest_and_index
    from bot.store import open_store

    settings = get_settings()
    targets = paths or [settings.knowledge_dir]
    store = open_store(settings)
    try:
        report, index_stats = ingest_and_index(
            settings, targets, prune=prune, show_progress=not json_output, store=store
        )
    finally:
        store.close()
    summary = {
        "documents": report.documents,
        "sections": report.sections,
        "chunks": report.chunks,
        "tables": report.tables,
        "records": report.records,
        "added": report.added,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "removed": report.removed,
        "warnings": [{"file": f, "message": m} for f, m in report.warnings],
        "errors": [{"file": f, "message": m} for f, m in report.errors],
        "index": index_stats,
    }
    if json_output:
        _print_json(summary)
    else:
        typer.echo(
            f"documents {report.documents} · sections {report.sections} · chunks {report.chunks} · "
            f"tables {report.tables} · records {report.records} · warnings {len(report.warnings)} · "
            f"errors {len(report.errors)}"
        )
        typer.echo(
            f"added {len(report.added)} · updated {len(report.updated)} · unchanged {len(report.unchanged)} · "
            f"removed {len(report.removed)}"
        )
        for file, message in report.warnings:
            typer.echo(f"warning: {file}: {message}")
        for _, message in report.errors:
            typer.echo(f"error: {message}", err=True)
    if report.errors and not (report.documents or report.unchanged):
        raise typer.Exit(1)


@app.command()
def inspect(
    paths: Annotated[list[Path], typer.Argument(help="Notice files or folders to parse (not stored).")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print what applybot understands of notices: metadata, sections, tables, records, facts, and
    the relations between them (which one amends, postpones or continues another)."""
    from bot.in_force import InForce
    from common.errors import IngestError
    from retrieval.describe import describe_document
    from retrieval.ingest import discover
    from retrieval.loaders import load_file
    from retrieval.parse import parse_document
    from retrieval.relations import find_relations

    docs = []
    for path in discover(paths):
        try:
            docs.append(parse_document(load_file(path), rel_path=path.name))
        except IngestError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from exc
    relations = find_relations(docs)
    in_force = InForce({d.doc_id: d for d in docs}, relations)
    if json_output:
        described = [{**describe_document(d), "status": in_force.status(d.doc_id)} for d in docs]
        _print_json({"documents": described, "relations": [r.to_dict() for r in relations]})
        return
    for doc in docs:
        if len(docs) > 1:
            typer.echo(f"\n=== {doc.path}  ({in_force.status(doc.doc_id)})")
        _print_document(doc, describe_document(doc))
    titles = {d.doc_id: d.title for d in docs}
    if relations:
        typer.echo("\nrelations:")
    for relation in relations:
        typer.echo(
            f"  {titles[relation.source]} —{relation.kind}→ {titles[relation.target]}"
            f"  (by {relation.via}: {relation.evidence[:40]})"
        )
        for change in relation.changes:
            old = change.old or "?"
            typer.echo(f"    {change.kind}: {old} → {change.new}  「{change.subject}」")


def _print_document(doc: Any, described: dict[str, Any]) -> None:
    for part in described["parts"]:
        typer.echo(f"■ {part['title']}  [{part['kind']}]")
        for key in ("doc_number", "issuer", "date"):
            if part[key]:
                typer.echo(f"    {key}: {part[key]}")
        for item in part["attachments"]:
            typer.echo(f"    attachment: {item}")
        for contact in part["contacts"]:
            typer.echo(f"    contact: {_contact_line(contact)}")
    typer.echo("\nsections:")
    for section in doc.sections:
        indent = "  " * (len(section.path) - 1)
        typer.echo(f"  {indent}{section.title}")
    for table in doc.tables:
        typer.echo(f"\n{table.caption} ({table.section}): {' | '.join(table.headers)}")
    for record in described["records"]:
        typer.echo(f"\n  row {record['row']}: {record['task']}")
        for key in ("eligibility", "deadline", "materials", "method"):
            mark = " (inferred from the row above)" if key in record["inferred"] else ""
            typer.echo(f"    {key}: {record[key]}{mark}")
        for contact in record["contacts"]:
            mark = " (inferred)" if "contacts" in record["inferred"] else ""
            typer.echo(f"    contact: {_contact_line(contact)}{mark}")
    if described["facts"]:
        typer.echo("\nfacts:")
    for fact in described["facts"]:
        mark = " (inferred)" if fact["inferred"] else ""
        value = _fact_value(fact)
        typer.echo(f"  {fact['kind']:<9} {value}{mark}  「{fact['text'][:60]}」  {fact['section']}")
    typer.echo(f"\nentities: {len(described['entities'])}, chunks: {described['chunks']}")
    for warning in doc.warnings:
        typer.echo(f"warning: {warning}")


def _fact_value(fact: dict[str, Any]) -> str:
    """A fact's value in a few characters: the date or window, the amount, the place …"""
    value = fact["value"]
    if fact["kind"] in ("audience", "materials", "steps"):
        return "…"
    if isinstance(value, dict):
        if "start" in value:
            return f"{value['start']}—{value['end']}"
        return " ".join(str(value[k]) for k in ("date", "time") if value.get(k)) or str(value)
    return str(value)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[int, typer.Option("--k", help="How many passages.")] = 5,
    mode: Annotated[str, typer.Option(help="hybrid, dense or lexical.")] = "hybrid",
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the passages that best match a query, with their scores."""
    from bot.services import build_retrieval
    from common.errors import ApplybotError

    if mode not in ("hybrid", "dense", "lexical"):
        raise typer.BadParameter("mode must be hybrid, dense or lexical", param_hint="--mode")
    retrieval = build_retrieval(get_settings())
    try:
        result = retrieval.index.searcher.search(query, k=k, mode=mode)  # type: ignore[arg-type]
    except ApplybotError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    rows: list[dict[str, Any]] = [
        {
            "doc_id": h.entry.doc_id,
            "title": h.entry.title,
            "section": h.entry.section,
            "kind": h.entry.kind,
            "text": h.entry.text,
            "score": round(h.score, 6),
            "relevance": round(h.relevance, 4),
        }
        for h in result.hits
    ]
    if json_output:
        _print_json(rows)
        return
    if result.degraded:
        typer.echo("(vector index unavailable: lexical results only)")
    for i, row in enumerate(rows, start=1):
        typer.echo(
            f"{i}. [{row['kind']}] score {row['score']:.4f} relevance {row['relevance']:.2f}  {row['section']}"
        )
        typer.echo(f"   {row['text'][:200]}")


@app.command("eval-retrieval")
def eval_retrieval(
    file: Annotated[Path, typer.Argument(help="JSON Lines: {question, expect} per line.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Measure recall@1/3/5, MRR and latency of hybrid, dense and lexical search side by side."""
    from bot.evaluation import load_jsonl, run_retrieval_eval
    from bot.services import build_retrieval

    retrieval = build_retrieval(get_settings())
    report = run_retrieval_eval(retrieval.index.searcher, load_jsonl(file))
    if json_output:
        _print_json(report)
        return
    typer.echo(f"{report['n']} questions")
    typer.echo(f"{'mode':<8} {'R@1':>6} {'R@3':>6} {'R@5':>6} {'MRR':>6} {'p50 ms':>8} {'p95 ms':>8}")
    for mode, m in report["modes"].items():
        typer.echo(
            f"{mode:<8} {m['recall@1']:>6.3f} {m['recall@3']:>6.3f} {m['recall@5']:>6.3f} {m['mrr']:>6.3f} "
            f"{m['p50_ms']:>8.2f} {m['p95_ms']:>8.2f}"
        )


def _print_answer(answer: dict) -> None:  # type: ignore[type-arg]
    typer.echo(answer["answer"])
    for i, citation in enumerate(answer["citations"], start=1):
        typer.echo(f"  [{i}] {citation['title']} › {citation['section']}")
        typer.echo(f"      「{citation['quote'][:160]}」")
    if answer["escalated"]:
        typer.echo("  (escalated: logged for staff)")


def _assistant_with_store() -> Any:
    """The assistant with the database behind it: sessions survive between `ask` runs, escalations reach staff."""
    from bot.services import build_assistant
    from bot.store import open_store

    settings = get_settings()
    return build_assistant(settings, store=open_store(settings))


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, as an applicant would ask it.")],
    session: Annotated[str | None, typer.Option("--session", help="Session id for follow-ups.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the answer contract as JSON.")] = False,
) -> None:
    """Answer one question with citations."""
    from common.errors import ApplybotError

    assistant = _assistant_with_store()
    try:
        answer = assistant.ask(question, session_id=session).to_dict()
    except ApplybotError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if json_output:
        _print_json(answer)
    else:
        _print_answer(answer)


@app.command()
def chat() -> None:
    """Ask questions one after another; follow-ups ('那联系人呢？') refer to earlier turns."""
    import uuid

    from common.errors import ApplybotError

    assistant = _assistant_with_store()
    session = uuid.uuid4().hex
    typer.echo("applybot — ask about the notices (empty line or Ctrl-D to quit)")
    while True:
        try:
            question = input("? ")
        except (EOFError, KeyboardInterrupt):
            break
        if not question.strip():
            break
        try:
            _print_answer(assistant.ask(question, session_id=session).to_dict())
        except ApplybotError as exc:
            typer.echo(f"error: {exc}", err=True)


@app.command("eval")
def eval_answers(
    file: Annotated[Path, typer.Argument(help="JSON Lines question set (see README).")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    show_failures: Annotated[bool, typer.Option("--failures", help="List the failed questions.")] = False,
) -> None:
    """Measure answer accuracy, citation validity, escalation precision/recall and latency."""
    from bot.escalation import MemoryUnansweredLog
    from bot.evaluation import load_jsonl, run_answer_eval
    from bot.services import build_assistant

    assistant = build_assistant(get_settings())
    assistant.unanswered = MemoryUnansweredLog()  # an evaluation must not fill the staff queue
    report = run_answer_eval(assistant, load_jsonl(file))
    if json_output:
        _print_json(report)
        return
    typer.echo(
        f"{report['n']} questions · accuracy {report['accuracy']:.3f} · citations valid "
        f"{report['citation_validity']:.3f} · escalation P {report['escalation_precision']:.3f} "
        f"R {report['escalation_recall']:.3f} · p50 {report['p50_ms']:.1f} ms · p95 {report['p95_ms']:.1f} ms"
    )
    if show_failures:
        for failure in report["failures"]:
            typer.echo(f"- {failure['id']} {failure['question']}")
            typer.echo(
                f"    missing {failure['missing']} unwanted {failure['unwanted']} escalated {failure['escalated']}"
            )
            typer.echo("    " + failure["answer"].replace("\n", " / ")[:300])


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default APPLYBOT_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default APPLYBOT_PORT).")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default APPLYBOT_WORKERS).")] = None,
) -> None:
    """Serve the HTTP API, the web widget and its demo page."""
    from handlers.app import run_server

    settings = get_settings()
    overrides = {k: v for k, v in {"host": host, "port": port, "workers": workers}.items() if v is not None}
    run_server(settings.model_copy(update=overrides))


@app.command()
def telegram() -> None:
    """Run the Telegram bot: long polling, or the API server (serving the webhook) when a webhook URL is set."""
    from common.errors import ConfigurationError
    from handlers.app import run_server
    from handlers.telegram import TelegramConfig, run_polling_from_settings

    settings = get_settings()
    try:
        if not TelegramConfig.from_settings(settings).token:
            raise ConfigurationError("APPLYBOT_TELEGRAM_TOKEN is not set (get one from @BotFather)")
        if settings.telegram_webhook_url:
            run_server(settings)  # the API process serves the webhook and runs the bot
        else:
            run_polling_from_settings(settings)
    except ConfigurationError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _contact_line(contact: dict[str, str | None]) -> str:
    return " ".join(
        v for v in (contact["department"], contact["name"], contact["phone"], contact["email"]) if v
    )


def _add_staff_commands() -> None:
    from handlers.staff import staff_cli

    app.add_typer(staff_cli(get_settings), name="staff", help="Staff accounts and API tokens.")


_add_staff_commands()


def main() -> None:
    """Entry point of the `applybot` script."""
    app()


__all__ = ["app", "main", "Settings"]


if __name__ == "__main__":
    main()
