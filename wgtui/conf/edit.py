"""Provides the edits of a wg-quick document, each touching only the lines it must and returning a new one."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from .document import BaseDocument, dominant_naming
from .errors import DuplicatePeer, EditError, ParseError, ValidationError
from .lines import (
    HOOK_KEYS,
    KEY_RE,
    LIST_KEYS,
    WS,
    KeyStyle,
    Line,
    LineKind,
    SettingParts,
    canonical_key,
    parse_line,
    unsafe_char,
)
from .names import PAIRED, NameStyle, Placement, format_marks, renamed
from .validate import validate_name
from .views import Section

_EOL: Callable[[Line], str] = itemgetter(1)

FieldValue = str | int | bool | Sequence[str] | None
"""What a field can be set to: None (or "", or an empty sequence) deletes it; a bool writes true/false; a
sequence of strings is one comma-separated line for list keys (Address, AllowedIPs, DNS) and one line per
command for hooks (PreUp, PostUp, PreDown, PostDown)."""

Change = tuple[int, int, list[Line]]
"""Replace lines[start:stop] with these lines."""


def clean_value(field: str, value: str) -> str:
    """`value` stripped, or ValidationError when it holds a character that could break the file's lines."""
    bad = unsafe_char(value)
    if bad is not None:
        raise ValidationError(field, f"must not contain {bad}")
    return value.strip(WS)


