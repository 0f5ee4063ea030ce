"""The HTTP API and the embeddable web widget: thin routes over the one Assistant and the Journal.

`create_app(settings)` builds the FastAPI app; the assistant and the journal are built once in the
app's lifespan (or passed in, for tests) and kept on `app.state`. Every route parses its input,
calls one service and formats the output; errors leave as JSON `{"error": message}`.

The modules: `models` (requests and responses), `middleware` (metrics, nosniff, body limits), `limits`
(rate limits, session locks), `errors`, `sse`, `routes` and `app` (`create_app`, serving).
"""

from handlers.api.app import KEEP_ALIVE_S, app_from_env, create_app, run_server
from handlers.api.limits import RateLimitedError, RateLimiter, SessionLocks
from handlers.api.middleware import BodyLimitMiddleware, Metrics
from handlers.api.routes import STATIC_DIR, render_demo_page

__all__ = [
    "KEEP_ALIVE_S",
    "STATIC_DIR",
    "BodyLimitMiddleware",
    "Metrics",
    "RateLimitedError",
    "RateLimiter",
    "SessionLocks",
    "app_from_env",
    "create_app",
    "render_demo_page",
    "run_server",
]
