"""Provides the gate and fixtures of the kernel tests: they run only inside the VM that scripts/vm-tests boots."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.kernel.wgdump import sh
from wgtui import keys

MakeInterface = Callable[..., str]
VM_ENV = "WGTUI_KERNEL_VM"
"""Set to 1 by scripts/vm-tests in the guest; nowhere else may these tests create kernel interfaces."""


@pytest.fixture(autouse=True, scope="session")
def _inside_the_vm() -> None:
    if os.environ.get(VM_ENV) != "1":
        pytest.skip(f"kernel WireGuard tests run only inside the virtme-ng VM ({VM_ENV}=1): use scripts/vm-tests")
    probe = subprocess.run(["ip", "link", "add", "wgprobe0", "type", "wireguard"], capture_output=True, text=True)
    if probe.returncode:
        # The runner promised a VM with the module: a silent skip here would make a broken VM run look green.
        pytest.fail(f"{VM_ENV}=1 but a wireguard interface cannot be created: {probe.stderr.strip()}")
    subprocess.run(["ip", "link", "del", "wgprobe0"], check=True)


@pytest.fixture
def make_interface() -> Iterator[MakeInterface]:
    """Creates kernel WireGuard interfaces (down, no configuration) and deletes them after the test.

    `keep=True` leaves one for the VM's end: deleting a peer costs an RCU grace period (synchronize_net in
    netif_napi_del), so deleting 2,000 peers takes half a minute under emulation.
    """
    made: list[str] = []

    def make(name: str, keep: bool = False) -> str:
        subprocess.run(["ip", "link", "add", name, "type", "wireguard"], check=True)
        if not keep:
            made.append(name)
        return name

    yield make
    for name in made:
        subprocess.run(["ip", "link", "del", name], check=False, capture_output=True)  # a test may have deleted it


NS = ("wgka", "wgkb")


@pytest.fixture
def tunnel(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Two namespaces joined by a veth pair (10.99.0.0/24), each with a wg0 (10.98.0.0/24) peered with the other."""
    pairs = {ns: keys.keypair() for ns in NS}
    for ns, (private, _) in pairs.items():
        (tmp_path / ns).write_text(private + "\n")
    sh(f"ip netns add {NS[0]}; ip netns add {NS[1]}")
    try:
        script = [f"ip link add vetha netns {NS[0]} type veth peer name vethb netns {NS[1]}"]
        for i, (ns, other) in enumerate((NS, NS[::-1]), start=1):
            veth = "vetha" if i == 1 else "vethb"
            script += [
                f"ip -n {ns} addr add 10.99.0.{i}/24 dev {veth}",
                f"ip -n {ns} link set {veth} up",
                f"ip -n {ns} link add wg0 type wireguard",
                f"ip -n {ns} addr add 10.98.0.{i}/24 dev wg0",
                f"ip netns exec {ns} wg set wg0 private-key {tmp_path / ns} listen-port 51820 peer "
                f"{pairs[other][1]} endpoint 10.99.0.{3 - i}:51820 allowed-ips 10.98.0.{3 - i}/32",
                f"ip -n {ns} link set wg0 up",
            ]
        sh("\n".join(script))
        yield {ns: pub for ns, (_, pub) in pairs.items()}
    finally:
        sh(f"ip netns del {NS[0]}; ip netns del {NS[1]}")
