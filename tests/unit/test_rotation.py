"""Staged rotations as one state machine: many peers started in one transaction, each finished as its own key
handshakes, cancelled one by one, resumed from the file by another session; key age written on the way."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.fakes import Clock
from tests.unit.pipeline_fixtures import ALICE, BOB, CONF, server
from wgtui import keys
from wgtui.changes import ChangeRefused, Planner
from wgtui.changes.rotation import FINISHED, TRANSITIONS, IllegalStep, RotationSession, Step
from wgtui.changes.rotation_plans import pending_rotations
from wgtui.conf import Document
from wgtui.conf.meta import all_meta, parse_stamp

CAROL = "C9WzYoo5vWtH9Z0V+6Eqk0xXZnYFvB6L4sKXz7DWd1k="


def three_peers(tmp_path: Path) -> tuple[object, Path]:
    conf = CONF + f"\n### Client carol\n[Peer]\nPublicKey = {CAROL}\nAllowedIPs = 10.8.0.4/32\n"
    backend, path = server(tmp_path, conf)
    from wgtui.model import PeerState

    backend.ifaces["wg0"][CAROL] = PeerState(CAROL, allowed_ips=("10.8.0.4/32",))
    return backend, path


def test_the_transition_table_is_closed_and_finished_steps_go_nowhere() -> None:
    for step, targets in TRANSITIONS.items():
        assert targets <= set(Step)
        if step in FINISHED:
            assert targets == frozenset()
    assert set(TRANSITIONS) == set(Step)
    # Every step is reachable from PLANNED.
    seen, todo = {Step.PLANNED}, [Step.PLANNED]
    while todo:
        for nxt in TRANSITIONS[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == set(Step)


def test_an_illegal_step_is_a_bug_not_a_silent_cancel(tmp_path: Path) -> None:
    backend, conf = server(tmp_path)
    session = RotationSession.new(Planner("wg0", conf, backend), ["alice"])
    rotation = session.rotations[0]
    with pytest.raises(IllegalStep):
        rotation.to(Step.DONE)  # PLANNED -> DONE skips the whole rotation
    session.start()
    assert rotation.step is Step.WAITING
    with pytest.raises(IllegalStep):
        rotation.to(Step.PLANNED)


def test_three_peers_start_in_one_transaction_and_finish_one_by_one(tmp_path: Path) -> None:
    backend, conf = three_peers(tmp_path)
    clock = Clock()
    session = RotationSession.new(Planner("wg0", conf, backend), ["alice", "bob", "carol"], clock=clock)
    assert session.plan is not None and "3 peers" in session.plan.title
    result = session.start()
    assert result.ok, result.message
    assert len(backend.applied) == 1  # one runtime transaction for all three
    live = backend.ifaces["wg0"]
    news = {r.label: r.new_key for r in session.rotations}
    assert all(live[k].allowed_ips == () for k in news.values())
    marks = {k: m for k, m in all_meta(Document.read(conf)).items() if "replaces" in m}
    assert {m["replaces"] for m in marks.values()} == {ALICE, BOB, CAROL}
    for label in news:  # the new keys' client configs are the pending blocks' (NAME-next), not the old ones'
        assert (tmp_path / "clients" / f"wg0-{label}-next.conf").exists()
    # bob's client switches first: only bob moves.
    backend.bump("wg0", news["bob"], latest_handshake=1_800_000_100)
    moved = session.poll()
    assert [r.label for r in moved] == ["bob"] and moved[0].step is Step.DONE
    assert BOB not in backend.ifaces["wg0"] and backend.ifaces["wg0"][news["bob"]].allowed_ips == ("10.8.0.3/32",)
    doc = Document.read(conf)
    assert doc.names[news["bob"]] == "bob" and doc.find_peer(BOB) is None
    assert doc.find_peer(news["bob"]).preshared_key is not None  # type: ignore[union-attr]  # carried over
    meta = all_meta(doc)[news["bob"]]
    assert parse_stamp(meta["key-created"]) == int(clock()) and "replaces" not in meta
    clients = tmp_path / "clients"
    assert (clients / "wg0-bob.conf").exists() and not (clients / "wg0-bob-next.conf").exists()
    assert {r.label: r.step for r in session.rotations} == {"alice": Step.WAITING, "bob": Step.DONE,
                                                            "carol": Step.WAITING}
    # carol is cancelled; alice's client switches later.
    carol = next(r for r in session.rotations if r.label == "carol")
    assert carol.cancel().ok and carol.step is Step.CANCELLED
    assert news["carol"] not in backend.ifaces["wg0"] and CAROL in backend.ifaces["wg0"]
    assert not (tmp_path / "clients" / "wg0-carol-next.conf").exists()
    clock.tick(30)
    backend.bump("wg0", news["alice"], latest_handshake=1_800_000_130)
    assert [r.label for r in session.poll()] == ["alice"]
    assert session.finished and pending_rotations(Planner("wg0", conf, backend)) == {}
    assert [p.public_key for p in Document.read(conf).peers] == [news["alice"], news["bob"], CAROL]


def test_another_session_resumes_what_the_file_says_is_pending(tmp_path: Path) -> None:
    backend, conf = server(tmp_path)
    first = RotationSession.new(Planner("wg0", conf, backend), ["alice"])
    assert first.start().ok
    new = first.rotations[0].new_key
    # A later session (the first one's SSH connection dropped): everything it needs is in the file.
    later = RotationSession.resume(Planner("wg0", conf, backend))
    assert [(r.old_key, r.new_key, r.step) for r in later.rotations] == [(ALICE, new, Step.WAITING)]
    assert later.rotations[0].allowed_ips == ("10.8.0.2/32", "fd00:8::2/128")
    with pytest.raises(ChangeRefused, match="already pending"):
        RotationSession.new(Planner("wg0", conf, backend), ["alice"])
    with pytest.raises(ChangeRefused, match="No rotation of bob is pending"):
        RotationSession.resume(Planner("wg0", conf, backend), ["bob"])
    backend.bump("wg0", new, latest_handshake=1_800_000_100)
    assert later.poll()[0].step is Step.DONE
    # The first session finds it done by someone else: refused with words, not a crash.
    first.rotations[0].to(Step.HANDSHAKEN)
    result = first.rotations[0].complete()
    assert not result.ok and "another session finished or cancelled it" in result.message
    assert first.rotations[0].step is Step.BLOCKED


def test_a_blocked_finish_keeps_the_rotation_pending_and_says_how_to_go_on(tmp_path: Path) -> None:
    backend, conf = server(tmp_path)
    session = RotationSession.new(Planner("wg0", conf, backend), ["alice"])
    assert session.start().ok
    rotation = session.rotations[0]
    backend.bump("wg0", rotation.new_key, latest_handshake=1_800_000_100)
    conf.chmod(0o600)
    conf.parent.chmod(0o777)  # the finish is refused (unsafe directory) after the handshake
    try:
        session.poll()
    finally:
        conf.parent.chmod(0o700)
    assert rotation.step is Step.BLOCKED and "--resume" in rotation.message and ALICE in backend.ifaces["wg0"]
    assert session.finished  # nothing more this session can do by itself
    again = RotationSession.resume(Planner("wg0", conf, backend))
    assert again.poll()[0].step is Step.DONE


def test_a_timeout_leaves_it_pending(tmp_path: Path) -> None:
    backend, conf = server(tmp_path)
    clock = Clock()
    session = RotationSession.new(Planner("wg0", conf, backend), ["alice"], timeout=60, clock=clock)
    assert session.start().ok
    clock.tick(61)
    progress = session.rotations[0].check()
    assert progress.timed_out and "stays pending" in progress.message and session.timed_out()
    assert session.rotations[0].step is Step.WAITING and pending_rotations(Planner("wg0", conf, backend))


def test_the_new_blocks_follow_the_files_naming_convention(tmp_path: Path) -> None:
    backend, conf = server(tmp_path)
    session = RotationSession.new(Planner("wg0", conf, backend), ["alice"])
    assert session.plan is not None
    added = [ln[1:] for ln in session.plan.diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    new = session.rotations[0].new_key
    assert added[:3] == ["", "### Client alice-next", "[Peer]"]  # angristan's convention, as the file uses it
    assert re.fullmatch(rf"# wgtui: replaces={re.escape(ALICE)} since=\S+Z", added[3])
    assert added[4] == f"PublicKey = {new}" and not any(a.startswith("AllowedIPs") for a in added)


def test_one_new_public_key_for_several_peers_is_refused(tmp_path: Path) -> None:
    backend, conf = server(tmp_path)
    with pytest.raises(ChangeRefused, match="one new key"):
        RotationSession.new(Planner("wg0", conf, backend), ["alice", "bob"], public_key=keys.keypair()[1])


def test_a_resumed_rotation_knows_where_its_new_client_config_is(tmp_path: Path) -> None:
    backend, conf = server(tmp_path)
    first = RotationSession.new(Planner("wg0", conf, backend), ["alice"])
    assert first.start().ok
    later = RotationSession.resume(Planner("wg0", conf, backend))
    assert later.rotations[0].client_path == tmp_path / "clients" / "wg0-alice-next.conf"
    (tmp_path / "clients" / "wg0-alice-next.conf").write_text("someone else's\n")
    assert RotationSession.resume(Planner("wg0", conf, backend)).rotations[0].client_path is None