class Document(BaseDocument):
    """A lossless wg-quick document with its edits. Each edit returns a new Document and leaves this one
    as it was; `render()` of an unedited document gives back the parsed text exactly."""

    # -- plumbing -----------------------------------------------------------------------------------------

    def _splice(self, changes: Sequence[Change]) -> Document:
        """Apply non-overlapping replacements, then restore the file's final-newline state: a line that stops
        being last gets the dominant ending, and the last line ends bare iff the original's did. Every edit
        goes through here; it is what makes "add a peer, then remove it" give back the original bytes even
        for a file without a final newline."""
        lines = list(self.lines)
        ends_bare = bool(lines) and lines[-1].eol == ""
        for start, stop, new in sorted(changes, key=lambda c: (c[0], c[1]), reverse=True):
            lines[start:stop] = new
        eol = self.eol
        eols = list(map(_EOL, lines))
        fixed = False
        i = -1
        while True:  # every line without an ending but the last, found by list.index (in C, not a loop per line)
            try:
                i = eols.index("", i + 1, len(lines) - 1)
            except ValueError:
                break
            lines[i] = lines[i].with_eol(eol)
            fixed = True
        if lines:
            last = lines[-1].with_eol("" if ends_bare else (lines[-1].eol or eol))
            fixed = fixed or last is not lines[-1]
            lines[-1] = last
        doc = type(self)(lines, self.bom)
        size = len(self.lines)
        if (not fixed and len(changes) == 1 and changes[0][0] == changes[0][1] == size
                and "_body" in self.__dict__):
            # Lines only appended, none of the others touched: the text is the old one and theirs (no join of all).
            doc.__dict__["_body"] = self._body + "".join([ln.text + ln.eol for ln in lines[size:]])
        return doc

    def _make(self, text: str, kind: LineKind, value: str | None = None, eol: str = "") -> Line:
        """A new line, re-read to prove it reads back as intended: the last guard against injection."""
        try:
            line = parse_line(text, eol or self.eol, 0)
        except ParseError as err:
            raise EditError(f"refusing to write {text!r}: {err.reason}") from None
        if line.kind is not kind or (value is not None and line.value != value):
            raise EditError(f"refusing to write {text!r}: it would not read back as written")
        return line

    def _values(self, key: str, value: FieldValue) -> list[str]:
        """The value of each line to write for `key`; [] deletes the key (an empty value means "none", and a
        `Key =` line would only say the same less clearly)."""
        if value is None:
            return []
        if isinstance(value, bool):
            return ["true" if value else "false"]
        if isinstance(value, int):
            return [str(value)]
        if isinstance(value, str):
            value = [value]
        items = [v for v in (clean_value(key, v) for v in value) if v]
        if key.lower() in LIST_KEYS:
            if len(items) > 1:
                return [self.list_separator.join(items)]
            return items  # one item needs no separator (nor the file read for its own)
        if key.lower() in HOOK_KEYS:
            return items
        if len(items) > 1:
            raise ValidationError(key, "takes a single value")
        return items

    def _set(self, sections: Sequence[Section], key: str, value: FieldValue) -> Document:
        """Set `key` over `sections`: the first line edited in place (key case, spacing, comment kept), the
        other lines with that key removed; a missing key added after the first section's last setting."""
        if not KEY_RE.match(key):
            raise EditError(f"{key!r} is not a key name")
        values = self._values(key, value)
        lowered = key.lower()
        hits = [f for s in sections for f in s.fields if f.key.lower() == lowered]
        if [f.value for f in hits] == values:
            return self  # already so: leave the lines (and their spacing) untouched
        changes: list[Change] = []
        if hits:
            first = self.lines[hits[0].line]
            new: list[Line] = []
            if values:
                parts = SettingParts.of(first.text)
                # The file's style matters only where the line had no value to copy the spacing from.
                text = parts.with_value(values[0], self.key_style if not parts.value else KeyStyle())
                new.append(self._make(text, LineKind.SETTING, values[0], first.eol))
                style = KeyStyle.of(first.text)
                new += [self._make(style.format(first.key, v), LineKind.SETTING, v) for v in values[1:]]
            changes.append((hits[0].line, hits[0].line + 1, new))
            changes += [(f.line, f.line + 1, []) for f in hits[1:]]
        elif values:
            section = sections[0]
            anchor = section.fields[-1].line if section.fields else section.header
            style = KeyStyle.of(self.lines[anchor].text) if section.fields else self.key_style
            name = canonical_key(key)
            lines = [self._make(style.format(name, v), LineKind.SETTING, v) for v in values]
            changes.append((anchor + 1, anchor + 1, lines))
        return self._splice(changes) if changes else self

    # -- peers --------------------------------------------------------------------------------------------

    def add_peer(
        self,
        public_key: str,
        *,
        allowed_ips: str | Sequence[str] = (),
        name: str | None = None,
        preshared_key: str | None = None,
        endpoint: str | None = None,
        persistent_keepalive: int | str | None = None,
        naming: NameStyle | None = None,
        comments: Sequence[str] = (),
    ) -> Document:
        """Append one [Peer] block after the last non-blank line, one blank line before it.

        Written in the file's dominant line ending, `key = value` spacing, list separator and naming
        convention (or `naming`). Empty allowed_ips writes no AllowedIPs line (staged key rotation).
        `comments` (each starting with '#') go inside the block, after the header and its name: wgtui's own
        marks, which every naming convention's tool then removes together with the block.
        Values are only checked for safety here; validate them with `wgtui.conf.validate` first."""
        key = clean_value("public_key", public_key)
        if not key:
            raise ValidationError("public_key", "must not be empty", "Public key")
        if self.find_peer(key) is not None:
            raise DuplicatePeer(key)
        block = self._peer_block(key, allowed_ips, name, preshared_key, endpoint, persistent_keepalive,
                                 (naming or self.naming).normalized(), comments)
        at = self._append_at()
        separator = [self._make("", LineKind.BLANK)] if at else []
        return self._splice([(at, at, separator + block)])

    def add_peers(self, peers: Sequence[Mapping[str, Any]]) -> Document:
        """`add_peer` of each item (its keyword arguments), in order, as one edit: the same document as adding them
        one at a time, and the same error for the first item add_peer refuses, but one splice (a batch of 1,000
        into a 2,000-peer file does not re-read the file 1,000 times)."""
        if not peers:
            return self
        styles = self._naming_counts()
        added: set[str] = set()
        at = self._append_at()
        new: list[Line] = []
        for spec in peers:
            options = dict(spec)
            key = clean_value("public_key", options.pop("public_key"))
            if not key:
                raise ValidationError("public_key", "must not be empty", "Public key")
            if key.strip() in added or self.find_peer(key) is not None:
                raise DuplicatePeer(key)
            naming = options.pop("naming", None)
            # The file's naming as it would be after the peers before this one (add_peer asks the document).
            style = (naming or dominant_naming(styles)).normalized()
            block = self._peer_block(key, options.pop("allowed_ips", ()), options.pop("name", None),
                                     options.pop("preshared_key", None), options.pop("endpoint", None),
                                     options.pop("persistent_keepalive", None), style, options.pop("comments", ()))
            if options:
                raise TypeError(f"add_peer() got unexpected keyword arguments: {', '.join(options)}")
            if at or new:
                new.append(self._make("", LineKind.BLANK))
            new += block
            added.add(key)
            written = BaseDocument(block).peers[0].naming  # the block's own naming, read back as add_peer's would be
            if written is not None:
                styles[written] += 1
        return self._splice([(at, at, new)])

    def _append_at(self) -> int:
        """Where a new block goes: after the last line that is not blank."""
        lines = self.lines
        return next((i + 1 for i in range(len(lines) - 1, -1, -1) if lines[i].kind is not LineKind.BLANK), 0)

    def _peer_block(self, key: str, allowed_ips: str | Sequence[str], name: str | None, preshared_key: str | None,
                    endpoint: str | None, persistent_keepalive: int | str | None, style: NameStyle,
                    comments: Sequence[str]) -> list[Line]:
        """The lines of a new [Peer] block (add_peer's), in `style`, without the blank line before it."""
        marks = format_marks(style.convention, validate_name(name, style.convention)) if name else []
        ks = self.key_style
        settings = [("PublicKey", key)]
        if preshared_key:
            settings.append(("PresharedKey", clean_value("preshared_key", preshared_key)))
        settings += [("AllowedIPs", v) for v in self._values("AllowedIPs", allowed_ips)]
        if endpoint:
            settings.append(("Endpoint", clean_value("endpoint", endpoint)))
        if persistent_keepalive is not None:
            keepalive = clean_value("persistent_keepalive", str(persistent_keepalive))
            settings.append(("PersistentKeepalive", keepalive))

        block: list[Line] = []
        header = "[Peer]"
        if marks and style.placement is Placement.HEADER:
            header += " " + marks[0]
        if marks and style.placement is Placement.ABOVE:
            block.append(self._make(marks[0], LineKind.COMMENT))
        block.append(self._make(header, LineKind.SECTION))
        if marks and style.placement is Placement.INSIDE:
            block.append(self._make(ks.indent + marks[0], LineKind.COMMENT))
        for comment in comments:
            if not comment.startswith("#") or unsafe_char(comment[1:].replace("#", "")) is not None:
                raise EditError(f"refusing to write the comment {comment!r}")
            block.append(self._make(ks.indent + comment, LineKind.COMMENT))
        block += [self._make(ks.format(k, v), LineKind.SETTING, v) for k, v in settings]
        if len(marks) > 1:
            block.append(self._make(marks[1], LineKind.COMMENT))
        return block

    def remove_peer(self, public_key: str) -> Document:
        """Remove the peer's block (header, settings and the comments that belong to it) and one blank
        separator line: the one before it when it is the last block or sits between two blank lines, the one
        after it when nothing precedes it. Everything else stays byte for byte."""
        section = self.peer(public_key).section
        lines = self.lines
        start, end = section.start, section.end
        content_before = any(ln.kind is not LineKind.BLANK for ln in lines[:start])
        content_after = any(ln.kind is not LineKind.BLANK for ln in lines[end:])
        blank_before = start > 0 and lines[start - 1].kind is LineKind.BLANK
        blank_after = end < len(lines) and lines[end].kind is LineKind.BLANK
        if blank_before and (blank_after or not content_after):
            start -= 1
        elif blank_after and content_after and not content_before:
            end += 1
        return self._splice([(start, end, [])])

    def set_peer_field(self, public_key: str, key: str, value: FieldValue) -> Document:
        """Set (None: delete) one setting of a peer, e.g. ("PersistentKeepalive", 25).

        An existing line keeps its key's case, spacing and end-of-line comment; repeated lines (several
        AllowedIPs) become one, in place of the first. A new line goes after the block's last setting."""
        if key.lower() == "publickey":
            raise EditError("a peer's public key is changed with replace_public_key")
        return self._set([self.peer(public_key).section], key, value)

    def set_interface_field(self, key: str, value: FieldValue) -> Document:
        """Set (None: delete) one [Interface] setting, e.g. ("SaveConfig", False); like set_peer_field."""
        sections = self.interface.sections if self.interface is not None else ()
        if not sections:
            if value is None:
                return self
            raise EditError("this file has no [Interface] section")
        return self._set(sections, key, value)

    def replace_public_key(self, old: str, new: str) -> Document:
        """Give a peer a new public key in place (key rotation): its block, name and settings stay."""
        section = self.peer(old).section
        key = clean_value("public_key", new)
        if not key:
            raise ValidationError("public_key", "must not be empty", "Public key")
        if key == old.strip():
            return self
        if self.find_peer(key) is not None:
            raise DuplicatePeer(key)
        return self._set([section], "PublicKey", key)

    def set_peer_meta(self, public_key: str, updates: Mapping[str, str | None]) -> Document:
        """Merge `updates` into the block's `# wgtui: …` comment (None removes an item; no items left removes the
        line). A new comment goes right below the header and the name comment that sits there."""
        from .meta import format_meta, meta_line, parse_meta

        section = self.peer(public_key).section
        at = meta_line(self, public_key)
        current = parse_meta(self.lines[at].comment) if at is not None else {}
        merged = dict(current or {})
        for key, value in updates.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        if merged == current:
            return self
        if at is not None:
            line = self.lines[at]
            new = [self._make(line.text[: line.comment_start] + format_meta(merged), LineKind.COMMENT,
                              eol=line.eol)] if merged else []
            return self._splice([(at, at + 1, new)])
        if not merged:
            return self
        pos = section.header + 1
        names = {m.line for m in self.peer(public_key).marks}
        while pos < section.end and pos in names and self.lines[pos].kind is LineKind.COMMENT:
            pos += 1
        return self._splice([(pos, pos, [self._make(self.key_style.indent + format_meta(merged), LineKind.COMMENT)])])

    def rename_peer(
        self, public_key: str, name: str | None, naming: NameStyle | None = None
    ) -> Document:
        """Rename a peer in every name comment it has (both Nyr markers), keeping each line's convention
        and layout; a peer without one gets one in the file's convention (or `naming`). None removes the
        name comments."""
        peer = self.peer(public_key)
        section = peer.section
        if peer.marks:
            if name is not None:
                for convention in {m.convention for m in peer.marks}:
                    name = validate_name(name, convention)
            changes: list[Change] = []
            for mark in peer.marks:
                line = self.lines[mark.line]
                try:
                    text = renamed(line.text, mark, name)
                except ValueError as err:
                    raise EditError(f"cannot rename the peer named on line {mark.line + 1}: {err}") from None
                if text is None and mark.line == section.header:
                    text = line.text[: line.comment_start].rstrip(WS)
                kind = LineKind.SECTION if mark.line == section.header else LineKind.COMMENT
                new = [] if text is None else [self._make(text, kind, eol=line.eol)]
                changes.append((mark.line, mark.line + 1, new))
            return self._splice(changes)
        if name is None:
            return self
        style = (naming or self.naming).normalized()
        marks = format_marks(style.convention, validate_name(name, style.convention))
        header = self.lines[section.header]
        h = section.header
        if style.placement is Placement.HEADER and header.comment_start < 0:
            text = header.text.rstrip(WS) + " " + marks[0]
            return self._splice([(h, h + 1, [self._make(text, LineKind.SECTION, eol=header.eol)])])
        if style.placement is Placement.ABOVE:
            if style.convention in PAIRED:
                return self._splice(
                    [
                        (section.start, section.start, [self._make(marks[0], LineKind.COMMENT)]),
                        (section.end, section.end, [self._make(marks[1], LineKind.COMMENT)]),
                    ]
                )
            return self._splice([(h, h, [self._make(marks[0], LineKind.COMMENT)])])
        indent = self.key_style.indent
        return self._splice([(h + 1, h + 1, [self._make(indent + marks[0], LineKind.COMMENT)])])
