"""What a benchmark measured: the commit, and uncommitted changes to the code it runs."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def git_info() -> dict[str, Any]:
    """The commit measured, and uncommitted changes under retrieval/ and bot/."""

    def run(*cmd: str) -> str:
        return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()

    dirty = run("git", "status", "--porcelain", "--", "retrieval", "bot").splitlines()
    return {"commit": run("git", "rev-parse", "--short", "HEAD"), "uncommitted": [d[3:] for d in dirty]}
