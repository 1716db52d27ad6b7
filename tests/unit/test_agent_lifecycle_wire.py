"""The lifecycle over the agent protocol: peer meta with expiry, quota and disabled reason on the wire (and the older
4-item form both ways), a RemoteHost/RemoteBackend fed by a real Agent, the edit form's context, and the `lifecycle`
operation that `show --host` asks for."""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.unit.pipeline_fixtures import ALICE, BOB, GHOST, server
from wgtui.agent.protocol import config_from_json, config_to_json, meta_from_json, meta_to_json
from wgtui.agent.server import Agent
from wgtui.config_source import PeerMeta, load
from wgtui.lifecycle.ledger import Ledger
from wgtui.lifecycle.periods import Period, Quota
from wgtui.model import PeerState
from wgtui.monitor import Monitor
from wgtui.remote.backend import RemoteBackend
from wgtui.remote.fleet import Fleet
from wgtui.remote.host import Health, Mode, RemoteHost
from wgtui.remote.ssh import HostError, HostSpec, SshOptions

FULL = PeerMeta(1_700_000_000, "", 0, "", 4_102_444_800, "2099-12-31", Quota(50 * 10**9, Period.MONTH), None)


def _old_decode(item: list[Any]) -> PeerMeta:
    """How a viewer of the previous release decodes a meta list (config_from_json before the lifecycle)."""
    return PeerMeta(item[0], item[1], item[2], item[3])


def test_meta_round_trips_and_stays_4_items_without_a_policy() -> None:
    disabled = PeerMeta(None, "", 0, "", None, "", Quota(10**10, Period.LIFETIME), "quota")
    rotating = PeerMeta(1_700_000_000, "NEWKEY", 1_700_000_100, "")
    for meta in (FULL, disabled, rotating, PeerMeta()):
        assert meta_from_json(json.loads(json.dumps(meta_to_json(meta)))) == meta
    assert len(meta_to_json(rotating)) == 4 and len(meta_to_json(FULL)) == 8
    # An older agent's 4-item list decodes, with no policy; an older viewer reads the first four of a new list.
    assert meta_from_json([1_700_000_000, "NEWKEY", 1_700_000_100, ""]) == rotating
    assert _old_decode(meta_to_json(FULL)) == PeerMeta(1_700_000_000, "", 0, "")


def _agent_with_policies(tmp_path: Path) -> tuple[Agent, Any]:
    """The pipeline server, with bob given an expiry and a lifetime quota, and alice disabled, by the agent's own
    plan/apply (the way a remote `peer edit --expires --quota --host` reaches the host)."""
    backend, _ = server(tmp_path)
    agent = Agent(backend, tmp_path, tmp_path / "state")
    for argv in (["edit", "wg0", BOB, "--expires", "2099-12-31", "--quota", "50GB"], ["disable", "wg0", ALICE]):
        planned = agent.handle({"op": "plan", "argv": argv})
        assert planned["ok"], planned
        applied = agent.handle({"op": "apply", "token": planned["token"]})
        assert applied["ok"] and applied["result"]["applied"], applied
    return agent, backend


def test_config_views_carry_expiry_quota_and_disabled_reason(tmp_path: Path) -> None:
    _agent_with_policies(tmp_path)
    view = load(tmp_path / "wg0.conf", tmp_path / "peers")
    assert view.meta[BOB].expires_text == "2099-12-31" and view.meta[ALICE].disabled_reason == "manual"
    back = config_from_json(json.loads(json.dumps(config_to_json(view))))
    assert dict(back.meta) == dict(view.meta)
    assert back.meta[BOB].quota == Quota(50 * 10**9, Period.LIFETIME)
    assert set(back.disabled) == {ALICE}


class _AgentChannel:
    """A RemoteHost's ssh channel replaced by the agent in process: every request goes through Agent.handle and
    through JSON, as it would through ssh."""

    def __init__(self, agent: Agent) -> None:
        self.agent, self.sent, self.received = agent, 0, 0

    def request(self, op: str, timeout: float, **fields: Any) -> dict[str, Any]:
        wire = json.loads(json.dumps({"op": op, **fields}))
        return dict(json.loads(json.dumps(self.agent.handle(wire))))

    def close(self) -> None:
        pass


