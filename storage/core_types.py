"""Column types for storage/tables.py (Core, no sqlmodel): one definition, imported by the generated file."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

from storage.stamps import as_utc


class UTCDateTime(TypeDecorator[datetime]):
    """As sqlmodel's UTCDateTime reads and binds: aware datetimes in, aware UTC datetimes out."""

    impl = DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError("datetimes bound to the archive's columns must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return as_utc(value)
