"""The knowledge pages: the notices and the relations between them, uploading a notice (a preview
first, then publishing), confirming or rejecting relations, retiring notices, comparing two."""

from __future__ import annotations

import re
import secrets
import shutil
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from bot.faq import sync_faq
from bot.in_force import RETIRED
from handlers.staff.base import COOKIE_PATH, RELATION_LABELS, Refused, StaffBase
from handlers.staff.forms import _text

UPLOAD_FORMATS = {".pdf", ".docx", ".html", ".htm", ".md", ".markdown", ".txt"}
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
_COMPARED_KINDS = ("date", "place", "money", "limit", "contact", "url", "system", "audience")


class KnowledgePages(StaffBase):
    """The knowledge page and its forms."""

    def _documents(self, request: Request) -> list[dict[str, Any]]:
        assistant = self.assistant(request)
        docs = assistant.index.store.documents()
        in_force = assistant.view.in_force
        retired: set[str] = getattr(assistant, "retired", set())
        return [
            {
                "doc_id": d.doc_id,
                "title": d.title,
                "path": d.path,
                "format": d.format,
                "records": len(d.records),
                "chunks": len(d.chunks),
                "warnings": len(d.warnings),
                "status": RETIRED if d.doc_id in retired else in_force.status(d.doc_id),
            }
            for d in docs
        ]

    def _relations(self, request: Request) -> list[dict[str, Any]]:
        """The relations in force (found and staff-added), then those staff rejected, for review."""
        assistant = self.assistant(request)
        titles = {d.doc_id: d.title for d in assistant.index.store.documents()}
        shown = [{**_relation_view(r, titles), "rejected": False} for r in assistant.view.in_force.relations]
        decided = getattr(assistant, "decided", None)
        for source, target in sorted(decided.rejected if decided else []):
            if source in titles and target in titles:
                view = {"source": source, "target": target, "kind": "", "via": "staff", "changes": []}
                view |= {"source_title": titles[source], "target_title": titles[target]}
                shown.append({**view, "confirmed": False, "rejected": True})
        return shown

    async def knowledge_page(self, request: Request) -> Response:
        return await self._knowledge(request)

    async def _knowledge(self, request: Request, *, error: str | None = None, status: int = 200) -> Response:
        staff = await self.who(request)
        documents = await run_in_threadpool(self._documents, request)
        return self.render(
            request,
            "knowledge.html",
            code=status,
            staff=staff,
            documents=documents,
            relations=await run_in_threadpool(self._relations, request),
            kinds=RELATION_LABELS,
            error=error,
            formats=", ".join(sorted(UPLOAD_FORMATS)),
            max_mb=self.max_upload_bytes // (1024 * 1024),
            published=request.query_params.get("published", ""),
        )

    @property
    def uploads_dir(self) -> Path:
        return Path(self.settings.data_dir) / "uploads"

    async def knowledge_upload(self, request: Request) -> Response:
        staff = await self.who(request)
        form = await self.form(request, max_part_size=64 * 1024)
        self.check_csrf(request, staff, _text(form, "csrf_token"))
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return await self._knowledge(request, error="请选择要上传的文件。", status=422)
        name = _safe_filename(upload.filename)
        if Path(name).suffix.lower() not in UPLOAD_FORMATS:
            return await self._knowledge(request, error=f"{name}：不支持的文件格式。", status=415)
        upload_id = secrets.token_hex(16)
        folder = self.uploads_dir / upload_id
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
        size = 0
        with target.open("wb") as fh:
            while chunk := await upload.read(1024 * 1024):
                size += len(chunk)
                if size > self.max_upload_bytes:
                    fh.close()
                    shutil.rmtree(folder, ignore_errors=True)
                    return await self._knowledge(
                        request,
                        error=f"{name}：超过 {self.max_upload_bytes // (1024 * 1024)} MB。",
                        status=413,
                    )
                fh.write(chunk)
        try:
            preview = await run_in_threadpool(
                _preview, target, self.assistant(request).index.store.documents()
            )
        except Exception as exc:
            shutil.rmtree(folder, ignore_errors=True)
            await self.audit(request, staff.name, "upload_rejected", name, error=str(exc)[:500])
            return await self._knowledge(request, error=f"{exc}", status=422)
        existing = (Path(self.settings.knowledge_dir) / name).exists()
        await self.audit(request, staff.name, "upload_preview", name, upload_id=upload_id, bytes=size)
        return self.render(
            request,
            "preview.html",
            staff=staff,
            doc=preview,
            filename=name,
            upload_id=upload_id,
            replaces=existing,
        )

    async def knowledge_publish(self, request: Request) -> Response:
        staff, form = await self.staff_form(request)
        upload_id = _text(form, "upload_id")
        if not _UPLOAD_ID.match(upload_id):
            raise Refused(404, "no such upload")
        folder = self.uploads_dir / upload_id
        files = [p for p in folder.iterdir() if p.is_file()] if folder.is_dir() else []
        if len(files) != 1:
            raise Refused(404, "this upload is gone; upload the file again")
        report = await run_in_threadpool(self._ingest, request, files[0])
        shutil.rmtree(folder, ignore_errors=True)
        await self.audit(request, staff.name, "publish_notice", files[0].name, **report)
        # The relations the preview showed: each one staff left ticked is confirmed, an unticked one rejected.
        known = {d.doc_id for d in self.assistant(request).index.store.documents()}
        for shown in form.getlist("relation"):
            source, _, target = str(shown).partition("|")
            if source in known and target in known and source != target:
                decision = "confirmed" if f"{source}|{target}" in form.getlist("keep") else "rejected"
                await run_in_threadpool(
                    self._decide, request, source=source, target=target, decision=decision, staff=staff.name
                )
                await self.audit(request, staff.name, f"relation_{decision}", f"{source}->{target}")
        return RedirectResponse(
            f"{COOKIE_PATH}/knowledge?{urlencode({'published': files[0].name})}", status_code=303
        )

    async def knowledge_relation(self, request: Request) -> Response:
        """Confirm, reject or add a relation between two notices (the answers follow at once)."""
        staff, form = await self.staff_form(request)
        source, target = _text(form, "source"), _text(form, "target")
        decision, kind = _text(form, "decision"), _text(form, "kind") or None
        known = {d.doc_id for d in self.assistant(request).index.store.documents()}
        if source not in known or target not in known or source == target:
            return await self._knowledge(request, error="请选择两份不同的通知。", status=422)
        if decision not in ("confirmed", "rejected", "added") or (
            decision == "added" and kind not in RELATION_LABELS
        ):
            return await self._knowledge(request, error="请选择关系类型。", status=422)
        await run_in_threadpool(
            self._decide,
            request,
            source=source,
            target=target,
            decision=decision,
            kind=kind,
            staff=staff.name,
        )
        await self.audit(request, staff.name, f"relation_{decision}", f"{source}->{target}", kind=kind)
        return RedirectResponse(f"{COOKIE_PATH}/knowledge#relations", status_code=303)

    async def knowledge_status(self, request: Request) -> Response:
        """Retire a notice (out of answers, kept in the knowledge base and the logs) or restore it."""
        staff, form = await self.staff_form(request)
        doc_id, action = _text(form, "doc_id"), _text(form, "action")
        if doc_id not in {d.doc_id for d in self.assistant(request).index.store.documents()}:
            raise Refused(404, "no such notice")
        if action not in ("retired", "restored"):
            raise Refused(422, "unknown action")
        await run_in_threadpool(self._decide, request, source=doc_id, decision=action, staff=staff.name)
        await self.audit(request, staff.name, f"notice_{action}", doc_id)
        return RedirectResponse(f"{COOKIE_PATH}/knowledge#doc-{doc_id}", status_code=303)

    def _decide(self, request: Request, **decision: Any) -> None:
        from bot.notice_review import NoticeDecisions

        NoticeDecisions(self.store(request).sessions).record(**decision)
        with self.lock(request):
            self.assistant(request).refresh()

    async def knowledge_compare(self, request: Request) -> Response:
        """Two notices' facts side by side (dates, places, amounts, limits, contacts …)."""
        staff = await self.who(request)
        docs = {d.doc_id: d for d in self.assistant(request).index.store.documents()}
        a, b = docs.get(request.query_params.get("a", "")), docs.get(request.query_params.get("b", ""))
        if a is None or b is None:
            raise Refused(404, "no such notice")
        return self.render(request, "compare.html", staff=staff, rows=_compare(a, b), a=a, b=b)

    def _ingest(self, request: Request, upload: Path) -> dict[str, Any]:
        """Save the notice into the knowledge directory, ingest and index it, and show it to the assistant."""
        from bot.services import Retrieval, ingest_and_index

        assistant, store = self.assistant(request), self.store(request)
        knowledge = Path(self.settings.knowledge_dir)
        knowledge.mkdir(parents=True, exist_ok=True)
        target = knowledge / upload.name
        tmp = knowledge / f".{upload.name}.{secrets.token_hex(4)}.part"
        shutil.copyfile(upload, tmp)
        tmp.replace(target)
        index = assistant.index
        retrieval = Retrieval(settings=self.settings, store=index.store, embedder=index.embedder, index=index)
        with self.lock(request):
            report, stats = ingest_and_index(self.settings, [target], retrieval=retrieval)
            # The plain sync above drops the FAQ's pseudo document: put the FAQ entries back.
            sync_faq(store, index, assistant)
        if report.errors:
            raise Refused(422, "; ".join(m for _, m in report.errors))
        return {
            "documents": report.documents,
            "records": report.records,
            "added": list(report.added),
            "updated": list(report.updated),
            "indexed": stats.get("documents_indexed", 0),
        }


