"""Next free address: equals a brute-force search on small subnets, and handles a /8 or a /64 without walking it."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from wgtui.ipalloc import network, next_free


def brute(subnet: str, used: list[str]) -> str | None:
    net = ipaddress.ip_network(subnet)
    nets = [network(u) for u in used]
    hosts = net.hosts() if net.version == 4 else (a for a in net if a != net.network_address)
    for addr in hosts:
        if not any(addr in u for u in nets):
            return f"{addr}/{net.max_prefixlen}"
    return None


@given(prefix=st.integers(24, 30), used=st.lists(st.tuples(st.integers(0, 255), st.integers(28, 32)), max_size=12))
def test_matches_brute_force_on_small_ipv4_subnets(prefix: int, used: list[tuple[int, int]]) -> None:
    subnet = f"10.1.2.0/{prefix}"
    used_nets = [f"10.1.2.{host}/{length}" for host, length in used]
    got = next_free(ipaddress.ip_interface(subnet), [network(u) for u in used_nets])
    assert (str(got) if got else None) == brute(subnet, used_nets)


def test_big_subnets_are_not_enumerated() -> None:
    # Everything but the last address of a /8 is used: a walk would take 16 million steps.
    used = [network("10.0.0.0/9"), network("10.128.0.0/10"), network("10.192.0.0/11"), network("10.224.0.0/12"),
            network("10.240.0.0/13"), network("10.248.0.0/14"), network("10.252.0.0/15"), network("10.254.0.0/16"),
            network("10.255.0.0/17"), network("10.255.128.0/18"), network("10.255.192.0/19"),
            network("10.255.224.0/20"), network("10.255.240.0/21"), network("10.255.248.0/22"),
            network("10.255.252.0/23"), network("10.255.254.0/24"), network("10.255.255.0/25"),
            network("10.255.255.128/26"), network("10.255.255.192/27"), network("10.255.255.224/28"),
            network("10.255.255.240/29"), network("10.255.255.248/30"), network("10.255.255.252/31")]
    assert str(next_free(ipaddress.ip_interface("10.0.0.1/8"), used)) == "10.255.255.254/32"
    v6_used = [network("fd00:8::/65"), network("fd00:8::8000:0:0:0/66")]
    assert str(next_free(ipaddress.ip_interface("fd00:8::1/64"), v6_used)) == "fd00:8:0:0:c000::/128"


def test_full_subnet_and_other_family_prefixes() -> None:
    assert next_free(ipaddress.ip_interface("10.0.0.1/30"), [network("10.0.0.1"), network("10.0.0.2")]) is None
    assert str(next_free(ipaddress.ip_interface("10.0.0.1/24"), [network("fd00::/8")])) == "10.0.0.1/32"
