"""Provides the read-only views derived from a document: sections, their fields, the interface and peers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from .names import NameMark, NameStyle


class Field(NamedTuple):
    """One setting line of a section."""

    key: str
    """As written (any case)."""
    value: str
    """As wg-quick reads it (comment and surrounding whitespace removed)."""
    line: int
    """0-based index of the line in the document."""


_LOWER: dict[str, str] = {}


def lower_key(key: str) -> str:
    """key.lower(), remembered: a file spells its few keys the same way thousands of times."""
    lowered = _LOWER.get(key)
    if lowered is None:
        lowered = key.lower()
        if len(_LOWER) < 4096:
            _LOWER[key] = lowered
    return lowered


def _values(fields: tuple[Field, ...], key: str) -> tuple[str, ...]:
    lowered = key.lower()
    return tuple(f.value for f in fields if lower_key(f.key) == lowered)


class _Lookup:
    """Reading settings by key, as wg reads them; for views that hold `fields`."""

    __slots__ = ()
    fields: tuple[Field, ...]

    def values(self, key: str) -> tuple[str, ...]:
        """The values of every line with this key (case-insensitive), in file order."""
        return _values(self.fields, key)

    def last(self, key: str) -> str | None:
        """The value wg reads for a single-valued key: the last line wins."""
        values = _values(self.fields, key)
        return values[-1] if values else None


class Section(NamedTuple):
    """One `[Interface]` or `[Peer]` section and the span of lines that belong to its block."""

    kind: str
    """"Interface" or "Peer"."""
    header: int
    """0-based index of the header line."""
    start: int
    """First line of the block (its first leading comment, or the header)."""
    end: int
    """One past the last line of the block; lines from here to `stop` are free-floating."""
    stop: int
    """One past the section's last line: the next header, or the end of the file."""
    fields: tuple[Field, ...]

    @property
    def number(self) -> int:
        """1-based line number of the header, for messages."""
        return self.header + 1

    def values(self, key: str) -> tuple[str, ...]:
        """The values of every line with this key (case-insensitive), in file order."""
        return _values(self.fields, key)

    def last(self, key: str) -> str | None:
        """The value wg reads for a single-valued key: the last line wins."""
        values = _values(self.fields, key)
        return values[-1] if values else None


def split_list(values: Iterable[str]) -> tuple[str, ...]:
    """Comma-separated values of several lines merged into one list, items stripped, empty items dropped."""
    return tuple(item.strip() for value in values for item in value.split(",") if item.strip())


def int_or_none(value: str | None, off_is_zero: bool = False) -> int | None:
    if value is None:
        return None
    if off_is_zero and value.lower() == "off":
        return 0
    return int(value) if value.isascii() and value.isdigit() else None


class PeerView(NamedTuple):
    """A `[Peer]` section as WireGuard reads it, plus its name. Values are None when the line is absent.

    Immutable (a named tuple: a document builds one per peer, and a tuple is built several times faster)."""

    section: Section
    public_key: str | None
    preshared_key: str | None
    allowed_ips: tuple[str, ...]
    """Every AllowedIPs line merged, comma-split, stripped; as written (not normalised)."""
    endpoint: str | None
    persistent_keepalive: int | None
    """Seconds ("off" reads as 0); None when absent or not a number."""
    name: str | None
    """The name held by the block's first name comment that holds one (blocks rarely have two)."""
    marks: tuple[NameMark, ...]
    """Every name comment of the block, in file order (Nyr blocks have two)."""
    naming: NameStyle | None
    """Convention and placement of the name comment (None when the block has no name comment)."""


@dataclass(frozen=True, slots=True)
class InterfaceView(_Lookup):
    """The `[Interface]` settings (merged over every `[Interface]` section, as wg-quick does)."""

    sections: tuple[Section, ...]
    fields: tuple[Field, ...]
    private_key: str | None
    listen_port: int | None
    fwmark: str | None
    addresses: tuple[str, ...]
    dns: tuple[str, ...]
    mtu: int | None
    table: str | None
    save_config: bool
    """True when the last SaveConfig line says "true": wg-quick then rewrites the file at `down`."""
    pre_up: tuple[str, ...]
    post_up: tuple[str, ...]
    pre_down: tuple[str, ...]
    post_down: tuple[str, ...]

    @classmethod
    def of(cls, sections: tuple[Section, ...]) -> InterfaceView:
        fields = tuple(f for s in sections for f in s.fields)

        def values(key: str) -> tuple[str, ...]:
            return _values(fields, key)

        def last(key: str) -> str | None:
            found = values(key)
            return found[-1] if found else None

        return cls(
            sections=sections,
            fields=fields,
            private_key=last("PrivateKey"),
            listen_port=int_or_none(last("ListenPort")),
            fwmark=last("FwMark"),
            addresses=split_list(values("Address")),
            dns=split_list(values("DNS")),
            mtu=int_or_none(last("MTU")),
            table=last("Table"),
            save_config=(last("SaveConfig") or "").lower() == "true",
            pre_up=values("PreUp"),
            post_up=values("PostUp"),
            pre_down=values("PreDown"),
            post_down=values("PostDown"),
        )
