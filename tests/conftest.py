"""Shared fixtures: knowledge bases built once per test session with the real model and real Chroma."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bot.assistant import Assistant  # noqa: E402
from bot.services import Retrieval, build_retrieval, ingest_and_index  # noqa: E402
from bot.store import Store  # noqa: E402
from common.settings import Settings  # noqa: E402
from tests.support.factories import make_assistant, make_settings  # noqa: E402
from tests.support.paths import SEED  # noqa: E402
from tests.support.servers import PgDatabase  # noqa: E402


@pytest.fixture(scope="session")
def embedding_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One on-disk embedding cache for the whole run, so each knowledge base embeds a passage once."""
    return tmp_path_factory.mktemp("embedding-cache")


@pytest.fixture(scope="session")
def build_kb(
    tmp_path_factory: pytest.TempPathFactory, embedding_cache: Path
) -> Callable[..., tuple[Settings, Retrieval]]:
    """Return a function that ingests a set of files into a fresh data dir and opens its indexes."""

    def build(files: list[Path], name: str) -> tuple[Settings, Retrieval]:
        knowledge = tmp_path_factory.mktemp(f"knowledge-{name}")
        for file in files:
            shutil.copy(file, knowledge / file.name)
        data_dir = tmp_path_factory.mktemp(f"data-{name}")
        (data_dir / "cache").mkdir()
        cache = embedding_cache / "embeddings.sqlite"
        if cache.exists():
            shutil.copy(cache, data_dir / "cache" / "embeddings.sqlite")
        settings = make_settings(data_dir, knowledge)
        retrieval = build_retrieval(settings)
        ingest_and_index(settings, [knowledge], retrieval=retrieval)
        shutil.copy(data_dir / "cache" / "embeddings.sqlite", cache)
        return settings, retrieval

    return build


@pytest.fixture(scope="session")
def seed_kb(build_kb: Callable[..., tuple[Settings, Retrieval]]) -> tuple[Settings, Retrieval]:
    return build_kb([SEED], "seed")


@pytest.fixture(scope="session")
def seed_retrieval(seed_kb: tuple[Settings, Retrieval]) -> Retrieval:
    return seed_kb[1]


@pytest.fixture()
def assistant(seed_retrieval: Retrieval) -> Assistant:
    """A fresh assistant (own sessions and unanswered log) over the shared seed knowledge base."""
    return make_assistant(seed_retrieval)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Store]]:
    """A function opening Store objects (several 'workers' may share one database) on each backend."""
    opened: list[Store] = []
    pg = PgDatabase() if request.param == "postgresql" else None
    url = pg.url if pg else f"sqlite:///{tmp_path / 'db' / 'applybot.sqlite3'}"

    def open_one(**kwargs: Any) -> Store:
        store = Store(url, data_dir=kwargs.pop("data_dir", tmp_path / "data"), **kwargs)
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        store.close()
    if pg is not None:
        pg.drop()
