"""The resident agent's parts without WireGuard: its decisions on a real config file and ledger (expiry, quota,
warnings once per cycle, deadlines), the deadline heap, sd_notify over a real datagram socket, the systemd unit, and
its command-line options."""

from __future__ import annotations

import configparser
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from wgtui import keys
from wgtui.agent import notify
from wgtui.agent.deadlines import Deadlines
from wgtui.agent.enforce import Options, deadlines, decide
from wgtui.agent.unit import UNIT, install_unit
from wgtui.agent.warnings import WarningMarks, expiry_threshold, quota_threshold
from wgtui.agent.watched import Watched
from wgtui.cli import build_parser, finish_args, main
from wgtui.lifecycle import db
from wgtui.lifecycle.events import EventType
from wgtui.lifecycle.ledger import Ledger
from wgtui.lifecycle.periods import format_timestamp
from wgtui.model import PeerState

ROOT = Path(__file__).resolve().parent.parent.parent
DAY = 86400
OPTIONS = Options((7 * DAY, 3 * DAY, DAY), (80, 100))
ALICE, BOB = keys.public_key(keys.generate_private_key()), keys.public_key(keys.generate_private_key())


# -- decisions on a real file and ledger ---------------------------------------------------------------------------


def config(tmp_path: Path, alice_meta: str, bob_meta: str = "", bob_disabled: bool = False) -> Path:
    bob = f"[Peer]\n# friendly_name = bob\n{bob_meta}PublicKey = {BOB}\nAllowedIPs = 10.0.0.3/32\n"
    if bob_disabled:
        bob = "".join(f"#[disabled] {line}\n" for line in bob.splitlines())
    path = tmp_path / "wg0.conf"
    path.write_text(f"[Interface]\nPrivateKey = {keys.generate_private_key()}\nListenPort = 51820\n\n"
                    f"[Peer]\n# friendly_name = alice\n{alice_meta}PublicKey = {ALICE}\nAllowedIPs = 10.0.0.2/32\n\n"
                    + bob)
    return path


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.open(tmp_path / "state") as opened:
        yield opened


def watched(path: Path) -> Watched:
    w = Watched("wg0", path)
    assert w.load_config() and w.has_config
    return w


def test_an_expiry_disables_at_the_instant_and_warns_once_per_cycle(tmp_path: Path, ledger: Ledger) -> None:
    expires = 1_800_000_000
    w = watched(config(tmp_path, f"# wgtui: expires={format_timestamp(expires)}\n"))
    marks = WarningMarks(db.connect(db.db_path(tmp_path / "state")))
    actions, notices = decide(w, ledger, marks, OPTIONS, expires - 2 * DAY)
    assert actions == [] and [n.type for n in notices] == [EventType.PEER_EXPIRING]
    assert notices[0].data["warn_before"] == 3 * DAY
    assert notices[0].marks == ("expiry", str(expires), (3 * DAY, 7 * DAY))
    assert notices[0].data["name"] == "alice" and notices[0].public_key == ALICE
    marks.mark(notices[0].peer_id, *notices[0].marks, expires - 2 * DAY)  # type: ignore[misc]
    assert decide(w, ledger, marks, OPTIONS, expires - 2 * DAY + 60)[1] == []  # sent once
    again = WarningMarks(db.connect(db.db_path(tmp_path / "state")))  # a restarted agent remembers
    assert decide(w, ledger, again, OPTIONS, expires - 1.5 * DAY)[1] == []
    assert [n.data["warn_before"] for n in decide(w, ledger, again, OPTIONS, expires - DAY)[1]] == [DAY]
    assert decide(w, ledger, again, OPTIONS, expires - 1)[0] == []
    (action,) = decide(w, ledger, again, OPTIONS, expires)[0]  # >=: at the instant itself
    assert (action.kind, action.public_key, action.reason) == ("disable", ALICE, "expired")
    assert [n.type for n in action.notices] == [EventType.PEER_EXPIRED]
    assert expires in deadlines(w, OPTIONS, expires - 8 * DAY) and expires - 7 * DAY in deadlines(w, OPTIONS, 0)

    later = expires + 30 * DAY  # the expiry is extended: a new cycle, warned again
    w = watched(config(tmp_path, f"# wgtui: expires={format_timestamp(later)}\n"))
    assert [n.data["warn_before"] for n in decide(w, ledger, again, OPTIONS, later - 2 * DAY)[1]] == [3 * DAY]


