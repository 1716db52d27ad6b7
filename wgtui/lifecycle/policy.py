"""Provides peer policies (expiry, quota, why a block is disabled) as items of the block's `# wgtui:` comment."""

# The file is the one source of truth: a policy is written beside the peer's other wgtui metadata, so it shows in
# the diff preview, travels with backups and copies, and goes away with the block.
#   # wgtui: key-created=2026-11-29T19:20:00Z expires=2026-12-31T18:00+01:00 quota=50GB/month
#   #[disabled] # wgtui: expires=2026-12-31 disabled=expired
# Readers never fail on what they find there: a value that does not parse counts as absent (`malformed` lists them
# for `wgtui check`). Writers go through format_meta, which admits no whitespace, so a value can never add a line.

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from wgtui.conf.disabled import _disabled_lines, _runs, _strip, find_disabled
from wgtui.conf.document import BaseDocument
from wgtui.conf.errors import ConfError
from wgtui.conf.meta import all_meta, parse_meta
from wgtui.lifecycle.periods import Expiry, PolicyError, Quota, parse_expiry, parse_quota
from wgtui.model import KEEP, Unchanged

EXPIRES = "expires"
QUOTA = "quota"
DISABLED = "disabled"
REASONS = ("expired", "quota", "manual")
"""Why a block is disabled: its expiry passed, its quota was used up, or someone disabled it."""
MANUAL = "manual"
_PUBLIC_KEY_RE = re.compile(r"publickey[ \t]*=", re.IGNORECASE)


@dataclass(frozen=True)
class Policy:
    """What the file says about a peer's lifetime."""

    expires: Expiry | None
    """None: no expiry."""
    quota: Quota | None
    """None: no quota."""
    disabled_reason: str | None
    """"expired", "quota" or "manual" for a #[disabled] block; None when enabled."""

    @property
    def disabled(self) -> bool:
        return self.disabled_reason is not None


NO_POLICY = Policy(None, None, None)


def read_expiry(value: str | None) -> Expiry | None:
    """An `expires=` value, or None when absent, `never` or malformed."""
    if not value:
        return None
    try:
        expiry = parse_expiry(value)
    except PolicyError:
        return None
    return None if expiry.never else expiry


def read_quota(value: str | None) -> Quota | None:
    """A `quota=` value, or None when absent, `none` or malformed."""
    if not value:
        return None
    try:
        return parse_quota(value)
    except PolicyError:
        return None


def read_reason(value: str | None) -> str:
    """A disabled block's `disabled=` value; absent or unknown means manual."""
    return value if value in REASONS else MANUAL


def policy_of(meta: Mapping[str, str], *, disabled: bool = False) -> Policy:
    """The policy in one block's meta items (`disabled`: the block is commented out with #[disabled])."""
    return _policy(meta.get(EXPIRES), meta.get(QUOTA), read_reason(meta.get(DISABLED)) if disabled else None)


@lru_cache(maxsize=4096)
def _policy(expires: str | None, quota: str | None, reason: str | None) -> Policy:
    """Cached: many peers share a quota or an expiry date, and parsing each again costs 10 µs a peer."""
    if expires is None and quota is None and reason is None:
        return NO_POLICY
    return Policy(read_expiry(expires), read_quota(quota), reason)


def disabled_meta(doc: BaseDocument) -> dict[str, dict[str, str]]:
    """The meta items of every #[disabled] peer block, by public key (blocks without any: an empty mapping).

    Read line by line from the prefixed text, not through `disabled_peers` (a document parse per block): a file
    with thousands of disabled peers is read in one pass."""
    out: dict[str, dict[str, str]] = {}
    lines = doc.lines
    for start, end in _runs(lines, _disabled_lines(doc)):
        key: str | None = None
        items: dict[str, str] = {}
        in_peer = False
        for line in lines[start:end]:
            text = _strip(line).strip()
            if text.startswith("["):
                if in_peer and key:
                    out.setdefault(key, items)
                in_peer, key, items = text.split("]", 1)[0][1:].strip().lower() == "peer", None, {}
            elif not in_peer:
                continue
            elif text.startswith("#"):
                if not items and "wgtui:" in text:
                    items = parse_meta(text) or {}
            elif _PUBLIC_KEY_RE.match(text):
                key = text.split("=", 1)[1].split("#", 1)[0].strip()
        if in_peer and key:
            out.setdefault(key, items)
    return out