def _safe_filename(name: str) -> str:
    """The file's base name with path separators, control characters and leading dots removed."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C")
    base = re.sub(r"[<>:\"|?*]", "_", base).strip().lstrip(".")
    stem, suffix = Path(base).stem[:120] or "notice", Path(base).suffix.lower()[:10]
    return f"{stem}{suffix}"


def _preview(path: Path, existing: list[Any] | None = None) -> dict[str, Any]:
    """What applybot understands of an uploaded notice, without storing it, and how it relates to the
    notices already published (an amendment of one, its next round …)."""
    from retrieval.describe import describe_document
    from retrieval.loaders import load_file
    from retrieval.parse import parse_document
    from retrieval.relations import find_relations

    doc = parse_document(load_file(path), rel_path=path.name)
    described = describe_document(doc)
    described["entity_counts"] = {}
    for entity in described["entities"]:
        described["entity_counts"][entity["kind"]] = described["entity_counts"].get(entity["kind"], 0) + 1
    others = [d for d in existing or [] if d.path != doc.path]
    titles = {d.doc_id: d.title for d in [*others, doc]}
    described["relations"] = [
        _relation_view(r, titles)
        for r in find_relations([*others, doc])
        if doc.doc_id in (r.source, r.target)
    ]
    return described


def _relation_view(relation: Any, titles: dict[str, str]) -> dict[str, Any]:
    return {
        "source": relation.source,
        "target": relation.target,
        "kind": relation.kind,
        "source_title": titles.get(relation.source, relation.source),
        "target_title": titles.get(relation.target, relation.target),
        "via": relation.via,
        "confirmed": relation.confirmed,
        "changes": [
            {"kind": c.kind, "old": c.old or "（未写明）", "new": c.new, "subject": c.subject}
            for c in relation.changes
        ],
    }


def _compare(a: Any, b: Any) -> list[dict[str, Any]]:
    """Rows of facts of each kind, the earlier notice's beside the later one's; differing rows marked."""
    rows = []
    for kind in _COMPARED_KINDS:
        left = [f.text.strip() for f in a.facts if f.kind == kind]
        right = [f.text.strip() for f in b.facts if f.kind == kind]
        left, right = list(dict.fromkeys(left)), list(dict.fromkeys(right))
        if left or right:
            rows.append({"kind": kind, "a": left, "b": right, "same": left == right})
    return rows
