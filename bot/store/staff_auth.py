"""Staff sign-in: users with argon2-hashed passwords, API bearer tokens and browser sessions.

Only SHA-256 digests of tokens and session cookies are kept, never the secrets themselves.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.store.core import StoreCore
from bot.store.schema import ApiToken, StaffSession, StaffUser, _iso, utcnow

TOKEN_PREFIX = "abt"
STAFF_SESSION_HOURS = 12


class StaffAuthMixin(StoreCore):
    """Staff users, API tokens and signed-in browser sessions."""

    def add_user(self, name: str, password: str) -> dict[str, Any]:
        """Create a staff user (or set the password of an existing one); the password is hashed with argon2."""
        name = name.strip()
        if not name or len(name) > 64:
            raise ValueError("a user name is 1 to 64 characters")
        if len(password) < 8:
            raise ValueError("a password is at least 8 characters")
        digest = _hasher().hash(password)
        with self.session() as session:
            user = session.scalar(select(StaffUser).where(StaffUser.name == name))
            if user is None:
                user = StaffUser(name=name, password_hash=digest, disabled=False, created_at=utcnow())
                session.add(user)
            else:
                user.password_hash, user.disabled = digest, False
            session.flush()
            return {"id": user.id, "name": user.name, "created_at": _iso(user.created_at)}

    def verify_user(self, name: str, password: str) -> str | None:
        """Return the user's name when the password is right, else None (in about the same time either way)."""
        from argon2.exceptions import InvalidHashError, VerificationError

        hasher = _hasher()
        with self.session() as session:
            user = session.scalar(select(StaffUser).where(StaffUser.name == name.strip()))
            if user is None or user.disabled:
                with contextlib.suppress(VerificationError, InvalidHashError):
                    hasher.verify(_dummy_hash(), password)
                return None
            try:
                hasher.verify(user.password_hash, password)
            except (VerificationError, InvalidHashError):
                return None
            if hasher.check_needs_rehash(user.password_hash):
                user.password_hash = hasher.hash(password)
            return user.name

    def issue_token(self, name: str, *, label: str | None = None) -> str:
        """Make an API token for a user; the token is shown once, only its SHA-256 is stored."""
        token_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        with self.session() as session:
            user = _existing_user(session, name)
            session.add(
                ApiToken(
                    token_id=token_id,
                    user_id=user.id,
                    token_hash=_sha256(secret),
                    label=label,
                    created_at=utcnow(),
                )
            )
        return f"{TOKEN_PREFIX}_{token_id}_{secret}"

    def verify_token(self, token: str) -> str | None:
        """Return the user name a live token belongs to, else None."""
        parts = token.strip().split("_", 2)
        if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
            return None
        _, token_id, secret = parts
        with self.session() as session:
            row = session.execute(
                select(ApiToken, StaffUser)
                .join(StaffUser, StaffUser.id == ApiToken.user_id)
                .where(ApiToken.token_id == token_id)
            ).first()
            if row is None:
                return None
            api_token, user = row
            if api_token.revoked_at is not None or user.disabled:
                return None
            if not hmac.compare_digest(api_token.token_hash, _sha256(secret)):
                return None
            api_token.last_used_at = utcnow()
            return user.name

    def revoke_token(self, token_or_id: str) -> bool:
        """Revoke a token, named by its id or given whole; True when a live token was revoked."""
        parts = token_or_id.strip().split("_", 2)
        token_id = parts[1] if len(parts) == 3 and parts[0] == TOKEN_PREFIX else token_or_id.strip()
        with self.session() as session:
            result = session.execute(
                update(ApiToken)
                .where(ApiToken.token_id == token_id, ApiToken.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
            return bool(getattr(result, "rowcount", 0))

    def start_staff_session(self, name: str, *, hours: float = STAFF_SESSION_HOURS) -> tuple[str, str]:
        """Sign a user in: returns (cookie token, CSRF token)."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = utcnow()
        with self.session() as session:
            user = _existing_user(session, name)
            session.add(
                StaffSession(
                    session_hash=_sha256(token),
                    user_id=user.id,
                    csrf_token=csrf,
                    created_at=now,
                    expires_at=now + timedelta(hours=hours),
                )
            )
        return token, csrf

    def staff_session(self, token: str) -> tuple[str, str] | None:
        """Return (user name, CSRF token) for a live browser session, else None."""
        if not token:
            return None
        with self.session() as session:
            row = session.execute(
                select(StaffSession, StaffUser)
                .join(StaffUser, StaffUser.id == StaffSession.user_id)
                .where(StaffSession.session_hash == _sha256(token))
            ).first()
            if row is None:
                return None
            staff_session, user = row
            if user.disabled or staff_session.expires_at <= utcnow():
                return None
            return user.name, staff_session.csrf_token

    def end_staff_session(self, token: str) -> None:
        with self.session() as session:
            row = session.scalar(select(StaffSession).where(StaffSession.session_hash == _sha256(token)))
            if row is not None:
                session.delete(row)
            # Forget expired sessions while here.
            for stale in session.scalars(select(StaffSession).where(StaffSession.expires_at <= utcnow())):
                session.delete(stale)


def _existing_user(session: Session, name: str) -> StaffUser:
    """The user of that name (KeyError when there is none), to hang a token or a session on."""
    user = session.scalar(select(StaffUser).where(StaffUser.name == name))
    if user is None:
        raise KeyError(name)
    return user


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


_HASHER: Any = None
_DUMMY: str | None = None


def _hasher() -> Any:
    global _HASHER
    if _HASHER is None:
        from argon2 import PasswordHasher

        _HASHER = PasswordHasher()
    return _HASHER


def _dummy_hash() -> str:
    global _DUMMY
    if _DUMMY is None:
        _DUMMY = _hasher().hash(secrets.token_hex(16))
    return _DUMMY
