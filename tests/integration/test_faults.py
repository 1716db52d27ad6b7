"""Fault injection on real wireguard-go: kill -9, SIGINT, SIGTERM and SIGHUP at every system call of a `peer add`
from taking the lock to clearing the journal; then the interface and the file agree, nothing is left behind, and a
generated key exists only together with its client config. Also a real terminal hangup at the prompt."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import queue
import select
import shutil
import subprocess
import termios
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.integration.faults import TRACED, Point, Scene, run, transaction_points, wgtui_cmd
from tests.integration.test_changes_live import server_config
from tests.netns import Lab

pytestmark = pytest.mark.netns

SIGNALS = {"KILL": 9, "INT": 2, "TERM": 15, "HUP": 1}


def audit_outcomes(scene: Scene) -> list[str]:
    log = scene.directory / "wgtui-audit.log"
    return [json.loads(line)["outcome"] for line in log.read_text().splitlines()] if log.exists() else []


def one_case(scene: Scene, point: Point, sig: str) -> tuple[str, list[str]]:
    """(what happened, in a few words; problems found)."""
    scene.reset()
    inject = f"inject={point.syscall}:signal=SIG{sig}:when={point.when}"
    strace = ["-o", "/dev/null", "-e", inject]
    proc = run(wgtui_cmd(scene.server.ns, *scene.add_args(), strace=strace))
    problems: list[str] = []
    if sig == "KILL":
        if proc.returncode != -9:
            problems.append(f"exit {proc.returncode}, not killed: the injection missed")
        recovered = run(wgtui_cmd(scene.server.ns, "peer", "recover", scene.server.ifname, "--config-dir",
                                  str(scene.directory), "--yes", "--json"))
        if recovered.returncode != 0:
            problems.append(f"recover exited {recovered.returncode}: {recovered.stderr.strip()}")
            outcome = "recovery failed"
        else:
            outcome = {"nothing": "nothing to recover", "recovered-completed": "recovered: completed",
                       "recovered-rolled-back": "recovered: undone"}[json.loads(recovered.stdout)["outcome"]]
            if outcome != "nothing to recover" and audit_outcomes(scene)[-1:] != [json.loads(recovered.stdout)
                                                                                    ["outcome"]]:
                problems.append("the recovery is not in the audit log")
    else:
        expected = 128 + SIGNALS[sig]
        if proc.returncode != expected:
            problems.append(f"exit {proc.returncode}, not {expected}: {proc.stderr.strip()[-300:]}")
        said = proc.stdout + proc.stderr
        if "Done: Add peer carol" in said and f"SIG{sig} arrived while the change was being applied" in said:
            outcome = "completed, then stopped"
        elif "before anything was changed" in said:
            outcome = "stopped before it began"
        else:
            outcome = "unexplained"
            problems.append(f"not told what happened: {said.strip()[-300:]}")
        logged = audit_outcomes(scene)
        if not logged or logged[-1] not in ("applied", "interrupted"):
            problems.append(f"audit log: {logged}")
    return outcome, problems + scene.problems()


def test_every_step_of_a_change_survives_every_signal(lab: Lab, tmp_path: Path,
                                                      timing: Callable[[str], None]) -> None:
    if shutil.which("strace") is None:
        pytest.skip("fault injection needs strace: apt-get install -y --no-install-recommends strace")
    # Two servers, each with its own directory, take the cases in turn: the 128 runs, each a traced Python start,
    # take half the time on two cores.
    scenes, traces = [], []
    for n in range(2):
        a, b = lab.pair()
        assert b.address
        etc = tmp_path / f"etc{n}"
        etc.mkdir(mode=0o700)
        conf = server_config(etc, a, {"site-b": (b.public_key, f"{b.address}/32")})
        scene = Scene(lab, a, etc, conf.read_bytes(), frozenset(lab.dump(a).peers))
        trace = tmp_path / f"trace{n}"
        calls = ",".join((*TRACED, "openat"))
        traced = run(wgtui_cmd(a.ns, *scene.add_args(), strace=["-o", str(trace), "-e", f"trace={calls}"]))
        assert traced.returncode == 0, traced.stderr
        scenes.append(scene)
        traces.append(transaction_points(trace.read_text()))
    points = traces[0]
    assert [(p.syscall, p.when) for p in traces[1]] == [(p.syscall, p.when) for p in points]  # the same steps
    kinds = {p.syscall for p in points}
    assert kinds == {"flock", "connect", "sendto", "fsync", "rename", "write", "unlink"}, points
    assert [p.what for p in points if p.syscall == "rename"] == [
        ".IF.conf.wgtui-journal", "IF-carol.conf", "IF.conf.bak", "IF.conf", ".IF.conf.wgtui-undo"], points
    started = time.monotonic()
    free: queue.Queue[Scene] = queue.Queue()
    for scene in scenes:
        free.put(scene)

    def case(point: Point, sig: str) -> tuple[str, list[str]]:
        scene = free.get()
        try:
            return one_case(scene, point, sig)
        finally:
            free.put(scene)

    cases = [(point, sig) for point in points for sig in SIGNALS]
    with ThreadPoolExecutor(len(scenes)) as pool:
        outcomes = list(pool.map(lambda c: case(*c), cases))
    rows: list[tuple[str, dict[str, str]]] = []
    failures: list[str] = []
    for (point, sig), (outcome, problems) in zip(cases, outcomes, strict=True):
        if not rows or rows[-1][0] != point.label:
            rows.append((point.label, {}))
        rows[-1][1][sig] = outcome
        failures += [f"{point.label} SIG{sig}: {p}" for p in problems]
    timing(f"fault injection: {len(points)} points x {len(SIGNALS)} signals = {len(points) * len(SIGNALS)} runs of "
           f"`wgtui peer add` on wireguard-go in {time.monotonic() - started:.0f} s; every case consistent: "
           f"{not failures}")
    timing("| step of `peer add` | kill -9 (then `peer recover`) | SIGINT | SIGTERM | SIGHUP |")
    timing("|---|---|---|---|---|")
    for label, row in rows:
        timing(f"| {label} | {row['KILL']} | {row['INT']} | {row['TERM']} | {row['HUP']} |")
    assert not failures, "\n".join(failures)
    # Both directions happen: the commit point is the rename of the config file.
    kill_outcomes = [row["KILL"] for _, row in rows]
    assert "recovered: undone" in kill_outcomes and "recovered: completed" in kill_outcomes


def test_a_terminal_hangup_at_the_prompt_changes_nothing_and_is_logged(lab: Lab, tmp_path: Path) -> None:
    a, b = lab.pair()
    assert b.address
    conf = server_config(tmp_path, a, {"site-b": (b.public_key, f"{b.address}/32")})
    before_file, before_live = conf.read_bytes(), set(lab.dump(a).peers)
    master, slave = pty.openpty()

    def controlling_terminal() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(wgtui_cmd(a.ns, "peer", "add", a.ifname, "--name", "carol", "--config-dir",
                                      str(tmp_path)), stdin=slave, stdout=slave, stderr=slave, cwd="/",
                            preexec_fn=controlling_terminal)
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 30
    while b"Apply this change?" not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1)
        if ready:
            seen += os.read(master, 4096)
    assert b"Apply this change?" in seen, seen.decode(errors="replace")
    os.close(master)  # the SSH connection drops: the kernel hangs the terminal up
    assert proc.wait(timeout=30) == 129
    assert conf.read_bytes() == before_file and set(lab.dump(a).peers) == before_live
    record = json.loads((tmp_path / "wgtui-audit.log").read_text().splitlines()[-1])
    assert record["outcome"] == "interrupted" and "SIGHUP" in record["message"]
    assert not (tmp_path / "clients").exists()


def test_a_full_disk_for_the_client_config_changes_nothing_and_the_retry_works(lab: Lab, tmp_path: Path) -> None:
    a, b = lab.pair()
    assert b.address
    conf = server_config(tmp_path, a, {"site-b": (b.public_key, f"{b.address}/32")})
    before_file, before_live = conf.read_bytes(), set(lab.dump(a).peers)
    clients = tmp_path / "clients"
    clients.mkdir(mode=0o700)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(clients)], check=True)
    try:
        subprocess.run(["dd", "if=/dev/zero", f"of={clients / 'filler'}", "bs=4k"], capture_output=True)
        args = ("peer", "add", a.ifname, "--name", "carol", "--config-dir", str(tmp_path), "--yes")
        full = run(wgtui_cmd(a.ns, *args))
        assert full.returncode == 1 and "No space left on device" in full.stderr, full.stderr
        assert "Nothing changed" in full.stderr
        assert conf.read_bytes() == before_file and set(lab.dump(a).peers) == before_live
        assert sorted(p.name for p in clients.iterdir()) == ["filler"]
        assert not [p for p in tmp_path.iterdir() if p.name.endswith((".wgtui-tmp", ".wgtui-journal"))]
        (clients / "filler").unlink()
        again = run(wgtui_cmd(a.ns, *args))  # the same command, once there is room: the name was never taken
        assert again.returncode == 0, again.stderr
        new = set(lab.dump(a).peers) - before_live
        assert len(new) == 1 and (clients / f"{a.ifname}-carol.conf").exists()
    finally:
        subprocess.run(["umount", str(clients)], check=False)


def test_an_address_given_by_hand_before_the_lock_is_not_taken(lab: Lab, tmp_path: Path) -> None:
    from wgtui import keys

    a, b = lab.pair()
    assert a.address and b.address
    conf = server_config(tmp_path, a, {"site-b": (b.public_key, f"{b.address}/32")})
    before_file = conf.read_bytes()
    prefix = f"{a.address.rsplit('.', 1)[0]}.77/32"
    # Planned (the prefix is free), then held 3 s before taking the lock: the window of a slow confirmation.
    proc = subprocess.Popen(wgtui_cmd(a.ns, "peer", "add", a.ifname, "--name", "carol", "--allowed-ips", prefix,
                                      "--config-dir", str(tmp_path), "--yes",
                                      strace=["-o", "/dev/null", "-e", "inject=flock:delay_enter=3000000"]),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd="/")
    lock = tmp_path / f".{a.ifname}.conf.wgtui-lock"
    deadline = time.monotonic() + 20
    while not lock.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert lock.exists(), proc.communicate()
    by_hand = keys.keypair()[1]
    lab.set_peer(a, by_hand, allowed_ips=[prefix])  # another admin's `wg set`, meanwhile
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 1 and f"{prefix} now belongs to" in err, err
    assert lab.dump(a).peers[by_hand].allowed_ips == (prefix,) and conf.read_bytes() == before_file
    assert not (tmp_path / "clients").exists()
