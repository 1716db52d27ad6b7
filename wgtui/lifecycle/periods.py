"""Provides quota and expiry values as people write them, and quota periods in the host's local zone (DST-correct)."""

# Why these rules:
# - Quotas count received + sent bytes, in integers. Units are decimal (kB, MB, GB, TB: what ISPs and `wg` users
#   mean by "50GB"), binary when written so (KiB … TiB). A fraction must come out as a whole number of bytes.
# - A period is calendar-based in the HOST's zone: a month starts on the 1st at local midnight, a week on Monday at
#   00:00 (ISO), a day at local midnight. Boundaries are computed from local calendar dates and converted with
#   zoneinfo, so a DST day is 23 or 25 hours long and a boundary inside a DST gap falls on the first instant of
#   the date. A zone is a parameter everywhere (tests pass Europe/Berlin); None means the host's zone.
# - An expiry with a time must carry its zone (`2026-12-31T18:00+01:00`): a time without one would mean something
#   else on the next host the file is copied to. A bare date means the END of that day in the host's zone (the
#   peer works all of 2026-12-31), i.e. the first instant of the next day; it stays a date in the file.
# - Limits are reached with >=: a quota of 10GB is used up at exactly 10,000,000,000 bytes, an expiry at exactly
#   its instant.

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

from wgtui.compat import UTC, StrEnum


class PolicyError(ValueError):
    """A quota or expiry that cannot be parsed; the message is a sentence for the user, with the accepted forms."""


class Period(StrEnum):
    """How often a quota starts anew."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    LIFETIME = "lifetime"
    """Never: the quota counts everything the peer (its stable id, across key rotations) ever used."""


DECIMAL_UNITS = {"B": 1, "kB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}
BINARY_UNITS = {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}
_UNITS = {name.lower(): size for name, size in {**DECIMAL_UNITS, **BINARY_UNITS}.items()}
_QUOTA_RE = re.compile(r"(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>[a-z]+)\s*(?:/\s*(?P<period>[a-z]+))?\Z")
QUOTA_FORMS = "50GB/month, 20GB/week, 5GB/day, 10GB (no period: lifetime) or none; units kB MB GB TB, KiB MiB GiB TiB"
EXPIRY_FORMS = "2026-12-31T18:00+01:00 (date, time and zone), 2026-12-31 (the end of that day here) or never"


@dataclass(frozen=True, slots=True)
class Quota:
    """A data quota: received + sent bytes per period."""

    bytes: int
    period: Period

    def format(self) -> str:
        """The canonical text, as written into the config file: `50GB/month`, `10GB` (lifetime)."""
        size = format_bytes(self.bytes)
        return size if self.period is Period.LIFETIME else f"{size}/{self.period.value}"

    def exceeded(self, used: int) -> bool:
        """Used up: reached, not only passed (a 10GB quota is used up at exactly 10,000,000,000 bytes)."""
        return used >= self.bytes


def parse_quota(text: str) -> Quota | None:
    """`50GB/month`, `20GB/week`, `5GB/day`, `10GB` (lifetime), `1.5GiB/day`; `none` gives None."""
    cleaned = text.strip().lower()
    if cleaned in ("none", "off"):
        return None
    match = _QUOTA_RE.match(cleaned)
    if match is None:
        raise PolicyError(f"{text!r} is not a quota: write {QUOTA_FORMS}.")
    unit = _UNITS.get(match["unit"])
    if unit is None:
        raise PolicyError(f"{text!r}: unknown unit {match['unit']!r}; use kB, MB, GB, TB (powers of 1000) or KiB, "
                          "MiB, GiB, TiB (powers of 1024).")
    period_text = match["period"]
    if period_text is None:
        period = Period.LIFETIME
    else:
        try:
            period = Period(period_text)
        except ValueError:
            raise PolicyError(f"{text!r}: the period after '/' is month, week or day (none: a lifetime quota, "
                              "like 10GB).") from None
        if period is Period.LIFETIME:
            raise PolicyError(f"{text!r}: a lifetime quota is written without a period, like 10GB.")
    try:
        amount = Decimal(match["n"]) * unit
    except InvalidOperation:  # pragma: no cover - the pattern admits only plain decimals
        raise PolicyError(f"{text!r} is not a quota: write {QUOTA_FORMS}.") from None
    if amount != amount.to_integral_value():
        raise PolicyError(f"{text!r} is not a whole number of bytes; write it in a smaller unit.")
    if amount <= 0:
        raise PolicyError(f"{text!r}: a quota must be more than 0 bytes (to cut a peer off, disable it; "
                          "to lift a quota, write none).")
    return Quota(int(amount), period)


def format_bytes(n: int) -> str:
    """An exact byte count in the largest unit that divides it, decimal first: `50GB`, `1GiB`, `1500MB`, `7B`."""
    best = f"{n}B"
    for units in (DECIMAL_UNITS, BINARY_UNITS):
        for name, size in units.items():
            if size > 1 and n % size == 0:
                candidate = f"{n // size}{name}"
                if len(candidate) < len(best) or (len(candidate) == len(best) and units is DECIMAL_UNITS):
                    best = candidate
    return best


# -- zones and periods -------------------------------------------------------------------------------------------


def local_zone() -> tzinfo:
    """The host's zone with its DST rules: $TZ if set, else /etc/localtime, else UTC."""
    return _local_zone(os.environ.get("TZ"))


