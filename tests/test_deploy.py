"""The deployment files agree with the code: docker-compose.yml and .env.example, and what they rely
on in the Dockerfile (the port it exposes, the settings it names); test_deploy_image.py checks the image.

No Docker engine is needed: the compose file is read with PyYAML and its `${VAR}` references are
resolved the way Compose does, the Dockerfile is read as text. A renamed setting, a service that
loses its healthcheck, a Chroma server that drifts from the client's pin, all fail here.
"""

from __future__ import annotations

import os
import re
import subprocess
from typing import Any

import pytest
import yaml

from common.settings import Settings
from tests.support.docker_files import (
    COMPOSE,
    DOCKERFILE,
    ENV_EXAMPLE,
    REFERENCE,
    MissingVariable,
    dockerfile_instructions,
    interpolate,
)
from tests.support.paths import ROOT

pytestmark = pytest.mark.unit

SERVICES = {"api", "telegram", "chroma", "postgres"}
SETTING_NAMES = {f"APPLYBOT_{name.upper()}" for name in Settings.model_fields}
APPLYBOT_NAME = re.compile(r"\bAPPLYBOT_[A-Z0-9_]+\b")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return dict(compose["services"])


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f".env.example: not KEY=VALUE: {line!r}"
            values[key.strip()] = value.strip()
    return values


def resolved(service: dict[str, Any], **env: str) -> dict[str, Any]:
    return dict(interpolate(service, {"POSTGRES_PASSWORD": "secret-pw", **env}))


def environment(service: dict[str, Any], **env: str) -> dict[str, str]:
    values = resolved(service, **env).get("environment") or {}
    if isinstance(values, list):
        values = dict(item.split("=", 1) for item in values)
    return {k: str(v) for k, v in values.items()}


# -- compose: services and their wiring --------------------------------------------------------------


def test_the_four_services_exist_and_only_the_bot_is_optional(services: dict[str, Any]) -> None:
    assert set(services) == SERVICES
    assert services["telegram"].get("profiles") == ["telegram"]
    assert all(not services[name].get("profiles") for name in SERVICES - {"telegram"})
    assert services["chroma"]["image"].startswith("chromadb/chroma:")
    assert services["postgres"]["image"] == "postgres:16"
    assert "build" in services["api"] and "build" in services["telegram"]
    assert services["api"]["image"] == services["telegram"]["image"]  # one image, built once


def test_only_the_api_publishes_a_port_and_it_is_the_one_served(
    services: dict[str, Any], env_example: dict[str, str]
) -> None:
    api = resolved(services["api"])
    assert api["ports"] == ["8000:8000"]
    assert resolved(services["api"], HTTP_PORT="9090")["ports"] == ["9090:8000"]
    exposed = [args for instruction, args in dockerfile_instructions() if instruction == "EXPOSE"]
    assert exposed == ["8000"]
    for name in SERVICES - {"api"}:
        assert not services[name].get("ports"), f"{name} must not be reachable from outside"


def test_data_lives_in_named_volumes(compose: dict[str, Any], services: dict[str, Any]) -> None:
    declared = set(compose["volumes"])

    def mounts(name: str) -> dict[str, str]:
        out = {}
        for item in services[name].get("volumes", []):
            source, target = item.split(":")[:2]
            assert source in declared, f"{name}: {source} is not a named volume"
            out[target] = source
        return out

    api_env = environment(services["api"])
    api = mounts("api")
    assert api[api_env["APPLYBOT_DATA_DIR"]] and api[api_env["APPLYBOT_KNOWLEDGE_DIR"]]
    assert mounts("telegram") == api  # the bot reads the knowledge base the API ingested
    assert mounts("chroma") == {"/data": "chroma-data"}
    assert mounts("postgres") == {"/var/lib/postgresql/data": "postgres-data"}
    assert declared == {*api.values(), "chroma-data", "postgres-data"}


def test_every_dependency_waits_for_a_healthcheck(services: dict[str, Any]) -> None:
    def test_text(name: str) -> str:
        check = services[name]["healthcheck"]
        assert not check.get("disable")
        return " ".join(check["test"]) if isinstance(check["test"], list) else str(check["test"])

    assert "/readyz" in test_text("api")
    assert "/api/v2/heartbeat" in test_text("chroma")
    assert "pg_isready" in test_text("postgres")
    for name, service in services.items():
        depends = service.get("depends_on") or {}
        assert isinstance(depends, dict), f"{name}: depends_on needs conditions"
        for target, condition in depends.items():
            assert condition == {"condition": "service_healthy"}, (name, target)
            assert "healthcheck" in services[target], target
    assert set(services["api"]["depends_on"]) == {"postgres", "chroma"}
    assert set(services["telegram"]["depends_on"]) == {"api", "postgres", "chroma"}


def test_the_api_healthcheck_is_valid_python_against_the_served_port(services: dict[str, Any]) -> None:
    command = services["api"]["healthcheck"]["test"]
    assert command[:3] == ["CMD", "python", "-c"]
    compile(command[3], "healthcheck", "exec")
    assert "127.0.0.1:8000/readyz" in command[3]


def test_the_api_runs_several_workers_over_postgres_and_the_chroma_server(services: dict[str, Any]) -> None:
    env = environment(services["api"])
    assert env["APPLYBOT_WORKERS"] == "4"
    assert env["APPLYBOT_DATABASE_URL"] == "postgresql://applybot:secret-pw@postgres:5432/applybot"
    postgres = environment(services["postgres"])
    assert (postgres["POSTGRES_USER"], postgres["POSTGRES_DB"]) == ("applybot", "applybot")
    assert postgres["POSTGRES_PASSWORD"] == "secret-pw"
    assert env["APPLYBOT_CHROMA_URL"] == "http://chroma:8000"
    assert environment(services["telegram"])["APPLYBOT_DATABASE_URL"] == env["APPLYBOT_DATABASE_URL"]
    assert environment(services["telegram"])["APPLYBOT_CHROMA_URL"] == env["APPLYBOT_CHROMA_URL"]


