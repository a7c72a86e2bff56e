"""Whose data a value is: the unit of envelope encryption and of crypto-shredding."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$")
SUBJECT_TYPES = frozenset({"customer", "applicant", "account", "contract", "application", "system", "config"})


@dataclass(frozen=True, order=True)
class Subject:
    """A data subject: ``customer``, ``applicant``, ``account``, ``contract`` ... and its id.

    Raises:
        ValueError: an unknown type or a malformed id (the id is not echoed: it may be sensitive).
    """

    type: str
    id: str

    def __post_init__(self) -> None:
        if self.type not in SUBJECT_TYPES:
            raise ValueError(f"subject type {self.type!r} unknown; known: {sorted(SUBJECT_TYPES)}")
        if not _PART.match(self.id):
            raise ValueError(f"subject id of type {self.type} is malformed")

    def __str__(self) -> str:
        return f"{self.type}/{self.id}"


# Records that concern no person (configuration changes, key rotations) are sealed under this subject.
SYSTEM_SUBJECT = Subject("system", "platform")
