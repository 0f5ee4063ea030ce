"""The HTTP API and the embeddable web widget: thin routes over the conversation service.

`handlers.app.create_app(settings)` assembles the app and keeps the service on `app.state`. Every
route parses its input, makes one call and formats the output; errors leave as JSON `{"error": …}`.

The modules: `models` (requests and responses), `middleware` (metrics, nosniff, body limits), `limits`
(rate limits), `errors`, `sse`, `routes` (ask, feedback, deadlines, health, widget) and `handoffs`
(the applicant's side of a thread with staff: request, read, write, close, live events).
"""

from handlers.api.limits import RateLimitedError, RateLimiter
from handlers.api.middleware import BodyLimitMiddleware, Metrics
from handlers.api.routes import STATIC_DIR, render_demo_page

__all__ = [
    "STATIC_DIR",
    "BodyLimitMiddleware",
    "Metrics",
    "RateLimitedError",
    "RateLimiter",
    "render_demo_page",
]
