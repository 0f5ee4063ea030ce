"""Types every layer shares."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class Contact:
    """A person or office to call: parsed from a notice's contact cell or line, and given in answers."""

    name: str | None = None
    department: str | None = None
    phone: str | None = None
    email: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)