def test_the_environment_of_each_service_is_valid_settings(
    services: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("api", "telegram"):
        for key in [k for k in os.environ if k.startswith("APPLYBOT_")]:
            monkeypatch.delenv(key)
        for key, value in environment(services[name], APPLYBOT_TELEGRAM_TOKEN="123:abc").items():
            monkeypatch.setenv(key, value)
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        assert str(settings.data_dir) == "/data"
        assert settings.chroma_url == "http://chroma:8000"
        assert settings.workers == (4 if name == "api" else 1)


def test_postgres_password_is_required(services: dict[str, Any]) -> None:
    for name in ("api", "telegram", "postgres"):
        with pytest.raises(MissingVariable, match="POSTGRES_PASSWORD"):
            interpolate(services[name], {})
        with pytest.raises(MissingVariable, match="POSTGRES_PASSWORD"):
            interpolate(services[name], {"POSTGRES_PASSWORD": ""})


def test_the_bot_requires_its_token_when_it_runs_and_only_then(services: dict[str, Any]) -> None:
    # Compose interpolates every service before it applies profiles: a compose-level `:?` for the
    # token would stop `docker compose up` without the bot. Nothing but POSTGRES_PASSWORD is needed.
    for name in SERVICES:
        interpolate(services[name], {"POSTGRES_PASSWORD": "pw"})
    command = resolved(services["telegram"])["command"]
    assert command[:2] == ["sh", "-c"] and command[2].endswith("exec applybot telegram")
    script = command[2].replace("exec applybot telegram", "echo started")
    clean = {k: v for k, v in os.environ.items() if k != "APPLYBOT_TELEGRAM_TOKEN"}
    for token, ok in (("", False), ("123:abc", True)):
        run = subprocess.run(
            ["sh", "-c", script],
            env={**clean, "APPLYBOT_TELEGRAM_TOKEN": token},
            capture_output=True,
            text=True,
            timeout=10,
        )
        assert (run.returncode == 0) is ok, run.stderr
        assert ("started" in run.stdout) is ok
        if not ok:
            assert "APPLYBOT_TELEGRAM_TOKEN" in run.stderr and "BotFather" in run.stderr
    assert environment(services["telegram"], APPLYBOT_TELEGRAM_TOKEN="123:abc")["APPLYBOT_TELEGRAM_TOKEN"]


# -- settings named anywhere are real settings -------------------------------------------------------


def _applybot_names_in_compose(compose: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for service in compose["services"].values():
        env = service.get("environment") or {}
        keys = env if isinstance(env, dict) else [item.split("=", 1)[0] for item in env]
        names.update(k for k in keys if k.startswith("APPLYBOT_"))
    names.update(APPLYBOT_NAME.findall(COMPOSE.read_text(encoding="utf-8")))  # references, comments
    return names


def test_every_applybot_variable_named_in_the_deployment_is_a_setting(
    compose: dict[str, Any], env_example: dict[str, str]
) -> None:
    in_compose = _applybot_names_in_compose(compose)
    in_env = {k for k in env_example if k.startswith("APPLYBOT_")}
    in_dockerfile = set(APPLYBOT_NAME.findall(DOCKERFILE.read_text(encoding="utf-8")))
    assert in_compose and in_env and in_dockerfile
    for where, names in (
        ("docker-compose.yml", in_compose),
        (".env.example", in_env),
        ("Dockerfile", in_dockerfile),
    ):
        unknown = sorted(names - SETTING_NAMES)
        assert not unknown, f"{where} names settings that common.settings.Settings does not have: {unknown}"


def test_the_check_fails_when_a_setting_is_renamed(compose: dict[str, Any]) -> None:
    renamed = SETTING_NAMES - {"APPLYBOT_WORKERS"} | {"APPLYBOT_WORKER_PROCESSES"}
    assert _applybot_names_in_compose(compose) - renamed == {"APPLYBOT_WORKERS"}


def test_every_variable_compose_reads_is_in_env_example(env_example: dict[str, str]) -> None:
    referenced = {m.group(1) for m in REFERENCE.finditer(COMPOSE.read_text(encoding="utf-8"))}
    assert referenced, "no ${VAR} references found"
    missing = sorted(referenced - set(env_example))
    assert not missing, f".env.example does not document {missing}"


def test_env_example_holds_no_secret(env_example: dict[str, str]) -> None:
    for key in ("POSTGRES_PASSWORD", "APPLYBOT_TELEGRAM_TOKEN", "APPLYBOT_TELEGRAM_WEBHOOK_SECRET"):
        assert env_example.get(key, "") == "", f"{key} must be left empty in .env.example"
    defaults = {name: field.default for name, field in Settings.model_fields.items()}
    for key, value in env_example.items():
        if key.startswith("APPLYBOT_") and value and key != "APPLYBOT_WORKERS":
            # Values given are the settings' own defaults: copying the file changes nothing by surprise.
            assert str(defaults[key[len("APPLYBOT_") :].lower()]) == value, key


def test_the_chroma_server_matches_the_client_pin(services: dict[str, Any]) -> None:
    pin = re.search(r"^chromadb==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M)
    assert pin and services["chroma"]["image"] == f"chromadb/chroma:{pin.group(1)}"
