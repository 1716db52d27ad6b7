"""Undo of the last change: file byte for byte, the peers it touched, client configs; refused when things moved."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.pipeline_fixtures import ALICE, BOB, CONF, server
from wgtui.changes import ChangeRefused, Planner, transaction
from wgtui.changes.disable import plan_disable
from wgtui.changes.undo import plan_undo


def undo(conf: Path, backend: object) -> None:
    result = transaction.run(plan_undo(Planner("wg0", conf, backend)), backend)  # type: ignore[arg-type]
    assert result.ok, result.message


@pytest.mark.parametrize("change", ["add", "remove", "edit", "rotate", "disable", "psk"])
def test_undo_gives_back_the_file_the_peers_and_the_client_configs(tmp_path: Path, change: str) -> None:
    backend, conf = server(tmp_path)
    before_live, before_psks = dict(backend.ifaces["wg0"]), dict(backend.psks)
    planner = Planner("wg0", conf, backend)
    plan = {"add": lambda: planner.add("carol", preshared_key=True), "remove": lambda: planner.remove("bob"),
            "edit": lambda: planner.edit("alice", allowed_ips="10.8.0.20/32", keepalive=15),
            "rotate": lambda: planner.rotate_now("bob"), "disable": lambda: plan_disable(planner, "bob"),
            "psk": lambda: planner.rotate_psk("bob")}[change]()
    assert transaction.run(plan, backend).ok
    assert conf.read_text() != CONF
    preview = plan_undo(Planner("wg0", conf, backend))
    assert preview.title.startswith("Undo: ") and preview.after == CONF
    undo(conf, backend)
    assert conf.read_text() == CONF
    assert backend.ifaces["wg0"] == before_live and backend.psks == before_psks
    assert not (tmp_path / "clients").exists() or list((tmp_path / "clients").iterdir()) == []
    undo(conf, backend)  # undoing the undo redoes
    assert conf.read_text() == plan.after


def test_undo_is_refused_when_the_file_changed_since(tmp_path: Path) -> None:
    backend, conf = server(tmp_path)
    assert transaction.run(Planner("wg0", conf, backend).remove("alice"), backend).ok
    conf.write_text(conf.read_text() + "# a note added by hand\n")
    with pytest.raises(ChangeRefused, match="changed after 'Remove peer alice from wg0'"):
        plan_undo(Planner("wg0", conf, backend))


def test_undo_is_refused_when_the_peers_involved_changed_since(tmp_path: Path) -> None:
    backend, conf = server(tmp_path)
    assert transaction.run(Planner("wg0", conf, backend).edit("bob", keepalive=10), backend).ok
    backend.bump("wg0", BOB, persistent_keepalive=99)  # `wg set` by hand afterwards
    with pytest.raises(ChangeRefused, match=r"touched changed since on wg0 \(bob\)"):
        plan_undo(Planner("wg0", conf, backend))
    assert ALICE in backend.ifaces["wg0"]


def test_nothing_to_undo_says_so(tmp_path: Path) -> None:
    backend, conf = server(tmp_path)
    with pytest.raises(ChangeRefused, match="no change of wg0 to undo"):
        plan_undo(Planner("wg0", conf, backend))
