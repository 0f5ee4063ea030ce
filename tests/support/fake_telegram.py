"""A fake Telegram Bot API server at the wire, for tests: real HTTP on a loopback port.

It answers the Bot API methods applybot's bot uses (tests/support/telegram_methods.py), in the Bot
API's JSON format (`{"ok": true, "result": ...}` with Message objects that have message_id, chat, date,
from), and records every request. Like Telegram it refuses getUpdates while a webhook is set. Tests fill
the update queue with the builders (`message`, `callback`, …) and wait for what the bot sends with
`wait_for`; tests/support/telegram_harness.py runs the real bot against it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.telegram_methods import BotApiMethods
from tests.support.telegram_wire import BotApiError, decode_params, utf16_len

TOKEN = "123456789:TEST-token_for-the-fake"
LONG_POLL_CAP_S = 1.0  # getUpdates never holds a request longer than this


class FakeTelegram(BotApiMethods):
    """The fake server and its state; use `with fake_telegram() as tg:`."""

    def __init__(self, token: str = TOKEN) -> None:
        super().__init__()
        self.token = token
        self.requests: list[dict[str, Any]] = []
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._failures: list[tuple[str, Callable[[dict[str, Any]], bool], int, str]] = []
        self._cond = threading.Condition()
        self._generation = 0  # bumped by release_polls()
        self._server: ThreadingHTTPServer | None = None
        self.port = 0

    # -- serving ------------------------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """What to give TelegramConfig.api_url: the token is appended after /bot, as with Telegram."""
        return f"http://127.0.0.1:{self.port}/bot"

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                fake._serve(self)

            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                fake._serve(self)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            with self._cond:
                self._cond.notify_all()
            self._server.shutdown()
            self._server.server_close()

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        path = handler.path.split("?", 1)[0]
        prefix = f"/bot{self.token}/"
        status, payload = 200, None
        if not path.startswith(prefix):
            status, payload = 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            method, params = path.rsplit("/", 1)[-1], {}
        else:
            method = path[len(prefix) :]
            params = decode_params(raw, handler.headers.get("Content-Type", ""), handler.path)
            try:
                result = self._call(method, params)
                payload = {"ok": True, "result": result}
            except BotApiError as exc:
                status = exc.code
                payload = {"ok": False, "error_code": exc.code, "description": exc.description}
        data = json.dumps(payload, ensure_ascii=False).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away (a long poll cut short at shutdown)

    def _call(self, method: str, params: dict[str, Any]) -> Any:
        name = method.lower()
        if name == "getupdates":
            return self._get_updates(params)
        entry: dict[str, Any] = {"method": method, "params": params, "at": time.monotonic()}
        try:
            with self._cond:
                for i, (fail_method, where, code, description) in enumerate(self._failures):
                    if fail_method.lower() == name and where(params):
                        del self._failures[i]
                        raise BotApiError(code, description)
                handler = getattr(self, f"_m_{name}", None)
                if handler is None:
                    raise BotApiError(404, "Not Found")
                result = handler(params)
            entry["result"] = result
            return result
        except BotApiError as exc:
            entry["error"] = exc.description
            raise
        finally:
            with self._cond:
                self.requests.append(entry)
                self._cond.notify_all()

    # -- getUpdates: the update queue, long-polled ----------------------------------------------------

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = min(float(params.get("timeout") or 0), LONG_POLL_CAP_S)
        deadline = time.monotonic() + timeout
        with self._cond:
            generation = self._generation
            if self.webhook["url"]:
                raise BotApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
                )
            while True:
                if offset:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                ready = self._updates[:limit]
                left = deadline - time.monotonic()
                if ready or left <= 0 or generation != self._generation:
                    return ready
                self._cond.wait(left)

    # -- the test's side: updates ---------------------------------------------------------------------

    def release_polls(self) -> None:
        """End the long polls now waiting (so a stopping updater need not wait out the timeout)."""
        with self._cond:
            self._generation += 1
            self._cond.notify_all()

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates (an update_id is given when missing)."""
        with self._cond:
            update.setdefault("update_id", next(self._update_ids))
            self._updates.append(update)
            self._cond.notify_all()
        return update

    def update(self, **payload: Any) -> dict[str, Any]:
        """An update with its id, not queued (for the webhook)."""
        with self._cond:
            return {"update_id": next(self._update_ids), **payload}

    def message(
        self,
        chat_id: int,
        user: dict[str, Any],
        text: str | None = None,
        *,
        reply_to: dict[str, Any] | None = None,
        entities: list[dict[str, Any]] | None = None,
        **content: Any,
    ) -> dict[str, Any]:
        """A message a user sends (text, or content such as photo=[…], sticker={…})."""
        if text is not None:
            content["text"] = text
            if entities is None and text.startswith("/"):
                entities = [{"type": "bot_command", "offset": 0, "length": utf16_len(text.split()[0])}]
            if entities:
                content["entities"] = entities
        with self._cond:
            message = self._new_message(chat_id, user, **content)
            if reply_to is not None:
                message["reply_to_message"] = {k: v for k, v in reply_to.items() if k != "reply_to_message"}
        return dict(message)

    def edit(self, message: dict[str, Any], text: str) -> dict[str, Any]:
        """The same message with new text, as an edited_message carries it."""
        with self._cond:
            stored = self.messages[(message["chat"]["id"], message["message_id"])]
            stored.update(text=text, edit_date=int(time.time()))
            return dict(stored)

    def callback(self, user: dict[str, Any], message: dict[str, Any], data: str) -> dict[str, Any]:
        """A CallbackQuery: `user` pressed a button with `data` under the bot's `message`."""
        return {
            "id": str(next(self._callback_ids)),
            "from": user,
            "message": message,
            "chat_instance": f"ci-{message['chat']['id']}",
            "data": data,
        }

    def fail_next(
        self,
        method: str,
        description: str,
        *,
        code: int = 400,
        where: Callable[[dict[str, Any]], bool] = lambda params: True,
    ) -> None:
        """Make the next matching call of `method` fail as Telegram would."""
        with self._cond:
            self._failures.append((method, where, code, description))

    # -- the test's side: what the bot did ------------------------------------------------------------

    def calls(
        self, method: str | None = None, *, chat_id: int | None = None, since: int = 0
    ) -> list[dict[str, Any]]:
        with self._cond:
            found = self.requests[since:]
        return [
            r
            for r in found
            if (method is None or r["method"].lower() == method.lower())
            and (chat_id is None or r["params"].get("chat_id") == chat_id)
        ]

    def mark(self) -> int:
        """A position in the request log, for `since=`."""
        with self._cond:
            return len(self.requests)

    def _matching(
        self,
        method: str,
        chat_id: int | None,
        since: int,
        where: Callable[[dict[str, Any]], bool] | None,
    ) -> list[dict[str, Any]]:
        return [r for r in self.calls(method, chat_id=chat_id, since=since) if where is None or where(r)]

    async def wait_for(
        self,
        method: str,
        *,
        chat_id: int | None = None,
        since: int = 0,
        where: Callable[[dict[str, Any]], bool] | None = None,
        count: int = 1,
        timeout: float = 20.0,
    ) -> list[dict[str, Any]]:
        """Wait (without blocking the event loop) until the bot made `count` matching calls."""
        deadline = time.monotonic() + timeout
        while True:
            found = self._matching(method, chat_id, since, where)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(self._timeout_message(method, chat_id, since, count, found))
            await asyncio.sleep(0.02)

    def wait_for_sync(
        self,
        method: str,
        *,
        chat_id: int | None = None,
        since: int = 0,
        where: Callable[[dict[str, Any]], bool] | None = None,
        count: int = 1,
        timeout: float = 20.0,
    ) -> list[dict[str, Any]]:
        """`wait_for` for a test thread that runs no event loop."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = self._matching(method, chat_id, since, where)  # the lock is re-entrant
                left = deadline - time.monotonic()
                if len(found) >= count:
                    return found
                if left <= 0:
                    raise AssertionError(self._timeout_message(method, chat_id, since, count, found))
                self._cond.wait(min(left, 0.1))

    def _timeout_message(
        self, method: str, chat_id: int | None, since: int, count: int, found: list[dict[str, Any]]
    ) -> str:
        seen = [(r["method"], r["params"].get("chat_id"), r.get("error")) for r in self.requests[since:]]
        return f"waited for {count} × {method} to {chat_id}, found {len(found)}; calls since: {seen}"


@contextmanager
def fake_telegram(token: str = TOKEN) -> Iterator[FakeTelegram]:
    fake = FakeTelegram(token)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
