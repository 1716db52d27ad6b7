"""Provides what Python 3.11 added and wgtui uses, for Python 3.10 (Ubuntu 22.04's python3)."""

from __future__ import annotations

import sys
from datetime import timezone

if sys.version_info >= (3, 11):
    from enum import StrEnum
    from typing import Self
else:  # pragma: no cover - exercised by the Python 3.10 run of the test suite
    from enum import Enum

    from typing_extensions import Self

    class StrEnum(str, Enum):
        """An Enum whose members are strings and print as their value (enum.StrEnum of 3.11)."""

        def __str__(self) -> str:
            return str(self.value)


UTC = timezone.utc  # datetime.UTC is 3.11+

__all__ = ["UTC", "Self", "StrEnum"]
