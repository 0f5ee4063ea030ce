"""The Telegram channel: a python-telegram-bot `Application` over the conversation service.

`build_application(config, conversation)` builds the bot once; its handlers are thin (parse, call
the conversation service, format). Two ways to run it:

- long polling: `run_polling(config, conversation)` (blocking; `applybot telegram`);
- webhook, inside the API process: `webhook_application(...)` starts the bot in the API's lifespan
  and calls `setWebhook`; the route `POST /telegram/webhook` hands each body to
  `handle_webhook_update(...)`, which checks Telegram's secret header and queues the update.

Every text the bot sends is HTML with every piece of text escaped; long messages are split on line
breaks, never inside a tag or an entity. A handoff opens a thread in the database and posts it to
the staff chat; a listed staff member's reply there goes to the applicant (or to the web widget, for a
thread opened there), replies typed on /staff reach the applicant, and the applicant's messages go
to the thread until either side presses 「结束人工」.

The modules: `config` (settings, limits), `formatting` (HTML, splitting, keyboards, the bot's words),
`ratelimit`, `base` ← `handoff_relay` ← `commands` ← `bot` (the `TelegramBot` handlers, in layers),
`reminders` (deadline reminders), `runner` (build and run) and `webhook` (the route).
"""

from handlers.telegram.bot import TelegramBot
from handlers.telegram.config import (
    ALLOWED_UPDATES,
    CHANNEL,
    MAX_MESSAGE_CHARS,
    SECRET_HEADER,
    TELEGRAM_BODY_BYTES,
    WEBHOOK_PATH,
    TelegramConfig,
    parse_chat_id,
    parse_user_ids,
)
from handlers.telegram.formatting import esc, format_answer, split_html, visible_text
from handlers.telegram.ratelimit import UserRateLimiter
from handlers.telegram.reminders import TelegramReminders
from handlers.telegram.runner import (
    bot_of,
    build_application,
    handle_webhook_update,
    run_polling,
    run_polling_from_settings,
    start_webhook,
    stop_webhook,
    webhook_application,
)

__all__ = [
    "ALLOWED_UPDATES",
    "CHANNEL",
    "MAX_MESSAGE_CHARS",
    "SECRET_HEADER",
    "TELEGRAM_BODY_BYTES",
    "WEBHOOK_PATH",
    "TelegramBot",
    "TelegramConfig",
    "TelegramReminders",
    "UserRateLimiter",
    "bot_of",
    "build_application",
    "esc",
    "format_answer",
    "handle_webhook_update",
    "parse_chat_id",
    "parse_user_ids",
    "run_polling_from_settings",
    "run_polling",
    "split_html",
    "start_webhook",
    "stop_webhook",
    "visible_text",
    "webhook_application",
]
