"""The README stays true to the code: every setting is documented, the two commands are there."""

from __future__ import annotations

import pytest

from common.settings import Settings
from tests.support.paths import ROOT

pytestmark = pytest.mark.unit
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented_in_the_readme(name: str) -> None:
    assert f"APPLYBOT_{name.upper()}" in README


def test_the_readme_names_the_two_commands() -> None:
    assert "make run" in README and "make test" in README