@lru_cache(maxsize=8)
def _local_zone(tz_env: str | None) -> tzinfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # here: a change that sets no period need not load it

    if tz_env:
        name = tz_env[1:] if tz_env.startswith(":") else tz_env
        try:
            if not name.startswith("/"):
                return ZoneInfo(name)
            with Path(name).open("rb") as f:
                return ZoneInfo.from_file(f, key=name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass  # a POSIX rule string such as CET-1CEST: fall back to the file below
    try:
        with open("/etc/localtime", "rb") as f:
            return ZoneInfo.from_file(f, key="localtime")
    except (OSError, ValueError):
        return UTC


def _start_of(day: date, tz: tzinfo) -> int:
    """Unix seconds of the first instant of a local calendar date.

    fold=0 gives, for an ambiguous midnight, its first occurrence and, for a midnight inside a DST gap (zones that
    switch at 00:00), the moment the clocks jump: in both cases the first instant that carries this date.
    """
    return int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp())


def local_date(at: float, tz: tzinfo | None = None) -> date:
    return datetime.fromtimestamp(at, tz or local_zone()).date()


def period_bounds(period: Period, at: float, tz: tzinfo | None = None) -> tuple[int, int] | None:
    """[start, end) in unix seconds of the period that contains `at`, in zone `tz` (None: the host's); None for a
    lifetime quota, which has no period."""
    zone = tz or local_zone()
    today = local_date(at, zone)
    if period is Period.DAY:
        first, after = today, today + timedelta(days=1)
    elif period is Period.WEEK:
        first = today - timedelta(days=today.weekday())
        after = first + timedelta(days=7)
    elif period is Period.MONTH:
        first = today.replace(day=1)
        after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    else:
        return None
    return _start_of(first, zone), _start_of(after, zone)


def hour_start(at: float, tz: tzinfo | None = None) -> int:
    """The start of the local hour containing `at` (differs from the UTC hour in zones such as +05:30)."""
    zone = tz or local_zone()
    t = int(at // 1)
    offset = datetime.fromtimestamp(t, zone).utcoffset()
    shift = int(offset.total_seconds()) if offset is not None else 0
    return t - (t + shift) % 3600


def day_start(at: float, tz: tzinfo | None = None) -> int:
    """The first instant of the local date containing `at`."""
    zone = tz or local_zone()
    return _start_of(local_date(at, zone), zone)


def next_day_start(at: float, tz: tzinfo | None = None) -> int:
    zone = tz or local_zone()
    return _start_of(local_date(at, zone) + timedelta(days=1), zone)


# -- expiry ------------------------------------------------------------------------------------------------------

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_DATETIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?(?P<zone>Z|[+-]\d{2}:?\d{2})?\Z")


@dataclass(frozen=True, slots=True)
class Expiry:
    """When a peer expires: an instant (with the zone it was written in), or a date meaning the end of that day in
    the host's zone. Both None: never."""

    at: datetime | None = None
    day: date | None = None

    @property
    def never(self) -> bool:
        return self.at is None and self.day is None

    def timestamp(self, tz: tzinfo | None = None) -> int | None:
        """Unix seconds from which the peer is expired (>=); None for never. A date: its next local midnight."""
        if self.at is not None:
            return int(self.at.timestamp())
        if self.day is not None:
            zone = tz or local_zone()
            return _start_of(self.day + timedelta(days=1), zone)
        return None

    def expired(self, now: float, tz: tzinfo | None = None) -> bool:
        deadline = self.timestamp(tz)
        return deadline is not None and now >= deadline

    def format(self) -> str:
        """The canonical text: `never`, `2026-12-31`, `2026-12-31T18:00+01:00` (seconds only when not zero)."""
        if self.at is not None:
            spec = "minutes" if self.at.second == 0 and self.at.microsecond == 0 else "seconds"
            text = self.at.isoformat(timespec=spec)
            return text[:-6] + "Z" if text.endswith("+00:00") else text
        if self.day is not None:
            return self.day.isoformat()
        return "never"


NEVER = Expiry()


def parse_expiry(text: str) -> Expiry:
    """`2026-12-31T18:00+01:00` (or `…Z`, or with seconds), `2026-12-31` (the end of that day in the host's zone),
    `never`."""
    cleaned = text.strip()
    if cleaned.lower() in ("never", "none"):
        return NEVER
    if _DATE_RE.match(cleaned):
        try:
            return Expiry(day=date.fromisoformat(cleaned))
        except ValueError:
            raise PolicyError(f"{text!r} is not a date of the calendar; write {EXPIRY_FORMS}.") from None
    match = _DATETIME_RE.match(cleaned)
    if match is None:
        raise PolicyError(f"{text!r} is not an expiry: write {EXPIRY_FORMS}.")
    if match["zone"] is None:
        raise PolicyError(f"{text!r} has a time but no zone, which would mean a different instant on another host: "
                          "add one, like 2026-12-31T18:00+01:00 or 2026-12-31T17:00Z (or write a bare date for the "
                          "end of that day here).")
    normal = cleaned.replace(" ", "T", 1)
    if normal.endswith("Z"):
        normal = normal[:-1] + "+00:00"
    elif normal[-3] != ":":
        normal = normal[:-2] + ":" + normal[-2:]  # +0100 -> +01:00 (fromisoformat of 3.10 wants the colon)
    try:
        at = datetime.fromisoformat(normal)
    except ValueError:
        raise PolicyError(f"{text!r} is not a valid date and time; write {EXPIRY_FORMS}.") from None
    return Expiry(at=at)


def format_timestamp(at: float, tz: tzinfo | None = None) -> str:
    """An instant as the host's zone writes it, to the minute when it has no seconds: `2026-12-31T18:00+01:00`."""
    when = datetime.fromtimestamp(at, tz or local_zone())
    return Expiry(at=when).format()
