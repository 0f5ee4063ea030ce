"""Staff pages under /staff: the review queue, FAQ answers, notices, numbers, exports, and their JSON twins.

`staff_router(settings, ...)` returns an APIRouter to include in the API app. Pages are rendered on
the server with Jinja2 (autoescaped: every applicant- or staff-supplied string is escaped) and need
no JavaScript. Staff sign in with a name and an argon2-hashed password; the browser session is an
HttpOnly, SameSite=Lax cookie (Secure over HTTPS) whose token is stored hashed, and every form
carries the session's CSRF token. The JSON endpoints also accept `Authorization: Bearer <token>`
(tokens made by `applybot staff token NAME`, stored hashed, revocable). Login attempts are
rate-limited, and every staff action is written to the audit log.

The store, the assistant and the lock that serialises index changes with questions are taken from
the arguments, else from `request.app.state.store`, `.assistant` and `.ask_lock`.

The modules: `base` (plumbing, sign-in checks), `forms`, `auth` (sign in and out), `queue`, `faq`,
`knowledge`, `numbers`, `exports`, `api` (the JSON twins), `router` (`staff_router`) and `cli`.
"""

from handlers.staff.base import TEMPLATES_DIR, LoginLimiter, Refused, Staff
from handlers.staff.cli import add_user, issue_token, revoke_token, staff_cli
from handlers.staff.router import StaffPages, staff_router

__all__ = [
    "TEMPLATES_DIR",
    "LoginLimiter",
    "Refused",
    "Staff",
    "StaffPages",
    "add_user",
    "issue_token",
    "revoke_token",
    "staff_cli",
    "staff_router",
]