def test_a_quota_is_used_up_at_exactly_its_bytes_and_a_new_period_enables(tmp_path: Path, ledger: Ledger) -> None:
    w = watched(config(tmp_path, "# wgtui: quota=1000B/day\n"))
    marks = WarningMarks(db.connect(db.db_path(tmp_path / "state")))
    t0 = 1_800_000_000.0
    ledger.record("wg0", t0, {ALICE: PeerState(ALICE)})  # the baseline
    w.refresh_totals(ledger)
    w.add_increases(ledger.record("wg0", t0 + 1, {ALICE: PeerState(ALICE, rx_bytes=500, tx_bytes=300)}), t0 + 1)
    actions, notices = decide(w, ledger, marks, OPTIONS, t0 + 2)
    assert actions == [] and [(n.type, n.data["percent"], n.data["used_bytes"]) for n in notices] == \
        [(EventType.PEER_QUOTA_WARNING, 80, 800)]
    inc = ledger.record("wg0", t0 + 3, {ALICE: PeerState(ALICE, rx_bytes=600, tx_bytes=400)})
    w.add_increases(inc, t0 + 3)
    (action,) = decide(w, ledger, marks, OPTIONS, t0 + 4)[0]
    assert (action.kind, action.reason) == ("disable", "quota")
    assert action.notices[0].type == EventType.PEER_QUOTA_EXCEEDED and action.notices[0].data["used_bytes"] == 1000

    # Disabled for its quota: stays off in this period, comes back in the next (usage from the ledger itself).
    w = watched(config(tmp_path, "", "# wgtui: quota=1000B/day disabled=quota\n", bob_disabled=True))
    bob_id = w.peer_id(ledger, BOB)
    ledger.record("wg0", t0 + 5, {BOB: PeerState(BOB, rx_bytes=900, tx_bytes=200)})
    ledger.record("wg0", t0 + 6, {})
    w.forget_usage()
    assert w.peer_id(ledger, BOB) == bob_id and decide(w, ledger, marks, OPTIONS, t0 + 7)[0] == []
    end = Watched.bounds(w.policies[BOB].quota, t0 + 7)[1]  # type: ignore[arg-type]
    assert deadlines(w, OPTIONS, t0 + 7) == [end]
    (action,) = decide(w, ledger, marks, OPTIONS, end)[0]
    assert (action.kind, action.public_key, action.reason) == ("enable", BOB, "quota")


def test_threshold_arithmetic_is_integer_and_inclusive() -> None:
    assert quota_threshold(799, 1000, (80, 100)) == (None, [])
    assert quota_threshold(800, 1000, (80, 100)) == (80, [80])
    assert quota_threshold(10**13, 10**13, (80, 100)) == (100, [80, 100])
    assert expiry_threshold(1000, 1000, (10,)) == (None, [])  # expired: no warning, the expiry itself is due
    assert expiry_threshold(1000, 990, (10, 100)) == (10, [10, 100])
    assert expiry_threshold(1000, 989, (10, 100)) == (100, [100])


def test_the_deadline_heap_drops_replaced_entries() -> None:
    d = Deadlines()
    d.replace("wg0", [30.0, 10.0, 10.0])
    d.replace("wg1", [20.0])
    assert d.next() == 10.0 and len(d) == 3
    d.replace("wg0", [40.0])  # recomputed: 10 and 30 are gone
    assert d.next() == 20.0 and d.due(19.9) == set()
    assert d.due(20.0) == {"wg1"} and d.next() == 40.0
    d.forget("wg0")
    assert d.next() is None and len(d) == 0


# -- sd_notify ------------------------------------------------------------------------------------------------------


def test_notify_sends_datagrams_to_the_socket_systemd_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert notify.notify("READY=1") is False  # not under systemd: nothing to do
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        assert notify.notify("READY=1") and notify.notify("WATCHDOG=1")
        assert sock.recv(100) == b"READY=1" and sock.recv(100) == b"WATCHDOG=1"
    name = f"wgtui-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        assert notify.notify("STOPPING=1") and sock.recv(100) == b"STOPPING=1"
    path.unlink()
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    assert notify.notify("WATCHDOG=1") is False  # gone: never fatal


def test_notify_never_blocks_on_a_listener_that_does_not_read(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(tmp_path / "notify"))
        monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
        sent = [notify.notify("WATCHDOG=1") for _ in range(5000)]  # far more than a datagram queue holds
        assert sent[0] is True and sent[-1] is False


