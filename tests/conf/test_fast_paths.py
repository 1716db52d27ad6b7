"""Provides proofs that every fast path of wgtui.conf gives exactly what the plain code gives: lines, sections, peers,
names, the file's style, checks, diffs, CIDRs, keys, stamps, batch adds (reference code in tests/conf/reference.py)."""

from __future__ import annotations

import base64
import ipaddress
import os
import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wgtui import ipalloc
from wgtui.changes.plan import SECRETS, _spills, mask_secrets
from wgtui.conf import Convention, Document, NameStyle, ParseError, Placement
from wgtui.conf import check as check_module
from wgtui.conf import rules as rules_module
from wgtui.conf.check import _FAST_KEY, _KEYS_BLOCK, check_and_parse, check_bytes, errors
from wgtui.conf.diff import unified_diff, unified_diff_slow
from wgtui.conf.disabled import _disabled_lines, _runs
from wgtui.conf.errors import ConfError, ValidationError
from wgtui.conf.lines import (
    Line,
    _classify,
    detect_eol,
    detect_key_style,
    detect_list_separator,
    parse_line,
    parse_lines,
    parse_text,
    split_lines,
)
from wgtui.conf.meta import _all_meta_from, _meta_lines, all_meta, parse_stamp, parse_stamp_slow, stamp
from wgtui.conf.names import is_end_marker, scan, scan_slow
from wgtui.conf.rules import _key_problem_slow
from wgtui.conf.validate import validate_cidr, validate_cidr_slow

from . import reference
from .helpers import corpus_files
from .strategies import Generated, cidr_lists, comment_lines, documents, names, public_keys

EXAMPLES = int(os.environ.get("WGTUI_HYPOTHESIS_EXAMPLES", "200"))
PROPS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CORPUS = [path.read_bytes().decode("utf-8") for path in corpus_files()]

# Lines of any shape: the generated files' own, and raw text (controls, '#', '=', '[', unicode spaces, "\r").
_chars = st.characters(codec="utf-8", exclude_characters="\n")
raw_lines = st.one_of(st.text(_chars, max_size=40),
                      st.text(st.sampled_from(" \t\r\x0b\x0c\xa0#=[]aZ09_.-:,/+ \u2028"), max_size=30))


def _outcome(fn, *args):  # type: ignore[no-untyped-def]
    """What a call gives: its value, or the ParseError's line and reason."""
    try:
        return ("ok", fn(*args))
    except ParseError as err:
        return ("error", err.line, err.reason)


# -- lines ----------------------------------------------------------------------------------------------------


@PROPS
@given(st.lists(st.one_of(raw_lines, comment_lines), max_size=12), st.lists(st.sampled_from(["\n", "\r\n", "\r"])))
def test_split_and_parse_equal_the_plain_code(lines: list[str], eols: list[str]) -> None:
    text = "".join(line + (eols[i] if i < len(eols) else "\n") for i, line in enumerate(lines))
    for variant in (text, text.rstrip("\n")):
        assert split_lines(variant) == reference.split_lines(variant)
        pairs = reference.split_lines(variant)
        expected = _outcome(lambda p: [parse_line(t, e, i + 1) for i, (t, e) in enumerate(p)], pairs)
        assert _outcome(parse_text, variant) == expected
        assert _outcome(parse_lines, pairs) == expected


_ODD_LINES = ["Key = a\xa0", "Key =\xa0a", "\xa0Key = a", "Key = a \x1c", "Key\t=\tv\t# c", "K.e-y_1=v#c", "Key = #",
              "Key=", " [Peer] # x", "[peer]", "[Peers]", "[Peer]\xa0", "\t# c", "#", "  ", "\x0b", "Key = a\u2028b",
              "Key = a = b", "1Key = a", "Key = \r", "Key = a\r"]


@settings(max_examples=max(EXAMPLES, 2000), deadline=None)
@given(st.one_of(raw_lines, st.sampled_from(_ODD_LINES)), st.sampled_from(["\n", "\r\n", ""]))
def test_each_fast_shape_reads_as_parse_line_reads_it(text: str, eol: str) -> None:
    assert _outcome(_classify, text, eol, 7) == _outcome(parse_line, text, eol, 7)
    assert _outcome(parse_text, text + eol) == _outcome(_plain_parse, text + eol)


