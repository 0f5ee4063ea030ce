"""Where things are: the repository, the shipped knowledge and its seed notice, the test data."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KNOWLEDGE = ROOT / "knowledge"
DATA = ROOT / "tests" / "data"
SEED = next(KNOWLEDGE.glob("*.md"))
