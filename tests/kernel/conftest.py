"""Provides the gate and fixtures of the kernel tests: they run only inside the VM that scripts/vm-tests boots."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator

import pytest

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