def test_a_remote_backend_fed_by_the_agent_gives_rows_with_the_policy(tmp_path: Path) -> None:
    agent, _ = _agent_with_policies(tmp_path)
    host = RemoteHost(HostSpec("vpn-a", "vpn-a"), SshOptions())
    host._channel = _AgentChannel(agent)  # type: ignore[assignment]
    backend = RemoteBackend(host)
    monitor = Monitor(backend, config_for=backend.config)  # type: ignore[arg-type]
    update = monitor.poll_once()
    assert host.health is Health.LIVE
    (delta,) = update.interfaces
    bob = delta.upserts[BOB]
    assert bob.meta is not None and bob.meta.expires_text == "2099-12-31"
    assert bob.meta.expires == load(tmp_path / "wg0.conf", tmp_path / "peers").meta[BOB].expires
    assert bob.meta.quota == Quota(50 * 10**9, Period.LIFETIME)
    assert backend.config("wg0").meta[ALICE].disabled_reason == "manual"


def test_the_edit_form_context_carries_expiry_and_quota(tmp_path: Path) -> None:
    from wgtui.ui.dialogs.form_context import context_from_json

    agent, _ = _agent_with_policies(tmp_path)
    answer = agent.handle({"op": "context", "interface": "wg0", "public_key": BOB})
    assert answer["ok"], answer
    peer = answer["context"]["peer"]
    assert (peer["expires"], peer["quota"]) == ("2099-12-31", "50GB")
    context, _ = context_from_json(json.loads(json.dumps(answer["context"])), "vpn-a")
    assert context.peer is not None and (context.peer.expires, context.peer.quota) == ("2099-12-31", "50GB")
    ghost = agent.handle({"op": "context", "interface": "wg0", "public_key": GHOST})
    assert not ghost["ok"] and "only peers in the file" in ghost["error"]


def _recorded(state: Path, live: dict[str, PeerState]) -> tuple[int, int]:
    """Two readings of the host's ledger, as its resident agent makes them, bob's counters grown in between; his
    lifetime totals as the ledger itself sums them."""
    now = time.time()
    with Ledger.open(state) as ledger:
        ledger.record("wg0", now - 20, live)
        ledger.record("wg0", now - 10, {**live, BOB: PeerState(BOB, allowed_ips=("10.8.0.3/32",), rx_bytes=3000,
                                                                tx_bytes=4000)})
        totals = ledger.totals("wg0")[BOB]
    return totals.rx_total, totals.tx_total


def test_the_lifecycle_operation_reads_the_hosts_ledger(tmp_path: Path) -> None:
    agent, backend = _agent_with_policies(tmp_path)
    none = agent.handle({"op": "lifecycle", "interfaces": ["wg0"]})
    assert none["ok"] and none["problem"] is None  # no ledger on this host yet: nulls, and nothing to complain of
    peers = none["interfaces"]["wg0"]["peers"]
    assert not none["interfaces"]["wg0"]["known"] and peers[BOB]["quota"]["used"] is None
    assert peers[BOB]["rx_total"] is None and peers[ALICE]["disabled_reason"] == "manual"

    rx_total, tx_total = _recorded(tmp_path / "state", dict(backend.read("wg0").peers))
    answer = agent.handle({"op": "lifecycle", "interfaces": None})
    assert answer["ok"], answer
    bob = answer["interfaces"]["wg0"]["peers"][BOB]
    assert (bob["rx_total"], bob["tx_total"]) == (rx_total, tx_total) != (0, 0)
    assert bob["quota"] == {"bytes": 50 * 10**9, "period": None, "used": rx_total + tx_total,
                            "period_end": None}
    assert bob["expires"] == load(tmp_path / "wg0.conf", tmp_path / "peers").meta[BOB].expires
    assert set(answer["interfaces"]["wg0"]["peers"]) == {BOB, GHOST, ALICE}  # live ones and the disabled one


