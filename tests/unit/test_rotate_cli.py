"""The rotation commands' contract without WireGuard: usage errors, choosing peers by key age, `peer pending`."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.unit.pipeline_fixtures import ALICE, BOB, server
from wgtui.changes import ChangeRefused, Planner
from wgtui.cli import build_parser
from wgtui.cli.rotate import chosen_peers
from wgtui.conf.meta import KEY_CREATED, stamp
from wgtui.durations import parse_age, short_age

ROOT = Path(__file__).resolve().parent.parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wgtui", *args], capture_output=True, text=True, timeout=60,
                          cwd=ROOT)


def test_ages_read_as_people_write_them() -> None:
    assert parse_age("90d") == 90 * 86400 and parse_age("12w") == 12 * 7 * 86400 and parse_age(" 36h ") == 36 * 3600
    for bad in ("90", "d", "0d", "-1d", "1.5d", "3 months"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_age(bad)
    assert [short_age(s) for s in (5, 300, 7200, 3 * 86400, 20 * 86400, 800 * 86400)] == \
        ["5s", "5m", "2h", "3d", "2w", "2y"]


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run("peer", "rotate", "wg0", "--older-than", "soon").returncode == 2
    assert run("peer", "rotate", "wg0", "--all", "--older-than", "90d").returncode == 2
    assert run("peer", "rotate", "wg0", "a", "--now", "--psk").returncode == 2


def test_now_and_psk_take_exactly_one_peer(tmp_path: Path) -> None:
    (tmp_path / "wg0.conf").write_text("[Interface]\nListenPort = 1\n")
    done = run("peer", "rotate", "wg0", "a", "b", "--now", "--file-only", "--config-dir", str(tmp_path), "--yes")
    assert done.returncode == 1 and "one peer at a time" in done.stderr


def test_older_than_picks_old_and_unknown_keys(tmp_path: Path) -> None:
    backend, conf = server(tmp_path)
    doc = Planner("wg0", conf, backend).doc.set_peer_meta(ALICE, {KEY_CREATED: stamp(time.time() - 3 * 86400)})
    conf.write_text(doc.render())
    planner = Planner("wg0", conf, backend)
    parse = build_parser().parse_args
    young = parse(["peer", "rotate", "wg0", "--older-than", "7d"])
    assert chosen_peers(young, planner) == [BOB]  # alice's key is 3 days old; bob's age is unknown
    assert sorted(chosen_peers(parse(["peer", "rotate", "wg0", "--older-than", "1d"]), planner)) == sorted([ALICE,
                                                                                                           BOB])
    assert sorted(chosen_peers(parse(["peer", "rotate", "wg0", "--all"]), planner)) == sorted([ALICE, BOB])
    with pytest.raises(ChangeRefused, match="Which peers"):
        chosen_peers(parse(["peer", "rotate", "wg0"]), planner)


def test_pending_with_nothing_pending_says_so(tmp_path: Path) -> None:
    server(tmp_path)
    listed = run("peer", "pending", "--config-dir", str(tmp_path))
    assert listed.returncode == 0 and "No key rotation is pending" in listed.stdout
    as_json = run("peer", "pending", "--config-dir", str(tmp_path), "--json")
    assert as_json.returncode == 0 and '"rotations": []' in as_json.stdout
