"""The `applybot` command line: one subcommand per job (ingest, inspect, search, ask, chat, eval, serve)."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from bot.settings import Settings, get_settings

app = typer.Typer(help="applybot: answers applicants' questions about calls for applications.", no_args_is_help=True)


def _print_json(data: object) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


@app.callback()
def _configure(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug messages.")] = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@app.command()
def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or directories; default: the knowledge dir.")] = None,
    prune: Annotated[bool, typer.Option(help="Drop documents whose files are gone.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Parse notices into the knowledge base and update the search index."""
    from bot.services import ingest_and_index

    settings = get_settings()
    targets = paths or [settings.knowledge_dir]
    report, index_stats = ingest_and_index(settings, targets, prune=prune, show_progress=not json_output)
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
        for file, message in report.errors:
            typer.echo(f"error: {message}", err=True)
    if report.errors and not (report.documents or report.unchanged):
        raise typer.Exit(1)


@app.command()
def inspect(
    path: Annotated[Path, typer.Argument(help="A notice file to parse (not stored).")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print what applybot understands of a notice: metadata, sections, tables, records, entities."""
    from bot.errors import IngestError
    from retrieval.describe import describe_document
    from retrieval.loaders import load_file
    from retrieval.parse import parse_document

    try:
        doc = parse_document(load_file(path), rel_path=path.name)
    except IngestError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    described = describe_document(doc)
    if json_output:
        _print_json({"documents": [described]})
        return
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
    typer.echo(f"\nentities: {len(described['entities'])}, chunks: {described['chunks']}")
    for warning in doc.warnings:
        typer.echo(f"warning: {warning}")


def _contact_line(contact: dict[str, str | None]) -> str:
    return " ".join(v for v in (contact["department"], contact["name"], contact["phone"], contact["email"]) if v)


def main() -> None:
    """Entry point of the `applybot` script."""
    app()


__all__ = ["app", "main", "Settings"]


if __name__ == "__main__":
    main()