def _plain_parse(text: str) -> list[Line]:
    return [parse_line(t, e, i + 1) for i, (t, e) in enumerate(reference.split_lines(text))]


@pytest.mark.parametrize("text", _ODD_LINES)
def test_odd_lines_read_as_parse_line_reads_them(text: str) -> None:
    for eol in ("\n", "\r\n", ""):
        assert _outcome(_classify, text, eol, 3) == _outcome(parse_line, text, eol, 3)
        assert _outcome(parse_text, text + eol) == _outcome(_plain_parse, text + eol)


# -- structure: sections, peers, names, style -------------------------------------------------------------------


def _same_structure(text: str) -> None:
    try:
        lines = reference.parse(text)
    except ParseError as err:
        with pytest.raises(ParseError) as caught:
            Document.parse(text)
        assert (caught.value.line, caught.value.reason) == (err.line, err.reason)
        return
    doc = Document.parse(text)
    assert list(doc.lines) == lines
    assert doc.sections == reference.sections(lines)
    views = reference.peers(lines)
    assert doc.peers == views
    assert doc.naming == reference.naming(views)
    assert doc.conventions() == reference.conventions(views)
    assert doc.eol == reference.eol(lines) == detect_eol(lines)
    assert doc.key_style == detect_key_style(lines)
    assert doc.list_separator == detect_list_separator(lines)
    assert doc.names == {p.public_key: p.name for p in views if p.public_key and p.name}
    for view in views:
        if view.public_key:
            found = reference.find_peer(views, view.public_key)
            if len(found) > 1:
                with pytest.raises(ConfError):
                    doc.find_peer(view.public_key)
            else:
                assert doc.find_peer(view.public_key) == found[0]
    assert _runs(doc.lines, _disabled_lines(doc)) == reference.disabled_runs(lines)
    assert all_meta(doc) == reference.all_meta(doc)


@PROPS
@given(documents())
def test_structure_equals_the_plain_code(gen: Generated) -> None:
    _same_structure(gen.text)


@PROPS
@given(documents(), st.lists(st.tuples(st.integers(0, 60), st.one_of(raw_lines, comment_lines)), max_size=4))
def test_structure_equals_the_plain_code_with_odd_lines(gen: Generated, inserts: list[tuple[int, str]]) -> None:
    lines = gen.text.split("\n")
    for at, line in inserts:
        lines.insert(at % (len(lines) + 1), line)
    _same_structure("\n".join(lines))


@pytest.mark.parametrize("text", CORPUS, ids=[p.name for p in corpus_files()])
def test_structure_of_the_corpus_equals_the_plain_code(text: str) -> None:
    _same_structure(text)


def test_an_edited_document_keeps_its_style_and_structure() -> None:
    """Documents made by edits (not by a parse) take the plain paths where the text could mislead a regex."""
    for text in CORPUS:
        doc = Document.parse(text)
        for text_variant in (text, text.rstrip("\r\n"), text + "\n"):
            appended = Document.parse(text_variant).add_peer(base64.b64encode(bytes(32)).decode(), name="z")
            appended = appended.add_peer(base64.b64encode(bytes(31) + b"1").decode(), allowed_ips=["10.9.0.1/32"])
            assert appended.render() == appended.bom + "".join(ln.raw for ln in appended.lines)
        for peer in doc.peers[:2]:
            if peer.public_key:
                edited = doc.set_peer_field(peer.public_key, "PersistentKeepalive", 21)
                lines = list(edited.lines)
                assert edited.sections == reference.sections(lines)
                assert edited.peers == reference.peers(lines)
                assert edited.key_style == detect_key_style(lines)
                assert edited.list_separator == detect_list_separator(lines)
                assert edited.eol == detect_eol(lines)
                assert edited.render() == edited.bom + "".join(ln.raw for ln in lines)