class _Host:
    """What host_lifecycles uses of a RemoteHost: a live agent that answers `lifecycle` as `agent` does, or an agent
    of the previous release (`agent` None), which has no such operation."""

    def __init__(self, name: str, agent: Agent | None) -> None:
        self.name, self.agent, self.health, self.mode = name, agent, Health.LIVE, Mode.AGENT

    def request(self, op: str, timeout: float = 10.0, **fields: Any) -> dict[str, Any]:
        if self.agent is None:
            raise HostError(f"this agent (wgtui 0.9) has no operation {op!r}")
        answer = self.agent.handle(json.loads(json.dumps({"op": op, **fields})))
        if not answer["ok"]:
            raise HostError(answer["error"])
        return answer


def test_show_hosts_merges_each_hosts_answer_and_an_older_agent_stays_quiet(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from wgtui.cli.fleet import host_lifecycles, with_lifecycle
    from wgtui.cli.show import interface_json

    agent, backend = _agent_with_policies(tmp_path)
    totals = _recorded(tmp_path / "state", dict(backend.read("wg0").peers))
    fleet = SimpleNamespace(hosts=[_Host("new", agent), _Host("old", None)], each=Fleet.each)
    found = host_lifecycles(fleet, "wg0", 10.0)  # type: ignore[arg-type]
    assert set(found) == {"new"} and capsys.readouterr().err == ""  # the older agent: usage unknown, quietly
    view = load(tmp_path / "wg0.conf", tmp_path / "peers")
    shown = interface_json(backend.read("wg0"), view.names, time.time(), 180.0, None, view.meta, view.disabled)
    before = {p["public_key"]: dict(p) for p in shown["peers"]}
    merged = {p["public_key"]: p for p in with_lifecycle(shown, found["new"]["wg0"])["peers"]}
    assert before[BOB]["rx_total"] is None and before[BOB]["quota"]["used"] is None  # this side has no ledger
    assert (merged[BOB]["rx_total"], merged[BOB]["tx_total"]) == totals != (0, 0)  # the host's has
    assert merged[BOB]["quota"]["used"] == sum(totals)
    assert merged[BOB]["quota"]["bytes"] == 50 * 10**9 and merged[BOB]["expires"] == view.meta[BOB].expires
    assert merged[ALICE]["state"] == "disabled" and merged[ALICE]["disabled_reason"] == "manual"

    absent = host_lifecycles(SimpleNamespace(hosts=[_Host("new", agent)], each=Fleet.each), "wg9", 10.0)  # type: ignore[arg-type]
    assert absent == {"new": {"wg9": {"known": True, "peers": {}}}}  # an interface the host has not: no peers


def test_the_usage_operation_answers_what_a_local_detail_screen_reads(tmp_path: Path) -> None:
    """A remote host's detail screen asks the host's agent for a peer's quota use and history (RemoteChanges.usage,
    its UsageReader): the answer is what the detail screen would read from that ledger on the host itself."""
    from wgtui.lifecycle.peer_usage import read_usage
    from wgtui.remote.changes import RemoteChanges

    agent, backend = _agent_with_policies(tmp_path)
    remote = RemoteChanges(_Host("vpn-a", agent))  # type: ignore[arg-type]
    before = remote.usage("wg0", BOB, None, "day", time.time())
    assert before.quota is None and before.history is None and "no database" in before.problem

    rx_total, tx_total = _recorded(tmp_path / "state", dict(backend.read("wg0").peers))
    now = time.time()
    # The quota is the host's: this side passes none, the agent reads bob's 50 GB lifetime quota from its file.
    got = remote.usage("wg0", BOB, None, "day", now)
    there = read_usage(tmp_path / "state", "wg0", BOB, Quota(50 * 10**9, Period.LIFETIME), "day", now)
    assert got.problem == "" and got.quota is not None and got.quota == there.quota
    assert got.quota.used == rx_total + tx_total != 0 and got.quota.period_end is None
    assert got.history is not None and there.history is not None
    assert sum(got.history[0]) == sum(there.history[0]) and sum(got.history[1]) == sum(there.history[1]) != 0
    assert remote.usage("wg0", BOB, None, None, now).history is None  # no span asked: no history read

    assert "no usage span" in remote.usage("wg0", BOB, None, "year", now).problem
    older = RemoteChanges(_Host("old", None)).usage("wg0", BOB, None, "day", now)  # type: ignore[arg-type]
    assert older.quota is None and "no operation 'usage'" in older.problem
