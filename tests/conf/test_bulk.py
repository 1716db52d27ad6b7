"""PeerEdits (the edits of a `peer apply` batch in one pass) give exactly what the same edits one at a time give, on
generated files of every shape and on large uniform ones, where they stay on the one-pass way."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wgtui.conf import Document
from wgtui.conf.bulk import PeerEdits
from wgtui.conf.disabled import disable_peer, enable_peer
from wgtui.conf.errors import ConfError

from .helpers import big_file
from .strategies import Generated, cidrs, documents, endpoints, names
from .test_fast_paths import EXAMPLES

Op = tuple[str, object]

ops = st.one_of(
    st.tuples(st.just("remove"), st.none()),
    st.tuples(st.just("disable"), st.none()),
    st.tuples(st.just("enable"), st.none()),
    st.tuples(st.just("AllowedIPs"), st.lists(cidrs, min_size=1, max_size=2)),
    st.tuples(st.just("PersistentKeepalive"), st.one_of(st.none(), st.integers(1, 65535))),
    st.tuples(st.just("Endpoint"), st.one_of(st.none(), endpoints)),
    st.tuples(st.just("rename"), names),
    st.tuples(st.just("rename+keepalive"), names),
)


def one_at_a_time(doc: Document, key: str, op: Op) -> Document:
    what = op[0]
    if what == "remove":
        return doc.remove_peer(key)
    if what == "disable":
        return disable_peer(doc, key)
    if what == "enable":
        return enable_peer(doc, key)
    return edit_of(key, op)(doc)


def edit_of(key: str, op: Op) -> Callable[[Document], Document]:
    what, value = op
    if what == "rename":
        return lambda d: d.rename_peer(key, str(value))
    if what == "rename+keepalive":
        return lambda d: d.rename_peer(key, str(value)).set_peer_field(key, "PersistentKeepalive", 25)
    return lambda d: d.set_peer_field(key, what, value)  # type: ignore[arg-type]


def in_one_pass(doc: Document, edits: list[tuple[str, Op]], names_seen: list[str] | None = None) -> PeerEdits:
    bulk = PeerEdits(doc)
    for key, op in edits:
        if names_seen is not None:
            names_seen.append(str(bulk.naming))
        what = op[0]
        if what == "remove":
            bulk.remove(key)
        elif what == "disable":
            bulk.disable(key)
        elif what == "enable":
            bulk.enable(key)
        else:
            bulk.edit(key, edit_of(key, op))
    return bulk


def outcome(fn: Callable[[], Document]) -> tuple[str, str]:
    try:
        return ("ok", fn().render())
    except ConfError as err:
        return (type(err).__name__, str(err))


@settings(max_examples=max(EXAMPLES, 500), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), st.data())
def test_peer_edits_equal_the_edits_one_at_a_time(gen: Generated, data: st.DataObject) -> None:
    text = gen.text.replace("\r\n", "\n") if data.draw(st.booleans()) else gen.text  # one line ending: one pass
    try:
        doc = Document.parse(text)
    except ConfError:
        return
    keys = list(gen.keys)
    if keys and data.draw(st.booleans()):
        try:
            doc = disable_peer(doc, keys[-1])  # a disabled peer to enable
        except ConfError:
            return
    chosen = data.draw(st.permutations(keys)) if keys else []
    edits = [(key, data.draw(ops)) for key in chosen[:data.draw(st.integers(0, len(chosen)))]]
    if edits and data.draw(st.booleans()):
        edits.append(edits[0])  # a peer edited twice: made the plain way

    seen: list[str] = []
    plain: list[str] = []

    def sequential() -> Document:
        out = doc
        for key, op in edits:
            plain.append(str(out.naming))
            out = one_at_a_time(out, key, op)
        return out

    expected = outcome(sequential)
    assert outcome(lambda: in_one_pass(doc, edits, seen).document()) == expected
    if expected[0] == "ok":
        assert seen == plain  # the naming a batch validates new names against, row by row


def test_a_large_uniform_file_is_edited_in_one_pass() -> None:
    rng = random.Random(5)
    for convention in range(5):
        text = big_file(rng, 600, convention % 4)
        doc = Document.parse(text.replace(", ", ",") if convention == 4 else text)  # "," as the list separator
        keys = [p.public_key for p in doc.peers if p.public_key]
        edits: list[tuple[str, Op]] = []
        for i, key in enumerate(keys[:450]):
            edits.append((key, [("remove", None), ("disable", None), ("PersistentKeepalive", 25 + i),
                                ("AllowedIPs", ["10.9.0.1/32", "fd09::1/128"]), ("rename", f"r{i}"),
                                ("Endpoint", "192.0.2.1:51820")][i % 6 if i < 300 else 0]))  # then a run of removals
        rng.shuffle(edits)
        bulk = in_one_pass(doc, edits)
        one = doc
        for key, op in edits:
            one = one_at_a_time(one, key, op)
        assert bulk.document() == one
        assert bulk._slow is None  # nothing needed the plain way


_LAYOUTS = [
    "[Interface]\nPrivateKey = k\n\n[Peer]\nPublicKey = {0}\n\n[Peer]\nPublicKey = {1}\n\n[Peer]\nPublicKey = {2}\n"
    "\n[Peer]\nPublicKey = {3}\n",
    "\n# top\n[Peer]\nPublicKey = {0}\n\n\n[Peer]\nPublicKey = {1}\n# note\n\n[Peer]\nPublicKey = {2}\n\n\n"
    "# BEGIN_PEER d\n[Peer]\nPublicKey = {3}\n# END_PEER d\n\n# the end",
    "[Interface]\nAddress = 10.0.0.1/24,fd00::1/64\n[Peer]\nPublicKey = {0}\nAllowedIPs = 10.0.0.2/32,fd00::2/128\n"
    "[Peer]\nPublicKey = {1}\n\n# free note\n\n[Peer]\n\nPublicKey = {2}\n\nEndpoint = h:1\n[Peer]\n"
    "PublicKey = {3}\n\n\n",
    "\n\n[Peer]\nPublicKey = {0}\n\n[Peer]\nPublicKey = {1}\n\n[Peer]\nPublicKey = {2}\n\n[Peer]\nPublicKey = {3}",
]


def test_every_order_of_removals_and_edits_on_small_layouts() -> None:
    keys = [f"{c * 43}=" for c in "ABCD"]
    choices: list[Op] = [("remove", None), ("Endpoint", None), ("AllowedIPs", ["10.1.0.0/24", "fd01::/64"])]
    for layout in _LAYOUTS:
        doc = Document.parse(layout.format(*keys))
        for order in itertools.chain.from_iterable(itertools.permutations(keys, n) for n in range(5)):
            for picks in itertools.product(range(len(choices)), repeat=len(order)):
                edits = [(key, choices[p]) for key, p in zip(order, picks, strict=True)]
                one = doc
                for key, op in edits:
                    one = one_at_a_time(one, key, op)
                assert in_one_pass(doc, edits).document().render() == one.render(), (layout, edits)