_name_comments = st.one_of(
    comment_lines,
    st.builds(lambda n: f"### end {n} ###", names), st.builds(lambda n: f"### begin {n} ###", names),
    st.builds(lambda n: f"#[disabled] # END_PEER {n}", names),
    st.builds(lambda n: f"#[disabled]### end {n} ###", names),
    st.builds(lambda n: f"# Client: {n} (0123abcd-ef)", names), st.builds(lambda n: f"# friendly_json = {n}", names),
    st.builds(lambda t: f"#{t}", st.text(_chars, max_size=30)),
)


@PROPS
@given(_name_comments, st.integers(0, 5), st.integers(0, 99))
def test_name_scan_equals_one_pattern_at_a_time(comment: str, offset: int, line: int) -> None:
    assert scan(comment, offset, line) == scan_slow(comment, offset, line)
    assert is_end_marker(comment) == reference.is_end_marker(comment)


# -- large files: the same for thousands of peers -------------------------------------------------------------


def _big(rng: random.Random, n: int, convention: int) -> str:
    out = ["[Interface]", "PrivateKey = " + _key(rng), "Address = 10.0.0.1/16, fd00::1/64", ""]
    for i in range(n):
        out += [[f"# friendly_name = p{i}", f"### Client p{i}", f"# BEGIN_PEER p{i}", "# Name: x"][convention],
                "[Peer]", f"PublicKey = {_key(rng)}"]
        if rng.random() < 0.3:
            out.append(f"PresharedKey = {_key(rng)}")
        out.append(f"AllowedIPs = 10.0.{i // 250}.{i % 250 + 2}/32" + (f", fd00::{i + 2:x}/128" if i % 3 else ""))
        if rng.random() < 0.3:
            out.append("PersistentKeepalive = 25")
        if convention == 2:
            out.append(f"# END_PEER p{i}")
        out.append("")
    return rng.choice(["\n", "\r\n"]).join(out)


def _key(rng: random.Random) -> str:
    return base64.b64encode(rng.randbytes(32)).decode()


def test_structure_of_large_files_equals_the_plain_code() -> None:
    rng = random.Random(11)
    for convention in range(4):
        _same_structure(_big(rng, 700, convention))


# -- the check ---------------------------------------------------------------------------------------------------


def _slow_check(data: bytes, monkeypatch: pytest.MonkeyPatch, **kwargs: str) -> list[check_module.Finding]:
    """check_bytes with the batch regexes made to find nothing: every value checked alone, every peer looped over."""
    with monkeypatch.context() as patch:
        never = re.compile(r"(?!)")
        patch.setattr(check_module, "_KEYS_BLOCK", never)
        patch.setattr(check_module, "_ips_block", lambda: never)
        patch.setattr(check_module, "_FAST_KEY", never)
        patch.setattr(rules_module, "_FAST_KEY", never)
        patch.setattr(rules_module, "fast_prefix_cached", lambda text: None)
        patch.setattr(check_module, "ipv4_hosts", lambda lines, count: None)
        patch.setattr(check_module, "validate_cidr", validate_cidr_slow)
        patch.setattr(rules_module, "validate_cidr", validate_cidr_slow)
        return check_bytes(data, **kwargs)


_bad_lines = st.sampled_from([
    "PublicKey = notakey", "PublicKey =", "PresharedKey = AAAA", "AllowedIPs = 10.0.0.300/32",
    "AllowedIPs = 10.0.0.1/33",
    "AllowedIPs = 10.0.0.1/32,,10.0.0.2/32", "AllowedIPs = fd00::1::2/64", "AllowedIPs = 10.0.0.1 /32",
    "AllowedIPs = 010.0.0.1/32", "AllowedIPs = +10.0.0.0/24, -10.0.0.9", "AllowedIPs = 10.0.0.2/32", "PrivateKey = x",
    "Endpoint = host", "PersistentKeepalive = 70000", "ListenPort = 0", "Jc = 4", "AllowedIPs = ::ffff:1.2.3.4/128",
    "AllowedIPs = 10.0.0.2/032", "AllowedIPs = FD00::1/128", "PublicKey = " + base64.b64encode(bytes(32)).decode(),
])


