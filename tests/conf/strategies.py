"""Provides hypothesis strategies for realistic wg-quick files: mixed line endings, comments, names, hooks."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from hypothesis import strategies as st

WS = st.sampled_from(["", " ", "  ", "\t", " \t "])
EOLS = st.sampled_from(["\n", "\r\n"])

public_keys = st.binary(min_size=32, max_size=32).map(lambda raw: base64.b64encode(raw).decode())
names = st.text(st.sampled_from("abcxyzABZ019_-"), min_size=1, max_size=15)
"""Names every convention accepts (Nyr and angristan are the strictest)."""

_any_text = st.text(st.characters(codec="utf-8", exclude_characters="\n"), max_size=30)
_value_text = st.text(st.characters(codec="utf-8", exclude_characters="\n#"), max_size=20)

cidrs = st.one_of(
    st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 32)).map(
        lambda t: f"10.{t[0]}.{t[1]}.0/{t[2]}"
    ),
    st.tuples(st.integers(0, 0xFFFF), st.sampled_from([64, 128])).map(lambda t: f"fd00:{t[0]:x}::1/{t[1]}"),
)
cidr_lists = st.lists(cidrs, min_size=1, max_size=3).flatmap(
    lambda items: st.sampled_from([", ", ","]).map(lambda sep: sep.join(items))
)
endpoints = st.one_of(
    st.tuples(st.integers(1, 254), st.integers(1, 65535)).map(lambda t: f"192.0.2.{t[0]}:{t[1]}"),
    st.integers(1, 65535).map(lambda p: f"[2001:db8::1]:{p}"),
    st.integers(1, 65535).map(lambda p: f"vpn.example.com:{p}"),
)
hooks = st.sampled_from(
    [
        "iptables -A FORWARD -i %i -j ACCEPT",
        "echo 'up %i' >> /tmp/log",
        'logger -t wg "down: %i"',
        'iptables -A INPUT -m comment --comment "a # b"',
        "ip rule add fwmark 0xca6c table 1234; true",
    ]
)
values = st.one_of(public_keys, cidr_lists, endpoints, st.integers(0, 65535).map(str), hooks, _value_text)

blank_lines = WS
comment_lines = st.one_of(
    st.builds(lambda w, t: f"{w}#{t}", WS, _any_text),
    names.map(lambda n: f"# friendly_name = {n}"),
    names.map(lambda n: f'# friendly_json = {{"name": "{n}", "x": 1}}'),
    names.map(lambda n: f"### Client {n}"),
    names.map(lambda n: f"# BEGIN_PEER {n}"),
    names.map(lambda n: f"# END_PEER {n}"),
    names.map(lambda n: f"# Name = {n}"),
    names.map(lambda n: f"# Name: {n}"),
    names.map(lambda n: f"#Name# = {n}"),
)
_keys = st.sampled_from(
    ["AllowedIPs", "allowedips", "ALLOWEDIPS", "Endpoint", "PersistentKeepalive", "PresharedKey", "DNS",
     "Address", "PostUp", "PreDown", "Jc", "FwMark", "Table", "MTU", "SaveConfig"]
)
_tails = st.one_of(WS, st.builds(lambda w, c: f"{w}{c}", WS, comment_lines))


def setting(key: st.SearchStrategy[str], value: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(lambda i, k, b, a, v, t: f"{i}{k}{b}={a}{v}{t}", WS, key, WS, WS, value, _tails)


setting_lines = setting(_keys, values)
body_lines = st.one_of(blank_lines, comment_lines, setting_lines, setting_lines)


def header(name: str) -> st.SearchStrategy[str]:
    spelled = st.sampled_from([name, name.lower(), name.upper()])
    return st.builds(lambda w1, n, w2, c: f"{w1}[{n}]{w2}{c}", WS, spelled, WS, st.one_of(st.just(""), comment_lines))


@dataclass(frozen=True)
class Generated:
    """A generated file and what was put into it."""

    text: str
    keys: tuple[str, ...]
    """Public keys of its peers, in order, all distinct."""
    lines: tuple[str, ...]
    """Its lines without endings."""
    first_header: int
    """Index of the first section header line (len(lines) when there is none)."""


@st.composite
def documents(draw: st.DrawFn) -> Generated:
    lines: list[str] = draw(st.lists(st.one_of(blank_lines, comment_lines), max_size=4))
    first_header = len(lines)
    if draw(st.booleans()):
        lines.append(draw(header("Interface")))
        lines += draw(st.lists(body_lines, max_size=8))
    keys = draw(st.lists(public_keys, max_size=5, unique=True))
    for key in keys:
        lines.append(draw(header("Peer")))
        body = draw(st.lists(body_lines, max_size=6))
        body.insert(draw(st.integers(0, len(body))), draw(setting(st.just("PublicKey"), st.just(key))))
        lines += body
    lines += draw(st.lists(st.one_of(blank_lines, comment_lines), max_size=3))
    if draw(st.booleans()):
        eols = [draw(EOLS)] * len(lines)
    else:
        eols = draw(st.lists(EOLS, min_size=len(lines), max_size=len(lines)))
    text = "".join(line + eol for line, eol in zip(lines, eols, strict=True))
    bare_end = draw(st.booleans())
    if lines and bare_end:
        text = text[: -len(eols[-1])]
    if not any(line.lstrip(" \t").startswith("[") for line in lines):
        first_header = len(lines)
    return Generated(text, tuple(keys), tuple(lines), first_header)
