"""Provides proofs that every fast path of wgtui.conf gives exactly what the plain code gives: lines, sections, peers,
names, the file's style, checks, keys (CIDRs, diffs, stamps, batch adds: test_fast_values.py; reference code in
tests/conf/reference.py)."""

from __future__ import annotations

import base64
import os
import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wgtui.conf import Document, ParseError
from wgtui.conf import check as check_module
from wgtui.conf import rules as rules_module
from wgtui.conf.check import _FAST_KEY, _KEYS_BLOCK, check_and_parse, check_bytes, errors
from wgtui.conf.disabled import _disabled_lines, _runs
from wgtui.conf.errors import ConfError
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
from wgtui.conf.meta import all_meta
from wgtui.conf.names import is_end_marker, scan, scan_slow
from wgtui.conf.rules import _key_problem_slow
from wgtui.conf.validate import validate_cidr_slow

from . import reference
from .helpers import big_file, corpus_files
from .strategies import Generated, comment_lines, documents, names, public_keys

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


def test_structure_of_large_files_equals_the_plain_code() -> None:
    rng = random.Random(11)
    for convention in range(4):
        _same_structure(big_file(rng, 700, convention))


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
    texts = [*CORPUS, big_file(rng, 600, 0), big_file(rng, 300, 2)]
    duplicate = big_file(rng, 300, 1)
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