@PROPS
@given(documents(), st.lists(st.tuples(st.integers(0, 60), _bad_lines), max_size=3), st.data())
def test_check_equals_the_value_by_value_check(gen: Generated, inserts: list[tuple[int, str]],
                                               data: st.DataObject) -> None:
    lines = gen.text.split("\n")
    for at, line in inserts:
        lines.insert(at % (len(lines) + 1), line)
    raw = "\n".join(lines).encode()
    running = data.draw(st.one_of(st.none(), public_keys, st.sampled_from(gen.keys or ("",))))
    kwargs = {"interface_public_key": running} if running else {}
    with pytest.MonkeyPatch.context() as patch:
        slow = _slow_check(raw, patch, **kwargs)
    assert check_bytes(raw, **kwargs) == slow
    assert check_and_parse(raw, errors_only=True, **kwargs)[0] == errors(slow)


def test_check_of_large_files_and_the_corpus_equals_the_value_by_value_check(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(5)
    texts = [*CORPUS, _big(rng, 600, 0), _big(rng, 300, 2)]
    duplicate = _big(rng, 300, 1)
    key = duplicate.split("PublicKey = ")[5].split("\n")[0].split("\r")[0]
    texts.append(duplicate + f"\n[Peer]\nPublicKey = {key}\nAllowedIPs = 10.9.0.1/32\n")
    for text in texts:
        raw = text.encode()
        slow = _slow_check(raw, monkeypatch)
        assert check_bytes(raw) == slow
        assert check_and_parse(raw, errors_only=True)[0] == errors(slow)


def test_a_well_formed_key_is_exactly_what_the_decoder_accepts() -> None:
    rng = random.Random(3)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    for last in alphabet:
        for _ in range(20):
            key = "".join(rng.choice(alphabet) for _ in range(42)) + last + "="
            assert (_FAST_KEY.match(key) is not None) == (_key_problem_slow(key) is None), key
            assert (_KEYS_BLOCK.fullmatch(f"{key}\n{key}") is not None) == (_key_problem_slow(key) is None)
    for text in ["", "=", "a" * 44, "A" * 43 + "=", "A" * 42 + "A==", " " + "A" * 43 + "=", "A" * 43 + "=\n"]:
        assert (_FAST_KEY.match(text) is not None) <= (_key_problem_slow(text) is None)


# -- CIDRs ---------------------------------------------------------------------------------------------------------

_v4 = st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 32), st.booleans()).map(
    lambda t: f"{ipaddress.IPv4Address(t[0])}" + (f"/{t[1]}" if t[2] else ""))
_v6_value = st.one_of(st.integers(0, 2**128 - 1), st.integers(0, 2**32 - 1).map(lambda v: (0xFFFF << 32) | v),
                      st.lists(st.sampled_from([0, 0, 1, 0xFFFF, 0xABCD]), min_size=8, max_size=8).map(
                          lambda g: int("".join(f"{x:04x}" for x in g), 16)))
_v6_forms = st.sampled_from(["compressed", "exploded", "upper"])
_v6 = st.tuples(_v6_value, st.integers(0, 128), st.booleans(), _v6_forms).map(
    lambda t: {"compressed": ipaddress.IPv6Address(t[0]).compressed, "exploded": ipaddress.IPv6Address(t[0]).exploded,
               "upper": ipaddress.IPv6Address(t[0]).compressed.upper()}[t[3]] + (f"/{t[1]}" if t[2] else ""))
_odd = st.text(st.sampled_from("0123456789abcdefABCDEF:./% -+x\u0660"), max_size=24)
cidrs = st.one_of(_v4, _v6, _odd, _v4.map(lambda s: "0" + s), _v6.map(lambda s: s + ":"), _v4.map(lambda s: s + "0"))


