"""Provides the exceptions of the wg-quick document package: parse, edit and validation refusals."""

from __future__ import annotations


class ConfError(ValueError):
    """Base of every refusal raised by `wgtui.conf`; the message is a sentence a user can act on."""


class ParseError(ConfError):
    """A file that is not a wg-quick file (or not UTF-8), with the 1-based line number at fault."""

    def __init__(self, line: int, reason: str, text: str | None = None) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        """1-based number of the offending line."""
        self.reason = reason
        """A sentence saying why the line was refused, without the line number."""
        self.text = text
        """The offending line without its line ending, when there is one to show."""


class EditError(ConfError):
    """An edit the document refuses because of the file's structure (not because of a bad value)."""


class PeerNotFound(EditError):
    """No [Peer] block with that public key (or name, or key prefix)."""

    def __init__(self, query: str) -> None:
        super().__init__(f"no peer {query!r} in this file")
        self.query = query


class AmbiguousPeer(EditError):
    """A query that matches several peers, or a public key that has several [Peer] blocks."""

    def __init__(self, query: str, count: int) -> None:
        super().__init__(f"{query!r} matches {count} peers; give the full public key")
        self.query = query
        self.count = count


class DuplicatePeer(EditError):
    """Adding (or rotating to) a public key that already has a [Peer] block."""

    def __init__(self, public_key: str) -> None:
        super().__init__(f"a peer with public key {public_key} is already in this file")
        self.public_key = public_key


class ValidationError(ConfError):
    """One form field with a bad value. `str()` gives "Label: message" for a command line."""

    def __init__(self, field: str, message: str, label: str | None = None) -> None:
        self.field = field
        """Machine name of the field, e.g. "allowed_ips"; a form puts `message` under that input."""
        self.message = message
        """A sentence without the field's name, e.g. "must not be empty"."""
        self.label = label or field
        """Human name of the field, e.g. "Allowed IPs"."""
        super().__init__(f"{self.label}: {message}")
