"""Provides the terminal-bytes benchmark: bytes per second the real `wgtui` writes to an 80x24 pseudo-terminal in
steady state, against `watch -n1 wg show IF` on the same wireguard-go interface (50 peers, 10 of them pinging)."""

from __future__ import annotations

import base64
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, Result, main_for, run_in_pty, skipped

BENCH = "terminal bytes"
TARGET = 0.5


def _peer_config(server_key: str, clients: list[tuple[str, str]], idle: int, rng: random.Random) -> tuple[str, str]:
    """(text for `wg addconf`, the same peers as a wg-quick file with names for wgtui)."""
    add: list[str] = []
    named = ["[Interface]", f"PrivateKey = {server_key}", "ListenPort = 51820", ""]
    peers = [(f"site-{i + 1:02d}", pub, ip, None) for i, (pub, ip) in enumerate(clients)]
    for j in range(idle):
        endpoint = f"198.51.100.{j + 10}:51820" if j % 2 else None
        peers.append((f"laptop-{j + 1:02d}", base64.b64encode(rng.randbytes(32)).decode(), f"10.98.2.{j + 1}/32",
                      endpoint))
    for name, pub, ip, endpoint in peers:
        block = ["[Peer]", f"PublicKey = {pub}", f"AllowedIPs = {ip}"]
        if endpoint:
            block.append(f"Endpoint = {endpoint}")
        add += [*block, ""]
        named += [f"# friendly_name = {name}", *block, ""]
    return "\n".join(add), "\n".join(named)


def run(peers: int = 50, active: int = 10, warm: float = 4.0, measure: float = 16.0,
        size: tuple[int, int] = (24, 80)) -> list[Result]:
    from tests import netns, netns_sweep

    why = netns.skip_reason()
    if why:
        return [skipped(BENCH, why)]
    netns_sweep.sweep()
    lab = netns.Lab()
    try:
        server_ns = lab.netns()
        client_ns = [lab.netns() for _ in range(active)]
        links = [lab.link(server_ns, ns) for ns in client_ns]
        server = lab.wireguard(server_ns, "10.98.0.1/16")
        clients = [lab.wireguard(ns, f"10.98.1.{i + 1}/16") for i, ns in enumerate(client_ns)]
        add, named = _peer_config(server.private_key, [(c.public_key, f"{c.address}/32") for c in clients],
                                  peers - active, random.Random(4))
        lab.addconf(server, add)
        for client, (server_side, _) in zip(clients, links, strict=True):
            lab.set_peer(client, server.public_key, endpoint=f"{server_side}:51820", allowed_ips=["10.98.0.1/32"])
        for client in clients:
            if not lab.ping(client, "10.98.0.1").ok:
                raise RuntimeError(f"no tunnel from {client.ns} to the server")
        # One ping a second from each active peer for as long as the lab lives: steady, light traffic.
        for client in clients:
            lab.spawn(client.ns, "ping", "-n", "-q", "-i", "1", "10.98.0.1")
        config_dir = Path(tempfile.mkdtemp(dir=lab.tmp))
        conf = config_dir / f"{server.ifname}.conf"
        conf.write_text(named)
        conf.chmod(0o600)
        seconds = warm + measure
        wrap = ["ip", "netns", "exec", server_ns]
        tui = run_in_pty([*wrap, sys.executable, "-m", "wgtui", "--interface", server.ifname, "--config-dir",
                          str(config_dir)], seconds, size, env={"PYTHONPATH": str(ROOT)})
        watch = run_in_pty([*wrap, "watch", "-n1", "wg", "show", server.ifname], seconds, size)
    finally:
        lab.close()
    tui_rate = tui.bytes_between(warm, warm + measure) / measure
    watch_rate = watch.bytes_between(warm, warm + measure) / measure
    if not tui.bytes_between(0, warm) or not watch_rate:
        raise RuntimeError(f"nothing was drawn: wgtui wrote {tui.bytes_between(0, seconds)} B, watch {watch_rate} B/s")
    where = f"{size[1]}x{size[0]}, {peers} peers, {active} pinging 1/s, {measure:g} s after {warm:g} s warm-up"
    ratio = tui_rate / watch_rate
    return [
        Result(BENCH, "wgtui bytes/s ÷ watch -n1 wg show bytes/s", ratio, "×", f"≤ {TARGET}×", ratio <= TARGET, where),
        Result(BENCH, "wgtui, steady state", tui_rate, "B/s", note=f"startup frame {tui.bytes_between(0, warm):,} B"),
        Result(BENCH, "watch -n1 wg show IF, steady state", watch_rate, "B/s"),
    ]


if __name__ == "__main__":
    main_for(run)
