"""Provides the lossless wg-quick document: parse, edit and render config files without losing a byte."""

# Example:
#     doc = Document.read("/etc/wireguard/wg0.conf")
#     new = doc.add_peer(key, allowed_ips=["10.0.0.7/32"], name="carol")
#     print(unified_diff(doc.render(), new.render(), "wg0.conf", "wg0.conf"))

from .diff import unified_diff
from .document import BaseDocument
from .edit import Document, FieldValue
from .errors import (
    AmbiguousPeer,
    ConfError,
    DuplicatePeer,
    EditError,
    ParseError,
    PeerNotFound,
    ValidationError,
)
from .lines import KeyStyle, Line, LineKind
from .names import DEFAULT_STYLE, Convention, NameMark, NameStyle, Placement
from .peersfile import PeersFile, parse_peers_file, read_peers_file
from .views import Field, InterfaceView, PeerView, Section, split_list

__all__ = [
    "DEFAULT_STYLE",
    "AmbiguousPeer",
    "BaseDocument",
    "ConfError",
    "Convention",
    "Document",
    "DuplicatePeer",
    "EditError",
    "Field",
    "FieldValue",
    "InterfaceView",
    "KeyStyle",
    "Line",
    "LineKind",
    "NameMark",
    "NameStyle",
    "ParseError",
    "PeerNotFound",
    "PeerView",
    "PeersFile",
    "Placement",
    "Section",
    "ValidationError",
    "parse_peers_file",
    "read_peers_file",
    "split_list",
    "unified_diff",
]
