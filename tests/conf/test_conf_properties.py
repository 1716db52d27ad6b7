"""Provides hypothesis properties: round trips, add-then-remove, renames and field edits touch only their lines."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from wgtui.conf import Convention, Document, LineKind, NameStyle, ParseError, Placement

from .helpers import changed_lines
from .strategies import Generated, cidr_lists, documents, endpoints, names, public_keys

# WGTUI_HYPOTHESIS_EXAMPLES=5000 for a long soak run.
EXAMPLES = int(os.environ.get("WGTUI_HYPOTHESIS_EXAMPLES", "200"))
PROPS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
styles = st.builds(NameStyle, st.sampled_from(list(Convention)), st.sampled_from(list(Placement)))


def same_except_last_eol(a: list[tuple[str, str]], b: list[tuple[str, str]]) -> bool:
    """Equal line lists, except that the ending of the last line may differ (it stops or starts being last)."""
    if len(a) != len(b):
        return False
    return a[:-1] == b[:-1] and (not a or a[-1][0] == b[-1][0])


@PROPS
@given(documents())
def test_round_trip(gen: Generated) -> None:
    doc = Document.parse(gen.text)
    assert doc.render() == gen.text
    assert Document.from_bytes(gen.text.encode()).to_bytes() == gen.text.encode()
    assert [p.public_key for p in doc.peers] == list(gen.keys)


@PROPS
@given(
    documents(),
    public_keys,
    st.one_of(st.none(), names),
    st.one_of(st.none(), styles),
    st.lists(cidr_lists, max_size=2),
    st.one_of(st.none(), endpoints),
    st.one_of(st.none(), st.integers(0, 65535)),
)
def test_add_then_remove_gives_back_the_original(
    gen: Generated,
    key: str,
    name: str | None,
    style: NameStyle | None,
    ips: list[str],
    endpoint: str | None,
    keepalive: int | None,
) -> None:
    assume(key not in gen.keys)
    doc = Document.parse(gen.text)
    added = doc.add_peer(
        key, allowed_ips=ips, name=name, naming=style, endpoint=endpoint, persistent_keepalive=keepalive
    )
    peer = added.peer(key)
    assert peer.name == name
    assert peer.endpoint == endpoint and peer.persistent_keepalive == keepalive
    assert peer.allowed_ips == tuple(i.strip() for v in ips for i in v.split(","))
    assert added.render().endswith("\n") == (gen.text.endswith("\n") or not gen.text)
    assert [p.public_key for p in added.peers] == [*gen.keys, key]
    assert added.remove_peer(key).render() == gen.text


@PROPS
@given(documents(), st.data())
def test_rename_touches_only_name_lines(gen: Generated, data: st.DataObject) -> None:
    assume(gen.keys)
    doc = Document.parse(gen.text)
    peer = doc.peers[data.draw(st.integers(0, len(gen.keys) - 1))]
    new_name = data.draw(names)
    after = doc.rename_peer(peer.public_key or "", new_name)
    assert after.peer(peer.public_key or "").name == new_name
    assert [p.public_key for p in after.peers] == list(gen.keys)
    if peer.marks:
        assert set(changed_lines(doc, after)) <= {m.line for m in peer.marks}
    else:
        new_marks = {m.line for m in after.peer(peer.public_key or "").marks}
        kept = [(ln.text, ln.eol) for i, ln in enumerate(after.lines) if i not in new_marks]
        if new_marks == {after.peer(peer.public_key or "").section.header}:  # written on the header line
            assert len(after.lines) == len(doc.lines)
        else:
            assert same_except_last_eol(kept, [(ln.text, ln.eol) for ln in doc.lines])
    for other in doc.peers:
        if other.public_key != peer.public_key:
            assert after.peer(other.public_key or "").name == other.name


_field_values = st.one_of(st.integers(0, 65535).map(str), cidr_lists, endpoints)


@PROPS
@given(documents(), st.data())
def test_set_field_changes_only_its_lines(gen: Generated, data: st.DataObject) -> None:
    assume(gen.keys)
    doc = Document.parse(gen.text)
    peer = doc.peers[data.draw(st.integers(0, len(gen.keys) - 1))]
    key = data.draw(st.sampled_from(["PersistentKeepalive", "Endpoint", "AllowedIPs", "DNS", "Jc"]))
    value = data.draw(_field_values)
    hits = [f for f in peer.section.fields if f.key.lower() == key.lower()]
    after = doc.set_peer_field(peer.public_key or "", key, value)
    assert after.peer(peer.public_key or "").section.values(key) == (value,)
    if [f.value for f in hits] == [value]:
        assert after == doc
    elif len(hits) == 1:
        assert changed_lines(doc, after) == [hits[0].line]
        assert after.lines[hits[0].line].key == doc.lines[hits[0].line].key
    elif not hits:
        inserted = (peer.section.fields[-1].line if peer.section.fields else peer.section.header) + 1
        kept = [(ln.text, ln.eol) for i, ln in enumerate(after.lines) if i != inserted]
        assert after.lines[inserted].kind is LineKind.SETTING
        assert same_except_last_eol(kept, [(ln.text, ln.eol) for ln in doc.lines])
    else:
        removed = {f.line for f in hits[1:]}
        kept = [(ln.text, ln.eol) for i, ln in enumerate(doc.lines) if i not in removed]
        edited = hits[0].line - sum(1 for i in removed if i < hits[0].line)
        assert [i for i, (a, b) in enumerate(zip(kept, after.lines, strict=False)) if a != (b.text, b.eol)] in (
            [edited],
            [edited, len(kept) - 1],
        )
    back = after.set_peer_field(peer.public_key or "", key, None)
    assert back.peer(peer.public_key or "").section.values(key) == ()


@PROPS
@given(documents(), st.data())
def test_garbage_line_is_refused_with_its_number(gen: Generated, data: st.DataObject) -> None:
    lines = gen.text.split("\n")
    at = data.draw(st.integers(0, len(lines)))
    tail = st.text(st.sampled_from("aZ09 .:/-"), max_size=20)
    garbage = data.draw(st.builds(str.__add__, st.sampled_from("aZx"), tail))
    text = "\n".join([*lines[:at], garbage, *lines[at:]])
    try:
        Document.parse(text)
    except ParseError as err:
        assert err.line == at + 1
        assert err.reason == "this line is neither a comment, a [Section] header nor a 'Key = value' setting"
    else:
        raise AssertionError("garbage accepted")


@PROPS
@given(documents(), st.data())
def test_invalid_utf8_is_refused_on_its_line(gen: Generated, data: st.DataObject) -> None:
    raw = gen.text.encode()
    cut = data.draw(st.integers(0, len(raw)))
    while cut < len(raw) and (raw[cut] & 0xC0) == 0x80:
        cut += 1  # not inside a multi-byte character
    bad = data.draw(st.sampled_from([b"\xff", b"\xc3(", b"\xed\xa0\x80", b"\xe2\x82"]))
    try:
        Document.from_bytes(raw[:cut] + bad + raw[cut:])
    except ParseError as err:
        assert err.line == raw[:cut].count(b"\n") + 1
        assert err.reason.startswith(f"the file is not valid UTF-8: byte 0x{bad[0]:02x} at byte offset {cut}")
    else:
        raise AssertionError("invalid UTF-8 accepted")


@PROPS
@given(documents(), st.data())
def test_setting_before_any_section_is_refused_with_its_number(gen: Generated, data: st.DataObject) -> None:
    lines = list(gen.lines)
    at = data.draw(st.integers(0, gen.first_header))
    text = "\n".join([*lines[:at], "ListenPort = 51820", *lines[at:]])
    try:
        Document.parse(text)
    except ParseError as err:
        assert err.line == at + 1
    else:
        raise AssertionError("setting before any section accepted")
