"""Provides the fleet benchmark: 20 hosts × 500 peers over real ssh (sshd in namespaces), the bytes each second
costs on the wire for an idle fleet (real wireguard-go, no traffic) and a busy one (the agents' demo backend, every
peer moving), the local CPU of one fleet tick (every host polled, its rows and summary brought up to date), and the
UI thread's CPU per tick of the fleet view (headless, over the busy fleet): with the fleet view shown, and with one
host's dashboard open."""

from __future__ import annotations

import asyncio
import base64
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import Result, main_for, median_ms, p95_ms, skipped
from benchmarks.uiharness import interactive_gc, probed
from tests import netns
from tests.sshlab import SshHost, SshLab
from tests.sshlab import skip_reason as ssh_skip_reason
from wgtui.remote.fleet import Fleet
from wgtui.remote.ssh import HostSpec, SshOptions
from wgtui.remote.watch import FleetWatch

BENCH = "fleet over ssh"


def _key(host: int, i: int) -> str:
    return base64.b64encode((host * 100_000 + i + 1).to_bytes(4, "big") * 8).decode()


def _load_peers(lab: SshLab, host: SshHost, number: int, peers: int) -> None:
    """`peers` peers on the host's wg0 and in its file, as an admin's server would have them (no traffic)."""
    sections = "".join(f"\n# friendly_name = client-{i}\n[Peer]\nPublicKey = {_key(number, i)}\n"
                       f"AllowedIPs = 10.{100 + number}.{i // 256}.{i % 256}/32\n" for i in range(peers))
    extra = host.etc / "bench-peers.conf"
    extra.write_text(sections)
    lab.wg(host, "addconf", "wg0", str(extra))
    extra.unlink()
    host.conf.write_text(host.conf.read_text() + sections)


def _wire(hosts: list[SshHost]) -> int:
    """TCP bytes both ways on every host's veth: ssh's framing, encryption and keepalives included."""
    total = 0
    for host in hosts:
        n = host.address.split(".")[2]
        for way in ("rx_bytes", "tx_bytes"):
            total += int(Path(f"/sys/class/net/vr{n}/statistics/{way}").read_text())
    return total


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _measure(label: str, watch: FleetWatch, hosts: list[SshHost], seconds: int, peers: int) -> list[Result]:
    summaries = watch.tick()  # the first poll carries every peer once
    assert all(s.total >= peers for s in summaries), [(s.name, s.total, s.error) for s in summaries]
    watch.tick()
    payload0 = sum(sum(w.host.wire_bytes) for w in watch.watches)
    wire0, started = _wire(hosts), time.monotonic()
    cpu, ticks = [], 0
    while time.monotonic() - started < seconds:
        tick_started = time.monotonic()
        before = _cpu()
        watch.tick()
        cpu.append(_cpu() - before)
        ticks += 1
        time.sleep(max(0.0, watch.interval - (time.monotonic() - tick_started)))
    elapsed = time.monotonic() - started
    payload = (sum(sum(w.host.wire_bytes) for w in watch.watches) - payload0) / elapsed
    wire = (_wire(hosts) - wire0) / elapsed
    n = len(hosts)
    return [
        Result(BENCH, f"{label}: bytes/s on the wire, {n} hosts × {peers} peers", wire, "B/s",
               note=f"TCP both ways on the hosts' links over {elapsed:.0f} s, {ticks} polls a host; "
                    f"protocol payload {payload:,.0f} B/s"),
        Result(BENCH, f"{label}: local CPU per fleet tick ({n} hosts)", median_ms(cpu), "ms",
               note="median; every host polled in parallel, rows and summaries updated (no UI)"),
    ]


async def _ui_ticks(app: Any, pilot: Any, watch: FleetWatch, ticks: int, overhead: float) -> list[float]:
    """The UI thread's CPU for each of `ticks` ticks: applying it, and the frame it causes (its terminal output
    included: see uiharness.probed); the fleet's polling runs in another thread, as in the app, and is not counted."""
    samples = []
    for _ in range(ticks):
        started = time.monotonic()
        tick = await asyncio.to_thread(watch.step, watch.interval)
        cpu = time.thread_time()
        app.apply_tick(tick)
        await pilot.pause()
        samples.append(max(0.0, time.thread_time() - cpu - overhead))
        await asyncio.sleep(max(0.0, watch.interval - (time.monotonic() - started)))
    return samples


