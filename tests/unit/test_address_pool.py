"""AddressPool (the `auto` addresses of a batch): after any sequence of prefixes taken and given back, it picks what
next_free picks from scratch, and a thousand picks in a row are the addresses one after another."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from wgtui.ipalloc import AddressPool, Interface, network, next_free, prefix_of

SUBNETS = ["10.0.0.1/29", "10.0.0.9/30", "10.0.1.5/28", "10.0.2.1/32", "fd00::1/125", "fd00::9/126", "fd00:1::2/127"]
PREFIXES = ([f"10.0.0.{i}/32" for i in range(24)] + [f"10.0.1.{i}/32" for i in range(20)]
            + ["10.0.0.0/30", "10.0.0.4/30", "10.0.0.8/29", "10.0.1.0/28", "10.0.0.0/24", "0.0.0.0/0", "10.0.0.6/31"]
            + [f"fd00::{i:x}/128" for i in range(20)] + ["fd00::/126", "fd00::8/125", "fd00::/64", "::/0",
                                                        "fd00:1::/127", "fd00:1::3/128"])


def reference(subnets: list[Interface], used: list[str]) -> tuple[str, ...]:
    """What the batch picked before the pool: next_free over everything used, the interface's addresses included."""
    nets = [network(u) for u in used] + [network(str(s.ip)) for s in subnets]
    picked = []
    for version in (4, 6):
        for subnet in (s for s in subnets if s.version == version):
            free = next_free(subnet, nets)
            if free is not None:
                picked.append(str(free))
                break
    return tuple(picked)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(SUBNETS), min_size=1, max_size=4, unique=True),
       st.lists(st.sampled_from(PREFIXES), max_size=8),
       st.lists(st.tuples(st.booleans(), st.sampled_from(PREFIXES), st.integers(0, 7)), max_size=30))
def test_pool_picks_what_next_free_picks(texts: list[str], initial: list[str],
                                         ops: list[tuple[bool, str, int]]) -> None:
    subnets = [ipaddress.ip_interface(t) for t in texts]
    used = list(initial)
    pool = AddressPool(subnets, [prefix_of(u) for u in used])
    assert pool.pick() == reference(subnets, used)
    for take, prefix, which in ops:
        if take:
            used.append(prefix)
            pool.take(prefix_of(prefix))
        elif used:
            gone = used.pop(which % len(used))
            pool.give_back(prefix_of(gone))
        assert pool.pick() == reference(subnets, used)
        picked = pool.pick()
        if picked and which % 2:  # the batch keeps what it picked
            used += picked
            for ip in picked:
                pool.take(prefix_of(ip))
            assert pool.pick() == reference(subnets, used)


def test_a_thousand_picks_in_a_row() -> None:
    subnets = [ipaddress.ip_interface("10.64.0.1/10"), ipaddress.ip_interface("fd00:64::1/64")]
    used = [prefix_of(f"10.64.0.{i}/32") for i in range(2, 200)] + [prefix_of("10.64.1.0/24")]
    pool = AddressPool(subnets, used)
    got = []
    for _ in range(1000):
        picked = pool.pick()
        got.append(picked)
        for ip in picked:
            pool.take(prefix_of(ip))
    assert got[0] == ("10.64.0.200/32", "fd00:64::2/128")
    assert got[56] == ("10.64.2.0/32", "fd00:64::3a/128")  # over the /24 in use
    assert len(set(got)) == 1000
    pool.give_back(prefix_of("10.64.0.7/32"))
    assert pool.pick() == ("10.64.0.7/32", "fd00:64::3ea/128")
