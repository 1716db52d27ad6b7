"""`wgtui show` and the dashboard against real wireguard-go in namespaces, with `wg show dump` as the reference."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.integration.cli import wgtui_in
from tests.netns import Daemon, Lab, entered
from tests.ui.helpers import screen_text
from wgtui.backends.host import HostBackend
from wgtui.ui.app import AppOptions, WgtuiApp

pytestmark = pytest.mark.netns
def tunnel(lab: Lab, tmp_path: Path) -> tuple[Daemon, Daemon, Path]:
    a, b = lab.pair()
    assert lab.ping(a, b.address, count=3, interval=0.01).ok
    conf = tmp_path / f"{a.ifname}.conf"
    conf.write_text(f"[Interface]\nPrivateKey = {a.private_key}\nListenPort = 51820\n\n"
                    f"# friendly_name = site-b\n[Peer]\nPublicKey = {b.public_key}\nAllowedIPs = {b.address}/32\n")
    conf.chmod(0o600)
    return a, b, conf


def test_show_json_agrees_with_wg_show_dump(lab: Lab, tmp_path: Path) -> None:
    a, b, _conf = tunnel(lab, tmp_path)
    for _ in range(3):  # a packet landing between the two reads moves a counter: try again
        result = wgtui_in(a.ns, "show", a.ifname, "--json", "--config-dir", str(tmp_path))
        assert result.returncode == 0, result.stderr
        reference = lab.dump(a)
        (iface,) = json.loads(result.stdout)["interfaces"]
        (peer,) = iface["peers"]
        ref = reference.peers[b.public_key]
        got = (peer["latest_handshake"], peer["rx_bytes"], peer["tx_bytes"], peer["endpoint"])
        if got == (ref.latest_handshake, ref.rx_bytes, ref.tx_bytes, ref.endpoint):
            break
    else:
        pytest.fail(f"wgtui show --json {got} never agreed with wg show dump {ref}")
    assert (iface["name"], iface["backend"], iface["public_key"], iface["listen_port"]) == (
        a.ifname, "userspace", a.public_key, 51820)
    assert peer["public_key"] == b.public_key and peer["allowed_ips"] == [f"{b.address}/32"]
    assert peer["latest_handshake"] > 0 and peer["rx_bytes"] > 0 and peer["state"] == "online"
    assert peer["name"] == "site-b" and peer["has_preshared_key"] is False


def test_show_text_lists_the_peer_with_name_and_humanized_handshake(lab: Lab, tmp_path: Path) -> None:
    a, b, _conf = tunnel(lab, tmp_path)
    result = wgtui_in(a.ns, "show", "--config-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert f"interface: {a.ifname} (userspace)" in result.stdout
    assert f"● peer: {b.public_key}  (site-b)" in result.stdout
    assert re.search(r"latest handshake: (now|a second ago|\d+ seconds ago)", result.stdout)
    assert a.private_key not in result.stdout


def test_unprivileged_show_explains_what_is_needed(lab: Lab, tmp_path: Path) -> None:
    a, _b, _conf = tunnel(lab, tmp_path)
    result = wgtui_in(a.ns, "show", a.ifname, nobody=True)
    assert result.returncode == 1
    assert "sudo" in result.stderr and "Traceback" not in result.stderr


def test_no_wireguard_suggests_demo(lab: Lab) -> None:
    empty = lab.netns()
    result = wgtui_in(empty, "show")
    assert result.returncode == 1 and "--demo" in result.stderr and "Traceback" not in result.stderr


async def test_dashboard_shows_the_real_peer_online(lab: Lab, tmp_path: Path) -> None:
    a, _b, _conf = tunnel(lab, tmp_path)
    with entered(a.ns):
        backend = HostBackend()
        app = WgtuiApp(backend, AppOptions(autostart=False, config_dir=tmp_path))
        async with app.run_test(size=(100, 30)) as pilot:
            app.poll_now()
            await pilot.pause()
            text = screen_text(app)
        backend.close()
    assert a.ifname in text and "userspace" in text and "1/1 online" in text
    row = next(line for line in text.splitlines() if "site-b" in line)
    assert row.lstrip().startswith("●") and re.search(r" (now|a second ago|\d+ seconds ago) ", row)