async def _pause_cpu(pilot: Any, times: int = 10) -> float:
    """The UI-thread CPU of the measuring itself (Pilot.pause pings every widget), nothing applied."""
    samples = []
    for _ in range(times):
        cpu = time.thread_time()
        await pilot.pause()
        samples.append(time.thread_time() - cpu)
    return statistics.median(samples)


async def _measure_ui(label: str, watch: FleetWatch, ticks: int, peers: int,
                      size: tuple[int, int] = (120, 40)) -> list[Result]:
    from wgtui.ui.app import AppOptions
    from wgtui.ui.fleet_app import FleetApp
    from wgtui.ui.screens.host_dashboard import HostDashboardScreen

    n = len(watch.watches)
    with probed() as probe, interactive_gc():
        app = FleetApp(watch, AppOptions(autostart=False, interval=watch.interval))
        async with app.run_test(size=size) as pilot:
            for _ in range(2):  # every host connected, every peer seen once
                app.apply_tick(await asyncio.to_thread(watch.step))
                await pilot.pause()
            overhead = await _pause_cpu(pilot)
            sent = probe.sent
            fleet = await _ui_ticks(app, pilot, watch, ticks, overhead)
            fleet_sent = (probe.sent - sent) / ticks
            await pilot.press("enter")
            while not isinstance(app.screen, HostDashboardScreen):
                await pilot.pause(0.05)
            await pilot.pause()
            rows = len(app.screen.table.model)
            sent = probe.sent
            host = await _ui_ticks(app, pilot, watch, ticks, overhead)
            host_sent = (probe.sent - sent) / ticks
    return [
        Result(BENCH, f"{label}: UI-thread CPU per tick, fleet view ({n} hosts)", median_ms(fleet), "ms",
               note=f"p95 {p95_ms(fleet):.1f} ms over {ticks} ticks; {n} host lines; {fleet_sent:,.0f} B to the "
                    f"terminal per tick; {size[0]}x{size[1]}; harness {overhead * 1000:.1f} ms subtracted"),
        Result(BENCH, f"{label}: UI-thread CPU per tick, one host's dashboard open ({rows} peers shown)",
               median_ms(host), "ms",
               note=f"p95 {p95_ms(host):.1f} ms over {ticks} ticks (the fleet's lines are brought up to date when "
                    "they show again); "
                    f"{host_sent:,.0f} B to the terminal per tick; every peer of the host moving ({peers} a host)"),
    ]


def run(hosts: int = 20, peers: int = 500, seconds: int = 20) -> list[Result]:
    reason = netns.skip_reason() or ssh_skip_reason()
    if reason:
        return [skipped(BENCH, reason)]
    lab = netns.Lab()
    try:
        ssh = SshLab(lab)
        made = [ssh.host(f"vpn{i:02d}") for i in range(1, hosts + 1)]
        for number, host in enumerate(made):
            _load_peers(ssh, host, number, peers)
        specs = [HostSpec(h.name, h.name) for h in made]
        results = []
        idle = Fleet(specs, SshOptions(ssh_config=ssh.config))
        try:
            results += _measure("idle", FleetWatch(idle, interval=1.0), made, seconds, peers)
        finally:
            idle.close()
        busy = Fleet(specs, SshOptions(ssh_config=ssh.config, remote_command=f"wgtui --demo {peers} agent --stdio"))
        try:
            watch = FleetWatch(busy, interval=1.0)
            results += _measure("busy (demo traffic)", watch, made, seconds, peers)
            results += asyncio.run(_measure_ui("busy (demo traffic)", watch, seconds, peers))
        finally:
            busy.close()
        return results
    finally:
        lab.close()


if __name__ == "__main__":
    main_for(run)
