"""Quota and expiry values: parsing and canonical text, >= semantics, periods in local time across DST."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.lifecycle.conftest import BERLIN
from wgtui.compat import UTC
from wgtui.lifecycle import periods
from wgtui.lifecycle.periods import (
    NEVER,
    Period,
    PolicyError,
    Quota,
    day_start,
    format_bytes,
    hour_start,
    local_date,
    local_zone,
    parse_expiry,
    parse_quota,
    period_bounds,
)


def ts(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


# -- quotas ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "size", "period"), [
    ("50GB/month", 50 * 10**9, Period.MONTH),
    ("20GB/week", 20 * 10**9, Period.WEEK),
    ("5GB/day", 5 * 10**9, Period.DAY),
    ("10GB", 10 * 10**9, Period.LIFETIME),
    ("1TB/month", 10**12, Period.MONTH),
    ("500MB/day", 500 * 10**6, Period.DAY),
    ("750kB", 750_000, Period.LIFETIME),
    ("750KB", 750_000, Period.LIFETIME),
    ("1.5GB/day", 1_500_000_000, Period.DAY),
    ("2GiB/week", 2 * 2**30, Period.WEEK),
    ("1 TiB / month", 2**40, Period.MONTH),
    ("512MiB", 512 * 2**20, Period.LIFETIME),
    ("  8gb/Month ", 8 * 10**9, Period.MONTH),
])
def test_quota_forms(text: str, size: int, period: Period) -> None:
    assert parse_quota(text) == Quota(size, period)


def test_none_lifts_the_quota() -> None:
    assert parse_quota("none") is None
    assert parse_quota("NONE") is None


@pytest.mark.parametrize(("text", "words"), [
    ("50", "not a quota"),
    ("50XB/month", "unknown unit"),
    ("50GB/year", "period"),
    ("50GB/lifetime", "without a period"),
    ("0GB/day", "more than 0"),
    ("1.0000000001kB", "whole number of bytes"),
    ("-5GB", "not a quota"),
    ("GB", "not a quota"),
    ("", "not a quota"),
])
def test_bad_quotas_say_what_to_write(text: str, words: str) -> None:
    with pytest.raises(PolicyError, match=words):
        parse_quota(text)


@pytest.mark.parametrize(("text", "canonical"), [
    ("50GB/month", "50GB/month"), ("10GB", "10GB"), ("1.5GB/day", "1500MB/day"), ("2GiB/week", "2GiB/week"),
    ("1024kB", "1024kB"), ("1KiB", "1KiB"), ("7B", "7B"), ("  8gb/Month ", "8GB/month"), ("1000GB", "1TB"),
])
def test_quota_text_round_trips(text: str, canonical: str) -> None:
    quota = parse_quota(text)
    assert quota is not None and quota.format() == canonical
    assert parse_quota(canonical) == quota


def test_format_bytes_is_exact() -> None:
    for n in (1, 999, 1000, 1001, 1024, 10**9 + 1, 3 * 2**30, 123_456_789_000):
        parsed = parse_quota(format_bytes(n))
        assert parsed is not None and parsed.bytes == n


def test_a_quota_is_used_up_when_reached_not_only_when_passed() -> None:
    quota = parse_quota("10GB")
    assert quota is not None
    assert not quota.exceeded(10 * 10**9 - 1)
    assert quota.exceeded(10 * 10**9)  # the `equal` case other tools never fire on
    assert quota.exceeded(10 * 10**9 + 1)


# -- periods -----------------------------------------------------------------------------------------------------


def test_day_period_on_the_spring_forward_day_is_23_hours() -> None:
    start, end = period_bounds(Period.DAY, ts("2026-03-29T12:00+02:00"), BERLIN) or (0, 0)
    assert start == ts("2026-03-29T00:00+01:00") and end == ts("2026-03-30T00:00+02:00")
    assert end - start == 23 * 3600


def test_day_period_on_the_fall_back_day_is_25_hours() -> None:
    start, end = period_bounds(Period.DAY, ts("2026-10-25T02:30+01:00"), BERLIN) or (0, 0)  # the second 02:30
    assert start == ts("2026-10-25T00:00+02:00") and end == ts("2026-10-26T00:00+01:00")
    assert end - start == 25 * 3600


def test_week_starts_on_monday_at_local_midnight() -> None:
    start, end = period_bounds(Period.WEEK, ts("2026-03-29T23:59+02:00"), BERLIN) or (0, 0)  # a Sunday
    assert start == ts("2026-03-23T00:00+01:00") and end == ts("2026-03-30T00:00+02:00")
    assert datetime.fromtimestamp(start, BERLIN).weekday() == 0
    assert end - start == 7 * 86400 - 3600


def test_month_is_the_calendar_month() -> None:
    assert period_bounds(Period.MONTH, ts("2026-03-15T10:00+01:00"), BERLIN) == (
        ts("2026-03-01T00:00+01:00"), ts("2026-04-01T00:00+02:00"))
    assert period_bounds(Period.MONTH, ts("2026-12-31T23:59:59+01:00"), BERLIN) == (
        ts("2026-12-01T00:00+01:00"), ts("2027-01-01T00:00+01:00"))
    assert period_bounds(Period.MONTH, ts("2028-02-29T12:00+01:00"), BERLIN) == (
        ts("2028-02-01T00:00+01:00"), ts("2028-03-01T00:00+01:00"))


def test_the_boundary_instant_belongs_to_the_new_period() -> None:
    midnight = ts("2026-06-01T00:00+02:00")
    assert period_bounds(Period.MONTH, midnight, BERLIN) == (midnight, ts("2026-07-01T00:00+02:00"))
    assert period_bounds(Period.MONTH, midnight - 1, BERLIN) == (ts("2026-05-01T00:00+02:00"), midnight)


def test_lifetime_has_no_period() -> None:
    assert period_bounds(Period.LIFETIME, 1e9, BERLIN) is None


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/Santiago", "America/Havana", "Australia/Lord_Howe",
                                  "Asia/Kolkata", "Pacific/Apia", "UTC"])
def test_every_period_of_a_year_starts_on_the_first_instant_of_its_date(zone: str) -> None:
    """Zones with DST at midnight (Santiago, Havana), by 30 minutes (Lord Howe), half-hour offsets (Kolkata) and a
    skipped date (Apia skipped 2011-12-30): start <= t < end, and the local dates flip exactly at the bounds."""
    tz = ZoneInfo(zone)
    t = int(datetime(2011, 1, 1, 12, tzinfo=UTC).timestamp())
    for _ in range(2 * 365):
        t += 86400 - 7  # drift through every time of day
        today = local_date(t, tz)
        for period in (Period.DAY, Period.WEEK, Period.MONTH):
            start, end = period_bounds(period, t, tz) or (0, 0)
            assert start <= t < end
            assert local_date(start - 1, tz) < local_date(start, tz) <= today < local_date(end, tz)
            assert local_date(end - 1, tz) >= today
        assert period_bounds(Period.DAY, t, tz) == (day_start(t, tz), periods.next_day_start(t, tz))


def test_local_hours_in_a_half_hour_zone() -> None:
    kolkata = ZoneInfo("Asia/Kolkata")
    t = ts("2026-05-05T10:47:12+05:30")
    assert hour_start(t, kolkata) == ts("2026-05-05T10:00+05:30")
    assert hour_start(t, BERLIN) == ts("2026-05-05T07:00+02:00")


def test_the_host_zone_comes_from_tz(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Europe/Berlin")
    assert datetime(2026, 7, 1, tzinfo=local_zone()).utcoffset() == timedelta(hours=2)
    assert period_bounds(Period.DAY, ts("2026-03-29T12:00+02:00")) == (
        ts("2026-03-29T00:00+01:00"), ts("2026-03-30T00:00+02:00"))
    monkeypatch.setenv("TZ", ":America/Santiago")
    assert datetime(2026, 7, 1, tzinfo=local_zone()).utcoffset() == timedelta(hours=-4)


# -- expiry ------------------------------------------------------------------------------------------------------


def test_expiry_with_time_and_zone() -> None:
    expiry = parse_expiry("2026-12-31T18:00+01:00")
    assert expiry.timestamp() == ts("2026-12-31T17:00+00:00")
    assert expiry.format() == "2026-12-31T18:00+01:00"
    assert parse_expiry("2026-12-31T17:00Z").timestamp() == expiry.timestamp()
    assert parse_expiry("2026-12-31T17:00Z").format() == "2026-12-31T17:00Z"
    assert parse_expiry("2026-12-31T18:00:30+0100").format() == "2026-12-31T18:00:30+01:00"
    assert parse_expiry("2026-12-31 18:00+01:00") == expiry


def test_a_bare_date_means_the_end_of_that_day_in_the_host_zone() -> None:
    expiry = parse_expiry("2026-12-31")
    assert expiry.day == date(2026, 12, 31) and expiry.format() == "2026-12-31"
    deadline = expiry.timestamp(BERLIN)
    assert deadline == ts("2027-01-01T00:00+01:00")
    assert not expiry.expired(ts("2026-12-31T23:59:59+01:00"), BERLIN)
    assert expiry.expired(ts("2027-01-01T00:00+01:00"), BERLIN)  # >=: expired at the instant
    # Summer time: the day ends at 22:00 UTC.
    assert parse_expiry("2026-07-31").timestamp(BERLIN) == ts("2026-07-31T22:00+00:00")


def test_never() -> None:
    assert parse_expiry("never") == NEVER and NEVER.never
    assert NEVER.timestamp() is None and not NEVER.expired(1e12) and NEVER.format() == "never"


@pytest.mark.parametrize(("text", "words"), [
    ("2026-12-31T18:00", "no zone"),
    ("2026-02-30", "calendar"),
    ("tomorrow", "not an expiry"),
    ("2026-12-31T25:00+01:00", "not a valid"),
    ("31.12.2026", "not an expiry"),
])
def test_bad_expiries_say_what_to_write(text: str, words: str) -> None:
    with pytest.raises(PolicyError, match=words):
        parse_expiry(text)


def test_expiry_text_round_trips() -> None:
    for text in ("never", "2026-12-31", "2026-12-31T18:00+01:00", "2027-03-01T06:30:15-05:00", "2026-01-01T00:00Z"):
        assert parse_expiry(text).format() == text
        assert parse_expiry(parse_expiry(text).format()) == parse_expiry(text)
