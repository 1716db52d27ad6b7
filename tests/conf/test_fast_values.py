"""Provides proofs that the fast paths of wgtui.conf for values and edits give exactly what the plain code gives:
CIDRs, diffs and masking, stamps, metadata, batch adds (reference code in tests/conf/reference.py)."""

from __future__ import annotations

import ipaddress
import os
import random
import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from wgtui import ipalloc
from wgtui.changes.plan import SECRETS, _hide, _spills, mask_secrets
from wgtui.conf import Convention, Document, NameStyle, Placement
from wgtui.conf.diff import unified_diff, unified_diff_slow
from wgtui.conf.errors import ConfError, ValidationError
from wgtui.conf.meta import _all_meta_from, _meta_lines, parse_stamp, parse_stamp_slow, stamp
from wgtui.conf.validate import validate_cidr, validate_cidr_slow

from . import reference
from .helpers import big_file, random_key
from .strategies import Generated, cidr_lists, documents, names, public_keys

EXAMPLES = int(os.environ.get("WGTUI_HYPOTHESIS_EXAMPLES", "200"))
PROPS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

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


@settings(max_examples=max(EXAMPLES, 1000), deadline=None)
@given(st.one_of(_v6, _odd, _v6.map(lambda s: s.split("/")[0])))
@example("::.")
def test_an_ipv6_text_is_read_by_one_form_at_most(text: str) -> None:
    """Two forms reading the same text made the one regex over a file's AllowedIPs exponential when a later value
    was odd (it tried every way of reading every earlier one): 4 s for 60 IPv6 peers."""
    address = text.split("/")[0]
    forms = [form for form in ipalloc._V6_FORMS if re.fullmatch(form, address)]
    assert len(forms) <= 1
    # _v6_value reads only what _V6 let through (hex groups and colons), as in fast_prefix: '::.' is neither
    read = ipalloc._V6.match(address) is not None and ipalloc._v6_value(address) is not None
    assert bool(forms) == read


# -- diffs ---------------------------------------------------------------------------------------------------------


def _edits(rng: random.Random, doc: Document, count: int) -> Document:
    new = doc
    for _ in range(count):
        peer = rng.choice(new.peers)
        op = rng.randrange(7)
        if op == 0:
            new = new.remove_peer(peer.public_key or "")
        elif op == 1:
            new = new.add_peer(random_key(rng), allowed_ips=["10.9.0.1/32"], name=f"z{rng.randrange(999)}",
                               preshared_key=rng.choice([None, random_key(rng)]))
        elif op == 2:
            new = new.set_peer_field(peer.public_key or "", "AllowedIPs", ["10.9.9.9/32"])
        elif op == 3:
            new = new.rename_peer(peer.public_key or "", "renamed")
        elif op == 4:
            new = new.set_peer_field(peer.public_key or "", "PersistentKeepalive", rng.choice([None, 25, 33]))
        elif op == 5:
            new = new.set_peer_field(peer.public_key or "", "PresharedKey", rng.choice([None, random_key(rng)]))
        else:
            new = new.replace_public_key(peer.public_key or "", random_key(rng))
    return new


def test_diffs_of_large_files_equal_difflib_over_every_line() -> None:
    """One change or several, near the start or the end, with popular lines around it: difflib's very patch."""
    rng = random.Random(2)
    for trial in range(60):
        text = big_file(rng, rng.choice([40, 60, 120, 250]), rng.randrange(4))
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


_OLD_SECRET_LINE = re.compile(r"^(?P<head>\s*(?:#\[disabled\][ \t]*)?(?:PrivateKey|PresharedKey)\s*=\s*)"
                              r"(?P<value>[^\s#]+)", re.I | re.M)
"""The pattern before its indent stopped at the line's end (quadratic over blank lines): the reference."""


@PROPS
@given(st.lists(st.sampled_from(["PresharedKey =", "PresharedKey = a", "privatekey=  ", "PRIVATEKEY", "x", "", " ",
                                 "\t\r", "  PreſharedKey = \u212a", "#[disabled] PrivateKey = k", "\v#[disabled]",
                                 "PublicKey = b", "\u0130", "pReSharedKey\t=\t"]), max_size=12))
def test_masking_is_what_the_pattern_over_blank_lines_made(lines: list[str]) -> None:
    text = "\n".join(lines) + "\n"
    assert mask_secrets(text) == _OLD_SECRET_LINE.sub(_hide, text)


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
    lines = big_file(rng, 300, 0).split("\n")
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


def test_add_peers_of_hundreds_equals_one_at_a_time() -> None:
    # 300 (two /24s of addresses): one at a time is quadratic, 1,000 took 10 s of the suite for nothing more.
    rng = random.Random(4)
    doc = Document.parse(big_file(rng, 200, 0))
    specs = [{"public_key": random_key(rng), "allowed_ips": [f"10.8.{i // 250}.{i % 250 + 1}/32"], "name": f"n{i}",
              "comments": ["# wgtui: key-created=2026-01-01T00:00:00Z"]} for i in range(300)]
    one = doc
    for spec in specs:
        one = one.add_peer(**spec)  # type: ignore[arg-type]
    assert doc.add_peers(specs) == one