def test_the_watchdog_interval_is_half_the_timeout_for_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    assert notify.watchdog_interval() == 15.0
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))
    assert notify.watchdog_interval() is None
    monkeypatch.delenv("WATCHDOG_USEC")
    monkeypatch.delenv("WATCHDOG_PID")
    assert notify.watchdog_interval() is None


# -- the systemd unit -----------------------------------------------------------------------------------------------


def unit_sections(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    return parser


def test_the_unit_in_the_repository_is_the_one_the_agent_prints_and_is_sandboxed(
        capsys: pytest.CaptureFixture[str]) -> None:
    shipped = (ROOT / "packaging" / "wgtui-agent.service").read_text()
    assert shipped == UNIT
    assert main(["agent", "--print-unit"]) == 0 and capsys.readouterr().out == UNIT
    service = unit_sections(shipped)["Service"]
    assert service["Type"] == "notify" and service["WatchdogSec"] == "30" and service["Restart"] == "on-failure"
    assert service["ExecStart"].split()[:2] == ["/usr/local/bin/wgtui", "agent"]
    assert service["CapabilityBoundingSet"] == "CAP_NET_ADMIN"
    assert service["ProtectSystem"] == "strict" and service["ProtectHome"] == "yes"
    assert "/etc/wireguard" in service["ReadWritePaths"].split() and "-/run/wireguard" in service["ReadWritePaths"]
    assert service["StateDirectory"] == "wgtui" and service["StateDirectoryMode"] == "0700"
    assert service["PrivateTmp"] == "yes" and service["NoNewPrivileges"] == "yes"
    assert "AF_NETLINK" in service["RestrictAddressFamilies"]
    assert unit_sections(shipped)["Install"]["WantedBy"] == "multi-user.target"


def test_install_unit_writes_it_readable_by_systemd(tmp_path: Path) -> None:
    path = install_unit(tmp_path)
    assert path.read_text() == UNIT and (path.stat().st_mode & 0o777) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["wgtui-agent.service"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verifies_the_unit(tmp_path: Path) -> None:
    # ExecStart must name an existing file for verify: the same unit, the agent started by this interpreter.
    text = UNIT.replace("ExecStart=/usr/local/bin/wgtui agent", f"ExecStart={sys.executable} -m wgtui agent")
    (tmp_path / "wgtui-agent.service").write_text(text)
    done = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "wgtui-agent.service")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


# -- options --------------------------------------------------------------------------------------------------------


def parse(*argv: str) -> object:
    parser = build_parser()
    return finish_args(parser, parser.parse_args(list(argv)))


def test_agent_options() -> None:
    args = parse("--interval", "2", "agent", "--warn-before", "1d,7d", "--warn-at", "90%,50", "--metrics", "9586")
    assert args.stdio is False and args.once is False and args.interval == 2.0  # type: ignore[attr-defined]
    assert args.warn_before == (7 * DAY, DAY) and args.warn_at == (50, 90)  # type: ignore[attr-defined]
    assert args.metrics == "127.0.0.1:9586"  # type: ignore[attr-defined]
    assert parse("agent", "--interval", "0.5").interval == 0.5  # type: ignore[attr-defined]
    assert parse("agent", "--warn-before", "none", "--warn-at", "none").warn_at == ()  # type: ignore[attr-defined]
    assert parse("agent", "--stdio").stdio is True  # type: ignore[attr-defined]
    for bad in (["--warn-at", "150"], ["--warn-before", "soon"], ["--metrics", "0.0.0.0"]):
        with pytest.raises(SystemExit) as exc:
            parse("agent", *bad)
        assert exc.value.code == 2


def test_once_with_metrics_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["agent", "--once", "--metrics", "9586"]) == 2
    assert "--textfile" in capsys.readouterr().err


def test_once_says_why_it_failed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    etc, state = tmp_path / "etc", tmp_path / "state"
    etc.mkdir()
    base = ["--config-dir", str(etc), "--state-dir", str(state)]
    assert main([*base, "agent", "--once", "--textfile", str(tmp_path / "missing")]) == 1
    assert "is not a directory" in capsys.readouterr().err
    (etc / "wgtui.json").write_text('{"webhooks": [{"url": "http://192.0.2.1/hook", "secret_file": "/nonexistent"}]}')
    assert main([*base, "agent", "--once"]) == 1
    assert "webhooks[0]" in capsys.readouterr().err and not state.exists()  # refused before anything was made
    (etc / "wgtui.json").unlink()
    assert main([*base, "-i", "wgnosuch0", "agent", "--once"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("wgtui agent: wgnosuch0: There is no WireGuard interface") and err.count("\n") == 1
    assert (state / "wgtui.db").exists()