@settings(max_examples=max(EXAMPLES, 2000), deadline=None)
@given(cidrs)
def test_cidr_fast_path_equals_ipaddress(text: str) -> None:
    def outcome(fn):  # type: ignore[no-untyped-def]
        try:
            return fn(text)
        except ValidationError as err:
            return ("refused", err.message)

    assert outcome(validate_cidr) == outcome(validate_cidr_slow)
    fast = ipalloc.fast_prefix(text)
    assert (re.fullmatch(ipalloc.CIDR_PATTERN, text) is not None) == (fast is not None)
    if fast is not None:
        net = ipaddress.ip_network(text, strict=False)
        assert fast == (net.version, int(net.network_address), net.prefixlen)
        assert ipalloc.format_prefix(fast) == str(net)
        assert ipalloc.to_network(fast) == net
    try:
        net = ipalloc.network(text)
    except ValueError:
        with pytest.raises(ValueError):
            ipalloc.prefix_of(text)
    else:
        assert ipalloc.prefix_of(text) == (net.version, int(net.network_address), net.prefixlen)


# -- diffs ---------------------------------------------------------------------------------------------------------


def _edits(rng: random.Random, doc: Document, count: int) -> Document:
    new = doc
    for _ in range(count):
        peer = rng.choice(new.peers)
        op = rng.randrange(7)
        if op == 0:
            new = new.remove_peer(peer.public_key or "")
        elif op == 1:
            new = new.add_peer(_key(rng), allowed_ips=["10.9.0.1/32"], name=f"z{rng.randrange(999)}",
                               preshared_key=rng.choice([None, _key(rng)]))
        elif op == 2:
            new = new.set_peer_field(peer.public_key or "", "AllowedIPs", ["10.9.9.9/32"])
        elif op == 3:
            new = new.rename_peer(peer.public_key or "", "renamed")
        elif op == 4:
            new = new.set_peer_field(peer.public_key or "", "PersistentKeepalive", rng.choice([None, 25, 33]))
        elif op == 5:
            new = new.set_peer_field(peer.public_key or "", "PresharedKey", rng.choice([None, _key(rng)]))
        else:
            new = new.replace_public_key(peer.public_key or "", _key(rng))
    return new


def test_diffs_of_large_files_equal_difflib_over_every_line() -> None:
    """One change or several, near the start or the end, with popular lines around it: difflib's very patch."""
    rng = random.Random(2)
    for trial in range(60):
        text = _big(rng, rng.choice([40, 60, 120, 250]), rng.randrange(4))
        if trial % 5 == 0:
            text = text.rstrip("\r\n")
        if trial % 7 == 0:
            text = text.replace("AllowedIPs = 10.0.0.5/32", "PresharedKey =\nAllowedIPs = 10.0.0.5/32")
        doc = Document.parse(text)
        new = _edits(rng, doc, 1 if trial % 3 else rng.randrange(2, 4))
        before, after = doc.render(), new.render()
        assert unified_diff(before, after, "f", "f") == unified_diff_slow(before, after, "f", "f")
        assert unified_diff(before, after, "f", "f", mask=SECRETS) == unified_diff_slow(
            mask_secrets(before), mask_secrets(after), "f", "f")


@PROPS
@given(st.lists(st.sampled_from(["a", "b", "c", "", "[Peer]", "PresharedKey = x", "d\r"]), min_size=190, max_size=260),
       st.lists(st.tuples(st.integers(0, 260), st.integers(0, 4), st.lists(st.sampled_from(["a", "e", "", "f"]),
                                                                             max_size=4)), min_size=1, max_size=3),
       st.booleans())
def test_diffs_of_repetitive_texts_equal_difflib_over_every_line(
    lines: list[str], changes: list[tuple[int, int, list[str]]], bare: bool
) -> None:
    new = list(lines)
    for at, length, insert in changes:
        new[at:at + length] = insert
    before = "\n".join(lines) + ("" if bare else "\n")
    after = "\n".join(new) + "\n"
    assert unified_diff(before, after) == unified_diff_slow(before, after)


@PROPS
@given(st.lists(st.sampled_from(["PresharedKey =", "PresharedKey = a", "privatekey=  ", "PRIVATEKEY", "x", "",
                                 "  PreſharedKey = \u212a", "PublicKey = b", "\u0130", "pReSharedKey\t=\t"]),
                max_size=8))
