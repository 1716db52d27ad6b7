"""The table model: incremental updates keep exactly the order a full sort would give, filters, cursor lookup."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fakes import key
from wgtui.model import InterfaceState, PeerState, PeerStatus
from wgtui.monitor import InterfaceDelta, InterfaceSummary, PeerRow
from wgtui.ui.peer_rows import SORTS, PeerRows

SUMMARY = InterfaceSummary(state=InterfaceState(name="wg0", backend="fake"))


def row(i: int, name: str = "", hs: int = 0, rx_rate: float | None = None, rx: int = 0) -> PeerRow:
    status = PeerStatus.NEVER if not hs else PeerStatus.ONLINE if hs > 100 else PeerStatus.STALE
    peer = PeerState(public_key=key(i), endpoint=f"192.0.2.{i % 250}:51820",
                     allowed_ips=(f"10.0.{i // 250}.{i % 250}/32",), latest_handshake=hs, rx_bytes=rx)
    return PeerRow(peer=peer, name=name, status=status, rx_rate=rx_rate, tx_rate=None)


def reset(rows: list[PeerRow]) -> InterfaceDelta:
    return InterfaceDelta(summary=SUMMARY, upserts={r.key: r for r in rows}, reset=True)


def listing(model: PeerRows) -> list[str]:
    return list(model.keys())


def test_sort_by_name_puts_unnamed_last_and_reverse_flips() -> None:
    model = PeerRows(sort="name")
    model.apply(reset([row(1, "bob"), row(2, ""), row(3, "Alice")]))
    assert [model[i].name for i in range(3)] == ["Alice", "bob", ""]
    model.set_sort("name", reverse=True)
    assert [model[i].name for i in range(3)] == ["", "bob", "Alice"]
    assert model.index_of(key(3)) == 2


def test_filter_matches_name_key_endpoint_and_ip_case_insensitively() -> None:
    model = PeerRows(sort="name")
    model.apply(reset([row(1, "Laptop"), row(2, "phone"), row(3, "printer")]))
    model.set_filter("LAP")
    assert [r.name for r in (model[i] for i in range(len(model)))] == ["Laptop"]
    model.set_filter("10.0.0.2/")
    assert [model[i].name for i in range(len(model))] == ["phone"]
    model.set_filter(key(3)[:10].lower())
    assert [model[i].name for i in range(len(model))] == ["printer"]
    model.set_filter("")
    assert len(model) == 3


def test_update_moves_a_row_and_reports_it() -> None:
    model = PeerRows(sort="rx_rate")
    model.apply(reset([row(i, f"p{i}", 200, rx_rate=float(i)) for i in range(5)]))
    assert model[0].name == "p4"
    change = model.apply(InterfaceDelta(summary=SUMMARY, upserts={key(0): row(0, "p0", 200, rx_rate=99.0)}))
    assert change.order_changed and key(0) in change.changed_keys
    assert model[0].name == "p0"
    # Same sort key: no move.
    change = model.apply(InterfaceDelta(summary=SUMMARY, upserts={key(0): row(0, "p0", 200, rx_rate=99.0, rx=5)}))
    assert not change.order_changed


rows_strategy = st.lists(
    st.tuples(st.integers(0, 40), st.sampled_from(["", "a", "b", "zed", "Al"]), st.integers(0, 300),
              st.one_of(st.none(), st.floats(0, 1e6, allow_nan=False))),
    max_size=60)


@settings(max_examples=150, deadline=None)
@given(first=rows_strategy, steps=st.lists(st.tuples(rows_strategy, st.lists(st.integers(0, 40), max_size=5)),
                                           max_size=6),
       sort=st.sampled_from(sorted(SORTS)), reverse=st.booleans(), needle=st.sampled_from(["", "a", "192.0.2.1"]))
def test_incremental_order_equals_full_sort(first: list, steps: list, sort: str, reverse: bool,
                                            needle: str) -> None:
    model = PeerRows(sort=sort, reverse=reverse, needle=needle)
    model.apply(reset([row(i, n, hs, rate) for i, n, hs, rate in first]))
    for upserts, removed in steps:
        gone = tuple(key(i) for i in removed if key(i) in model.rows)
        ups = {key(i): row(i, n, hs, rate) for i, n, hs, rate in upserts if key(i) not in gone}
        model.apply(InterfaceDelta(summary=SUMMARY, upserts=ups, removed=gone))
    fresh = PeerRows(sort=sort, reverse=reverse, needle=needle)
    fresh.apply(reset(list(model.rows.values())))
    assert listing(model) == listing(fresh)
    for i, k in enumerate(listing(model)):
        assert model.index_of(k) == i
