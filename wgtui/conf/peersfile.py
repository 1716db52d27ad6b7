"""Provides the separate peers-file naming convention (`pubkey name` per line), read and edited losslessly."""

# The format of the wg(8) peer-names patch and wg-friendly-peer-names: a base64 public key, a space or tab,
# the name up to the end of the line (no end-of-line comments). Blank lines, `#` comments and lines that do
# not start with a key are ignored on reading and kept byte for byte on writing.

from __future__ import annotations

from pathlib import Path

from ..keys import is_key
from .errors import ParseError
from .lines import WS, dominant, split_lines
from .validate import validate_key, validate_name


def _entry(text: str) -> tuple[str, str, int, int] | None:
    """(key, name, name_start, name_end) of a line naming a peer, or None for any other line."""
    stripped = text.lstrip(WS)
    if not stripped or stripped.startswith("#"):
        return None
    key_end = len(stripped)
    for i, ch in enumerate(stripped):
        if ch in " \t":
            key_end = i
            break
    key = stripped[:key_end]
    if not is_key(key):
        return None
    offset = len(text) - len(stripped)
    rest = stripped[key_end:]
    name = rest.strip(WS)
    if not name:
        return None
    start = offset + key_end + (len(rest) - len(rest.lstrip(WS)))
    return key, name, start, start + len(name)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise ParseError(
            line, f"the file is not valid UTF-8: byte 0x{data[err.start]:02x} at byte offset {err.start}"
        ) from None


def parse_peers_file(text: str) -> dict[str, str]:
    """Public key → name; a key listed twice takes the later name."""
    out: dict[str, str] = {}
    for line, _ in split_lines(text):
        entry = _entry(line)
        if entry is not None:
            out[entry[0]] = entry[1]
    return out


def read_peers_file(path: str | Path) -> dict[str, str]:
    """Public key → name from a peers file; OSError (FileNotFoundError…) as Python raises it."""
    return parse_peers_file(_decode(Path(path).read_bytes()))


class PeersFile:
    """A peers file kept line by line, so that naming one peer changes one line. Immutable."""

    def __init__(self, text: str = "") -> None:
        self._text = text
        self._lines = tuple(split_lines(text))

    @classmethod
    def from_bytes(cls, data: bytes) -> PeersFile:
        return cls(_decode(data))

    @classmethod
    def read(cls, path: str | Path) -> PeersFile:
        return cls.from_bytes(Path(path).read_bytes())

    def render(self) -> str:
        return "".join(t + e for t, e in self._lines)

    def to_bytes(self) -> bytes:
        return self.render().encode("utf-8")

    @property
    def names(self) -> dict[str, str]:
        return parse_peers_file(self._text)

    def set_name(self, public_key: str, name: str | None) -> PeersFile:
        """Name a peer (None: forget it): its first line edited in place, any later lines for it removed,
        a new line appended when it has none. The final-newline state of the file is kept."""
        key = validate_key(public_key)
        if name is not None:
            name = validate_name(name)
        lines = list(self._lines)
        ends_bare = bool(lines) and lines[-1][1] == ""
        eol = dominant((e for _, e in lines if e), "\n")
        hits = [i for i, (t, _) in enumerate(lines) if (e := _entry(t)) is not None and e[0] == key]
        if hits and name is not None:
            text, ending = lines[hits[0]]
            entry = _entry(text)
            assert entry is not None
            lines[hits[0]] = (text[: entry[2]] + name + text[entry[3] :], ending)
            hits = hits[1:]
        elif name is not None:
            lines.append((f"{key} {name}", eol))
        for i in reversed(hits):
            del lines[i]
        for i in range(len(lines) - 1):
            if not lines[i][1]:
                lines[i] = (lines[i][0], eol)
        if lines and ends_bare:
            lines[-1] = (lines[-1][0], "")
        return PeersFile("".join(t + e for t, e in lines))