def test_line_by_line_masking_is_used_only_where_it_equals_whole_text_masking(lines: list[str]) -> None:
    text = "\n".join(lines) + "\n"
    whole = [t + e for t, e in reference.split_lines(mask_secrets(text))]
    by_line = [SECRETS.line(t + e) for t, e in reference.split_lines(text)]
    spill = re.search(r"^\s*(?:PrivateKey|PresharedKey)[^\S\n]*(?:=[^\S\n]*)?\n", text, re.I | re.M)
    assert _spills(text) == (spill is not None)
    if not _spills(text):
        assert whole == by_line


# -- stamps, metadata, batch adds ---------------------------------------------------------------------------------


@settings(max_examples=max(EXAMPLES, 1000), deadline=None)
@given(st.one_of(
    st.tuples(*(st.integers(0, m) for m in (9999, 14, 33, 25, 61, 62))).map(
        lambda t: "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}Z".format(*t)),
    st.integers(-2**40, 2**40).map(lambda s: stamp(s) if -62135596800 <= s < 253402300800 else "x"),
    st.text(st.sampled_from("0123456789-T:Z \u0661"), max_size=22)))
def test_stamp_fast_path_equals_strptime(text: str) -> None:
    assert parse_stamp(text) == parse_stamp_slow(text)


def test_metadata_of_a_large_file_equals_the_loop() -> None:
    rng = random.Random(8)
    lines = _big(rng, 300, 0).split("\n")
    for i in range(len(lines) - 1, 0, -1):
        if lines[i] == "[Peer]" and i % 3:
            lines.insert(i + 1, f"# wgtui: key-created=2026-01-0{i % 9 + 1}T00:00:00Z")
        if lines[i] == "[Peer]" and i % 11 == 0:
            lines.insert(i + 2, "  #   wgtui:   replaces=abc since=2026-01-01T00:00:00Z")
    doc = Document.parse("\n".join(lines))
    found = _meta_lines(doc)
    assert found is not None
    assert _all_meta_from(doc, found) == reference.all_meta(doc) and len(reference.all_meta(doc)) > 100


_specs = st.fixed_dictionaries(
    {"public_key": st.one_of(public_keys, st.just(" "))},
    optional={"allowed_ips": st.lists(cidr_lists, max_size=2), "name": st.one_of(st.none(), names, st.just("a#b")),
              "naming": st.builds(NameStyle, st.sampled_from(list(Convention)), st.sampled_from(list(Placement))),
              "comments": st.just(["# wgtui: key-created=2026-01-01T00:00:00Z"]),
              "persistent_keepalive": st.one_of(st.none(), st.integers(0, 65535)),
              "preshared_key": st.one_of(st.none(), public_keys)})


@PROPS
@given(documents(), st.lists(_specs, max_size=5), st.data())
def test_add_peers_equals_add_peer_one_at_a_time(gen: Generated, specs: list[dict[str, object]],
                                                 data: st.DataObject) -> None:
    if gen.keys and specs and data.draw(st.booleans()):
        specs[-1]["public_key"] = gen.keys[0]  # a key the file has
    if len(specs) > 1 and data.draw(st.booleans()):
        specs[-1]["public_key"] = specs[0]["public_key"]  # a key the batch has
    doc = Document.parse(gen.text)

    def one_at_a_time() -> Document:
        out = doc
        for spec in specs:
            out = out.add_peer(**spec)  # type: ignore[arg-type]
        return out

    def outcome(fn):  # type: ignore[no-untyped-def]
        try:
            return ("ok", fn().render())
        except ConfError as err:
            return (type(err).__name__, str(err))

    assert outcome(lambda: doc.add_peers(specs)) == outcome(one_at_a_time)


def test_add_peers_of_a_thousand_equals_one_at_a_time() -> None:
    rng = random.Random(4)
    doc = Document.parse(_big(rng, 200, 0))
    specs = [{"public_key": _key(rng), "allowed_ips": [f"10.8.{i // 250}.{i % 250 + 1}/32"], "name": f"n{i}",
              "comments": ["# wgtui: key-created=2026-01-01T00:00:00Z"]} for i in range(1000)]
    one = doc
    for spec in specs:
        one = one.add_peer(**spec)  # type: ignore[arg-type]
    assert doc.add_peers(specs) == one
