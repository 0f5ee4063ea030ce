"""The audit log: one row per staff action, who did what to what."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from bot.store.core import StoreCore
from bot.store.schema import AuditEntry, _clip, _iso, utcnow


class AuditMixin(StoreCore):
    """Writing and reading the audit log."""

    def audit(self, actor: str, action: str, target: str | None = None, **detail: Any) -> None:
        with self.session() as session:
            session.add(
                AuditEntry(
                    at=utcnow(),
                    actor=actor[:64],
                    action=action[:64],
                    target=_clip(target, 255),
                    detail=json.loads(json.dumps(detail, ensure_ascii=False, default=str))
                    if detail
                    else None,
                )
            )

    def audit_entries(self, *, limit: int = 200, actor: str | None = None) -> list[dict[str, Any]]:
        with self.session() as session:
            query = select(AuditEntry)
            if actor:
                query = query.where(AuditEntry.actor == actor)
            rows = session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)).all()
            return [
                {
                    "at": _iso(r.at),
                    "actor": r.actor,
                    "action": r.action,
                    "target": r.target,
                    "detail": r.detail,
                }
                for r in rows
            ]
