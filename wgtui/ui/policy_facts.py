"""Provides what the dashboard says about a peer's expiry and quota: `expires in 3 days (…)`, `12.0 GB of 50 GB …`."""

# Plain Python (no Textual): the detail pane, the detail screen and the form's hints read a row's policy through
# here, so that "soon" and "nearly used up" mean the same wherever they are shown. Times are the host's local time
# with the zone's abbreviation: what the agent enforces against, and what a bare date in the file means.

from __future__ import annotations

import re
from datetime import datetime, tzinfo

from wgtui import fmt
from wgtui.config_source import PeerMeta
from wgtui.lifecycle.peer_usage import QuotaUse
from wgtui.lifecycle.periods import (
    Expiry,
    Period,
    PolicyError,
    Quota,
    format_bytes,
    local_zone,
    parse_expiry,
    parse_quota,
)

SOON = 7 * 86400
"""An expiry closer than this is shown as a warning (the agent's first warning is 7 days ahead)."""
NEARLY = 80
"""A quota used to this percent or more is shown as a warning (the agent's first quota warning)."""
WARN = "yellow"
DONE = "bold red"
Fact = tuple[str, str, str]
"""(label, value, style), as key_facts gives them."""

_THIS = {Period.DAY: "today", Period.WEEK: "this week", Period.MONTH: "this month", Period.LIFETIME: "in all"}
_EACH = {Period.DAY: "a day", Period.WEEK: "a week", Period.MONTH: "a month", Period.LIFETIME: "in all"}


def in_words(seconds: float) -> str:
    """`3 days` (from 2.5 days on: rounded, as people say it), `1 day`, `5 hours`, `12 minutes`,
    `less than a minute`."""
    s = max(0.0, seconds)
    for size, one, many in ((86400, "1 day", "days"), (3600, "1 hour", "hours"), (60, "1 minute", "minutes")):
        if s >= 2 * size:
            return f"{round(s / size)} {many}"
        if s >= size:
            return one
    return "less than a minute"


def local_time(at: float, tz: tzinfo | None = None) -> str:
    """`2026-12-31 18:00 CET`: the host's wall clock, its zone named."""
    when = datetime.fromtimestamp(at, tz or local_zone())
    return f"{when:%Y-%m-%d %H:%M} {when.tzname() or ''}".rstrip()


def limit_text(quota: Quota) -> str:
    """The quota's size as written, spaced: `50 GB`, `1 GiB`."""
    return re.sub(r"(\d)([A-Za-z])", r"\1 \2", format_bytes(quota.bytes), count=1)


def quota_words(quota: Quota) -> str:
    """`50 GB a month`, `10 GB in all` (received + sent)."""
    return f"{limit_text(quota)} {_EACH[quota.period]}"


def expiry_when(text: str, at: int, tz: tzinfo | None = None) -> str:
    """A bare date as the date it is (`end of 2026-12-31`), an instant in local time."""
    return f"end of {text}" if len(text) == 10 else local_time(at, tz)


def expiry_fact(meta: PeerMeta | None, now: float, tz: tzinfo | None = None, *, short: bool = False) -> Fact | None:
    """`expires in 3 days (2026-12-31 18:00 CET)` (warning under 7 days), `expired 2 days ago (…)`; None: never.
    `short`: without the date (the detail pane's one line)."""
    if meta is None or meta.expires is None:
        return None
    when = "" if short else f" ({expiry_when(meta.expires_text, meta.expires, tz)})"
    left = meta.expires - now
    if left <= 0:
        return "expired", f"{in_words(-left)} ago{when}", DONE
    return "expires", f"in {in_words(left)}{when}", WARN if left < SOON else ""


def expiry_hint(expiry: Expiry, now: float, tz: tzinfo | None = None) -> tuple[str, str]:
    """What a typed expiry means, for the form: (`the peer is disabled in 3 days, 2026-12-31 18:00 CET`, style)."""
    at = expiry.timestamp(tz)
    if at is None:
        return "never expires", "dim"
    when = expiry_when(expiry.format(), at, tz)
    if at <= now:
        return f"already passed ({when}): the agent disables the peer at once", WARN
    return f"the agent disables the peer in {in_words(at - now)} ({when})", "dim"


def quota_fact(quota: Quota | None, use: QuotaUse | None, now: float, unknown: str = "") -> Fact | None:
    """`quota 12.0 GB of 50 GB this month (24 %), resets in 5 days`; without `use`, the limit and `unknown` (why
    the usage is not known). Warning from 80 %, red when used up (the agent then disables the peer)."""
    if quota is None:
        return None
    if use is None:
        return "quota", quota_words(quota) + (f" ({unknown})" if unknown else ""), ""
    percent = use.used * 100 // quota.bytes
    value = f"{fmt.size(use.used)} of {limit_text(quota)} {_THIS[quota.period]} ({percent} %)"
    if use.period_end is not None:
        value += f", resets in {in_words(use.period_end - now)}"
    style = DONE if quota.exceeded(use.used) else WARN if percent >= NEARLY else ""
    return "quota", value, style


def disabled_words(meta: PeerMeta | None) -> str:
    """Why a #[disabled] block is disabled, as the state line says it."""
    reason = meta.disabled_reason if meta is not None else None
    if reason == "expired":
        return "its expiry passed"
    if reason == "quota":
        return "its quota is used up"
    return ""


def pane_facts(meta: PeerMeta | None, now: float) -> list[Fact]:
    """The detail pane's short form: the expiry and the quota's limit (usage is on the detail screen)."""
    found = [expiry_fact(meta, now, short=True), quota_fact(meta.quota if meta is not None else None, None, now)]
    return [fact for fact in found if fact is not None]


_STARTS = {Period.DAY: "counted from each midnight", Period.WEEK: "counted from each Monday",
           Period.MONTH: "counted from the 1st", Period.LIFETIME: "never starts anew"}


def quota_hint(quota: Quota | None) -> tuple[str, str]:
    if quota is None:
        return "no quota", "dim"
    return f"{quota_words(quota)} (received + sent), {_STARTS[quota.period]}", "dim"


def policy_hint(field: str, value: str, now: float) -> tuple[str, str] | None:
    """What a valid expiry or quota typed in the form means, dim under the field; None for other fields, empty or
    invalid values (those show their error instead)."""
    if field not in ("expires", "quota") or not value.strip():
        return None
    try:
        return expiry_hint(parse_expiry(value), now) if field == "expires" else quota_hint(parse_quota(value))
    except PolicyError:
        return None