def policies(doc: BaseDocument, meta: Mapping[str, Mapping[str, str]] | None = None) -> dict[str, Policy]:
    """Every peer of the file with a public key, enabled blocks and #[disabled] blocks alike (`meta`: all_meta(doc),
    when the caller has it already)."""
    out = {key: policy_of(items, disabled=True) for key, items in disabled_meta(doc).items()}
    meta = all_meta(doc) if meta is None else meta
    for peer in doc.peers:  # a live block wins over a disabled one with the same key (enable refuses that case)
        key = peer.public_key
        if key:
            items = meta.get(key)
            out[key] = policy_of(items) if items else NO_POLICY
    return out


def malformed(doc: BaseDocument) -> list[tuple[str, str, str]]:
    """(public key, item, why) for every policy item that does not parse and is therefore ignored."""
    found: list[tuple[str, str, str]] = []
    for key, items in [*all_meta(doc).items(), *disabled_meta(doc).items()]:
        for name, parse in ((EXPIRES, parse_expiry), (QUOTA, parse_quota)):
            value = items.get(name)
            if value is None:
                continue
            try:
                parse(value)  # type: ignore[operator]
            except PolicyError as exc:
                found.append((key, f"{name}={value}", str(exc)))
        reason = items.get(DISABLED)
        if reason is not None and reason not in REASONS:
            found.append((key, f"{DISABLED}={reason}", f"the reason is one of {', '.join(REASONS)}; read as manual"))
    return found


# -- writing -----------------------------------------------------------------------------------------------------


def expires_item(expiry: Expiry | None) -> str | None:
    """The `expires=` value to write (format_meta checks it), or None to remove the item (never)."""
    return None if expiry is None or expiry.never else expiry.format()


def quota_item(quota: Quota | None) -> str | None:
    """The `quota=` value to write, or None to remove the item (none)."""
    return None if quota is None else quota.format()


def as_expiry(value: str | Expiry | None) -> Expiry | None:
    """What a caller gave for an expiry: text as people write it (PolicyError if it does not parse), or parsed."""
    if isinstance(value, str):
        value = parse_expiry(value)
    return None if value is None or value.never else value


def as_quota(value: str | Quota | None) -> Quota | None:
    """What a caller gave for a quota: text (`none` lifts it; PolicyError if it does not parse), or parsed."""
    return parse_quota(value) if isinstance(value, str) else value


class PolicyFieldError(PolicyError):
    """A policy value that does not parse; `field` names the form field (expires, quota)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def policy_items(*, expires: str | Expiry | Unchanged | None = KEEP, quota: str | Quota | Unchanged | None = KEEP,
                 now: float | None = None) -> tuple[dict[str, str | None], list[str]]:
    """The meta items that set an expiry and a quota given as text or parsed (KEEP leaves an item as it is; None,
    `never` or `none` removes it), and warnings for the preview. PolicyFieldError when a value does not parse."""
    items: dict[str, str | None] = {}
    warnings: list[str] = []
    if expires is not KEEP:
        try:
            expiry = as_expiry(expires)
        except PolicyError as exc:
            raise PolicyFieldError(str(exc), EXPIRES) from None
        items[EXPIRES] = expires_item(expiry)
        if expiry is not None and now is not None and expiry.expired(now):
            warnings.append(f"The expiry {expiry.format()} has passed already: the agent disables the peer at its "
                            "next pass.")
    if quota is not KEEP:
        try:
            items[QUOTA] = quota_item(as_quota(quota))
        except PolicyError as exc:
            raise PolicyFieldError(str(exc), QUOTA) from None
    return items, warnings


def disabled_hint(doc: BaseDocument, query: str, ifname: str) -> str:
    """For a peer not found among the live ones: " It is disabled: …" when the query names a disabled block."""
    try:
        found = find_disabled(doc, query.strip())
    except ConfError:
        return ""
    who = found.name or found.public_key
    return (f" {who} is disabled (#[disabled] in the file): `wgtui peer enable {ifname} {who}` brings it back, "
            "with `--expires …` to give it a new expiry at the same time.")
