"""Peer policies in the config file: written through plans, read back, hostile values refused, disable reasons."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from tests.unit.pipeline_fixtures import ALICE, BOB, CONF, server
from wgtui.changes import ChangeRefused, Plan, Planner, transaction
from wgtui.changes.disable import plan_disable, plan_enable
from wgtui.conf import Document, ValidationError
from wgtui.conf.meta import format_meta
from wgtui.lifecycle.periods import Period, PolicyError, Quota
from wgtui.lifecycle.policy import NO_POLICY, malformed, policies, policy_items

ROOT = Path(__file__).resolve().parent.parent.parent
FUTURE = "2099-12-31T18:00+01:00"


def apply(plan: Plan, backend: object) -> None:
    result = transaction.run(plan, backend)  # type: ignore[arg-type]
    assert result.ok, result.message


def test_expiry_and_quota_round_trip_through_the_file(tmp_path: Path) -> None:
    backend, conf = server(tmp_path)
    plan = Planner("wg0", conf, backend).edit("bob", expires=FUTURE, quota="50GB/month")
    assert f"+# wgtui: expires={FUTURE} quota=50GB/month" in plan.diff
    assert plan.runtime == ()  # a policy is the file's business only
    apply(plan, backend)
    found = policies(Document.read(conf))
    assert found[ALICE] == NO_POLICY
    bob = found[BOB]
    assert bob.expires is not None and bob.expires.format() == FUTURE
    assert bob.quota == Quota(50 * 10**9, Period.MONTH) and bob.disabled_reason is None
    # A bare date stays a date; a lifetime quota is written without a period.
    apply(Planner("wg0", conf, backend).edit("bob", expires="2099-01-31", quota="10GB"), backend)
    bob = policies(Document.read(conf))[BOB]
    assert bob.expires is not None and bob.expires.day == date(2099, 1, 31) and bob.expires.at is None
    assert bob.quota == Quota(10 * 10**9, Period.LIFETIME)
    # never / none lift them; with nothing left, the comment goes and the file is as it was.
    apply(Planner("wg0", conf, backend).edit("bob", expires="never", quota="none"), backend)
    assert conf.read_text() == CONF


def test_the_same_values_again_is_nothing_to_do(tmp_path: Path) -> None:
    backend, conf = server(tmp_path)
    apply(Planner("wg0", conf, backend).edit("bob", quota="50GB/month"), backend)
    with pytest.raises(ChangeRefused, match="Nothing to change"):
        Planner("wg0", conf, backend).edit("bob", quota="50GB/month")


def test_a_passed_expiry_is_written_with_a_warning(tmp_path: Path) -> None:
    backend, conf = server(tmp_path)
    plan = Planner("wg0", conf, backend).edit("bob", expires="2001-01-01")
    assert any("has passed already" in w for w in plan.warnings)


@pytest.mark.parametrize("value", [
    "2099-12-31\n[Peer]\nPublicKey = x",   # a newline would add lines
    "2099-12-31 quota=1B",                # a space would add an item
    "2099-12-31T18:00",                   # no zone
    "tomorrow",
])
def test_hostile_or_malformed_expiries_are_refused(tmp_path: Path, value: str) -> None:
    backend, conf = server(tmp_path)
    with pytest.raises(ChangeRefused) as refused:
        Planner("wg0", conf, backend).edit("bob", expires=value)
    assert refused.value.field == "expires"
    assert conf.read_text() == CONF


@pytest.mark.parametrize("value", ["50GB/month\nAllowedIPs = 0.0.0.0/0", "50 GB/month disabled=quota", "50XB", "0GB"])
def test_hostile_or_malformed_quotas_are_refused(value: str) -> None:
    with pytest.raises(PolicyError):
        policy_items(quota=value)


def test_meta_values_can_never_carry_a_line_or_an_item() -> None:
    for value in ("a\nb", "a b", "a\rb", "a\tb", "a#b", ""):
        with pytest.raises(ValidationError):
            format_meta({"expires": value})


def test_malformed_items_in_the_file_are_ignored_not_fatal(tmp_path: Path) -> None:
    text = CONF.replace(f"PublicKey = {BOB}", f"# wgtui: expires=someday quota=12XB/month\nPublicKey = {BOB}")
    text = text.replace(f"PublicKey = {ALICE}", f"# wgtui: expires=2099-02-30 quota=1GB/year\nPublicKey = {ALICE}")
    doc = Document.parse(text)
    found = policies(doc)
    assert found[BOB] == NO_POLICY and found[ALICE] == NO_POLICY
    items = sorted(item for _, item, _ in malformed(doc))
    assert items == ["expires=2099-02-30", "expires=someday", "quota=12XB/month", "quota=1GB/year"]


def test_disable_writes_its_reason_and_enable_takes_it_away(tmp_path: Path) -> None:
    backend, conf = server(tmp_path)
    plan = plan_disable(Planner("wg0", conf, backend), "bob", reason="quota")
    assert "+#[disabled] # wgtui: disabled=quota" in plan.diff
    apply(plan, backend)
    assert policies(Document.read(conf))[BOB].disabled_reason == "quota"
    apply(plan_enable(Planner("wg0", conf, backend), "bob"), backend)
    assert conf.read_text() == CONF  # byte for byte: the item went, and with it the comment it needed
    with pytest.raises(ChangeRefused, match="not a reason"):
        plan_disable(Planner("wg0", conf, backend), "bob", reason="because")


def test_a_disabled_block_without_a_reason_reads_as_manual(tmp_path: Path) -> None:
    lines = CONF.split("### Client bob\n")
    text = lines[0] + "".join(f"#[disabled] {ln}\n" for ln in ("### Client bob\n" + lines[1]).splitlines())
    text = text.replace(f"#[disabled] PublicKey = {BOB}", f"#[disabled] # wgtui: disabled=bogus\n"
                                                           f"#[disabled] PublicKey = {BOB}")
    found = policies(Document.parse(text))
    assert found[BOB].disabled_reason == "manual"
    assert found[ALICE].disabled_reason is None


def test_enabling_an_expired_peer_needs_a_new_expiry_or_force(tmp_path: Path) -> None:
    backend, conf = server(tmp_path)
    apply(Planner("wg0", conf, backend).edit("bob", expires="2001-01-01T00:00Z", quota="5GB/day"), backend)
    apply(plan_disable(Planner("wg0", conf, backend), "bob", reason="expired"), backend)
    with pytest.raises(ChangeRefused, match=r"expired at .*--expires.*--force") as refused:
        plan_enable(Planner("wg0", conf, backend), "bob")
    assert refused.value.field == "expires"
    with pytest.raises(ChangeRefused, match="has passed already"):
        plan_enable(Planner("wg0", conf, backend), "bob", expires="2002-01-01")
    # `peer edit` cannot reach a disabled peer, and says how to.
    with pytest.raises(ChangeRefused, match=r"bob is disabled .*peer enable wg0 bob"):
        Planner("wg0", conf, backend).edit("bob", expires=FUTURE)
    renewed = plan_enable(Planner("wg0", conf, backend), "bob", expires=FUTURE)
    assert f"+# wgtui: expires={FUTURE} quota=5GB/day" in renewed.diff
    forced = plan_enable(Planner("wg0", conf, backend), "bob", force=True)
    assert "+# wgtui: quota=5GB/day" in forced.diff and any("--force" in n for n in forced.notes)
    apply(forced, backend)
    bob = policies(Document.read(conf))[BOB]
    assert bob.expires is None and bob.disabled_reason is None and BOB in backend.ifaces["wg0"]


def test_policies_read_thousands_of_disabled_blocks(tmp_path: Path) -> None:
    """Disabled blocks are read in one pass (a document parse per block took minutes at 10,000)."""
    from wgtui import keys

    blocks = ["[Interface]\nPrivateKey = " + keys.keypair()[0] + "\n"]
    wanted = {}
    for i in range(3000):
        key = keys.keypair()[1]
        wanted[key] = ("quota", "expired", "manual")[i % 3]
        blocks.append("\n".join(f"#[disabled] {ln}" for ln in (
            "[Peer]", f"# wgtui: quota={i + 1}GB/month disabled={wanted[key]}", f"PublicKey = {key}",
            f"AllowedIPs = 10.{i >> 8}.{i & 255}.1/32")) + "\n")
    found = policies(Document.parse("\n".join(blocks)))
    assert {k: p.disabled_reason for k, p in found.items()} == wanted
    assert all(found[k].quota is not None for k in wanted)


def test_cli_refuses_a_bad_value_as_a_usage_error(tmp_path: Path) -> None:
    _, conf = server(tmp_path)
    for option, value in (("--expires", "next-week"), ("--quota", "lots")):
        proc = subprocess.run([sys.executable, "-m", "wgtui", "peer", "edit", "wg0", "bob", option, value,
                               "--file-only", "--yes", "--config-dir", str(tmp_path)],
                              capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert proc.returncode == 2 and option in proc.stderr and "Traceback" not in proc.stderr
        assert conf.read_text() == CONF


def test_the_preview_of_a_disable_or_enable_never_shows_the_preshared_key(tmp_path: Path) -> None:
    from tests.unit.pipeline_fixtures import BOB_PSK

    backend, conf = server(tmp_path)
    off = plan_disable(Planner("wg0", conf, backend), "bob")
    assert "#[disabled] PresharedKey = (hidden #" in off.diff and BOB_PSK not in off.diff
    apply(off, backend)
    on = plan_enable(Planner("wg0", conf, backend), "bob")
    assert "-#[disabled] PresharedKey = (hidden #" in on.diff and BOB_PSK not in on.diff
