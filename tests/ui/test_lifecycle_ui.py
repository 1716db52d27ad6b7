"""The peer lifecycle in the dashboard: expiry and quota read from the file's wgtui comment, quota usage and the
day/week/month history from a real usage ledger (SQLite) in the state directory, and the form's two fields."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.text import Text
from textual.widgets import Input, Static

from tests.ui.helpers import body, done, fill, first_poll, screen, screen_text, started, until
from wgtui.conf import Document
from wgtui.config_source import PeerMeta, load
from wgtui.lifecycle.ledger import Ledger
from wgtui.lifecycle.peer_usage import QuotaUse
from wgtui.lifecycle.periods import Period, Quota, parse_quota
from wgtui.model import PeerState
from wgtui.ui.dialogs.client_config import ClientConfigScreen
from wgtui.ui.dialogs.diff_preview import DiffPreview
from wgtui.ui.dialogs.form_context import PeerRequest
from wgtui.ui.dialogs.new_expiry import NewExpiryScreen
from wgtui.ui.dialogs.peer_form import PeerForm
from wgtui.ui.policy_facts import DONE, WARN, disabled_words, expiry_fact, in_words, quota_fact
from wgtui.ui.screens.dashboard import DashboardScreen
from wgtui.ui.screens.peer_detail import PeerDetailScreen
from wgtui.ui.widgets.peer_detail import PeerDetail
from wgtui.ui.widgets.sparkline import Sparkline

SIZE = (100, 40)
ALICE_META = "# wgtui: key-created=2027-01-14T08:00:00Z"
# The test clock starts at 2027-01-15T08:00Z: three days ahead, and a month quota.
POLICY = "expires=2027-01-18T08:00Z quota=50GB/month"


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    """Quota periods and local times are the host's: fixed here so that the figures are the same everywhere."""
    monkeypatch.setenv("TZ", "UTC")


def with_policy(conf: Path, policy: str = POLICY) -> str:
    """Give alice-desktop an expiry and a quota in her wgtui comment; her public key."""
    text = conf.read_text()
    assert text.count(ALICE_META) == 1
    conf.write_text(text.replace(ALICE_META, f"{ALICE_META} {policy}"))
    return {name: key for key, name in Document.read(conf).names.items()}["alice-desktop"]


def record_usage(state_dir: Path, key: str, now: float, rx: int, tx: int) -> None:
    """What the agent does: two polls; the second one's increase is usage of this minute (the first one's counters
    are from before wgtui and go into no period)."""
    with Ledger.open(state_dir) as ledger:
        ledger.record("wg0", now - 120, {key: PeerState(public_key=key)})
        ledger.record("wg0", now - 60, {key: PeerState(public_key=key, rx_bytes=rx, tx_bytes=tx)})


def styles_of(widget: Static) -> set[str]:
    content = widget.content
    assert isinstance(content, Text)
    return {str(span.style) for span in content.spans}


async def open_detail(app: object, pilot: object, key: str) -> PeerDetailScreen:
    dashboard = app.dashboard  # type: ignore[attr-defined]
    assert dashboard.table.select_key(key)
    await pilot.press("enter")  # type: ignore[attr-defined]
    return await screen(pilot, PeerDetailScreen)  # type: ignore[arg-type]


async def test_detail_screen_shows_expiry_and_quota_used_from_the_ledger(tmp_path: Path) -> None:
    state = tmp_path / "state"
    app, clock, conf = started(tmp_path, state_dir=state)
    key = with_policy(conf)
    record_usage(state, key, clock(), rx=8_000_000_000, tx=4_000_000_000)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        # The pane under the table: the expiry and the quota's limit.
        assert app.dashboard.table.select_key(key)
        app.dashboard.refresh_detail()
        await pilot.pause()
        pane = body(app.dashboard.query_one(PeerDetail).query_one("#detail-fields", Static))
        assert "expires in 3 days · quota 50 GB a month" in pane
        detail = await open_detail(app, pilot, key)
        fields = detail.query_one("#detail-all", Static)
        await until(pilot, lambda: "12.0 GB of 50 GB" in body(fields))
        text = body(fields)
        assert "expires  in 3 days (2027-01-18 08:00 UTC)" in text
        # 12 GB received + sent this month, the month ends on 2027-02-01 00:00 UTC: 16 days and 16 hours.
        assert "quota  12.0 GB of 50 GB this month (24 %), resets in 17 days" in text
        assert "yellow" in styles_of(fields), "an expiry this close warns"
        # h: the ledger's day, in minutes: the 8 GB received are there, nothing was sent in another minute.
        await pilot.press("h")
        rx_line = detail.query_one("#detail-spark-rx", Sparkline)
        await until(pilot, lambda: rx_line.suffix.startswith("last day"))
        assert rx_line.suffix == "last day: 8.0 GB · peak 8.0 GB/min"
        assert sum(rx_line.values) == 8_000_000_000 and len(rx_line.values) == 1440
        await pilot.press("h")
        await until(pilot, lambda: rx_line.suffix.startswith("last week"))
        assert rx_line.suffix == "last week: 8.0 GB · peak 8.0 GB/h" and len(rx_line.values) == 168
        await pilot.press("h", "h")  # month, then the live ten minutes again
        await until(pilot, lambda: "10 min" in rx_line.suffix)
        await pilot.press("escape")
        await screen(pilot, DashboardScreen)
        done(app)


async def test_used_up_quota_and_passed_expiry_are_said_in_red(tmp_path: Path) -> None:
    state = tmp_path / "state"
    app, clock, conf = started(tmp_path, state_dir=state)
    key = with_policy(conf, "expires=2027-01-13 quota=10GB")  # a bare date: the end of that day, here
    record_usage(state, key, clock(), rx=9_000_000_000, tx=1_000_000_000)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        detail = await open_detail(app, pilot, key)
        fields = detail.query_one("#detail-all", Static)
        await until(pilot, lambda: "10.0 GB of 10 GB" in body(fields))
        text = body(fields)
        assert "expired  1 day ago (end of 2027-01-13)" in text
        assert "quota  10.0 GB of 10 GB in all (100 %)" in text and "resets" not in text
        assert "bold red" in styles_of(fields)


async def test_without_a_database_the_detail_says_so_and_creates_nothing(tmp_path: Path) -> None:
    state = tmp_path / "no-state"
    app, _clock, conf = started(tmp_path, state_dir=state)
    key = with_policy(conf)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        detail = await open_detail(app, pilot, key)
        fields = detail.query_one("#detail-all", Static)
        await until(pilot, lambda: "no database" in body(fields))
        words = " ".join(body(fields).split())  # the long value wraps in its column
        assert f"quota 50 GB a month (no usage recorded: no database in {state}" in words
        tail = next(line for line in body(fields).splitlines() if "keeps it" in line)
        assert tail.startswith(" " * 24) and "quota" not in tail  # continued in the value's column
        await pilot.press("h")
        rx_line = detail.query_one("#detail-spark-rx", Sparkline)
        await until(pilot, lambda: "no database" in rx_line.suffix)
        assert rx_line.values == ()
    assert not state.exists()


async def test_a_peer_without_a_policy_never_expires_and_has_no_quota(tmp_path: Path) -> None:
    app, _clock, _conf = started(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        key = app.dashboard.table.cursor_key
        assert key is not None
        detail = await open_detail(app, pilot, key)
        text = body(detail.query_one("#detail-all", Static))
        assert "expires  never" in text and "quota  none" in text
        await pilot.press("h")  # no ledger here (no --state-dir): it says so, the live ten minutes stay
        await pilot.pause()
        assert "10 min" in detail.query_one("#detail-spark-rx", Sparkline).suffix


# -- the form ------------------------------------------------------------------------------------------------


async def test_form_refuses_a_bad_expiry_and_quota_with_a_message_under_each(tmp_path: Path) -> None:
    app, _clock, conf = started(tmp_path)
    original = conf.read_bytes()
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        await pilot.press("a")
        form = await screen(pilot, PeerForm)
        for field in ("expires", "quota"):
            assert form.query_one(f"#{field}", Input).placeholder.startswith("empty: "), field
        await fill(pilot, form, name="erin-laptop", expires="2027-01-20T18:00", quota="50GB/year")
        expires_msg = body(form.query_one("#expires-msg", Static))
        quota_msg = body(form.query_one("#quota-msg", Static))
        assert "has a time but no zone" in expires_msg
        assert "the period after '/' is month, week or day" in quota_msg
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PeerForm), "a bad expiry or quota never reaches the preview"
        assert "Cannot preview yet: fix Expires" in screen_text(app)
        await fill(pilot, form, expires="2027-02-30")
        assert "not a date of the calendar" in body(form.query_one("#expires-msg", Static))
        await fill(pilot, form, quota="0GB")
        assert "more than 0 bytes" in body(form.query_one("#quota-msg", Static))
        # Valid values say what they mean instead.
        await fill(pilot, form, expires="2027-01-20T18:00+01:00", quota="50GB/month")
        assert "disables the peer in 5 days (2027-01-20 17:00 UTC)" in body(form.query_one("#expires-msg", Static))
        assert "50 GB a month (received + sent), counted from the 1st" in body(form.query_one("#quota-msg",
                                                                                                Static))
        await pilot.press("escape")
        await screen(pilot, DashboardScreen)
    assert conf.read_bytes() == original
    done(app)


async def test_form_sends_expiry_and_quota_to_the_planner_on_add(tmp_path: Path) -> None:
    app, clock, conf = started(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        await pilot.press("a")
        form = await screen(pilot, PeerForm)
        await fill(pilot, form, name="erin-laptop", expires="2027-12-31T18:00+01:00", quota="20GB/week")
        await pilot.press("enter")
        preview = await screen(pilot, DiffPreview)
        text = body(preview.query_one("#preview-body", Static))
        assert "+# friendly_name = erin-laptop" in text
        meta = next(line for line in text.splitlines() if line.startswith("+# wgtui:"))
        assert "expires=2027-12-31T18:00+01:00" in meta and "quota=20GB/week" in meta
        await pilot.press("y")
        await screen(pilot, ClientConfigScreen)
        assert app.changes.last_result is not None and app.changes.last_result.ok
        # The dashboard reads the new peer's policy back from the file after the next poll.
        key = {name: k for k, name in Document.read(conf).names.items()}["erin-laptop"]
        clock.tick()
        app.poll_now()
        meta = app.dashboard.models["wg0"].rows[key].meta
        assert meta is not None and meta.expires_text == "2027-12-31T18:00+01:00"
        assert meta.quota == Quota(20_000_000_000, Period.WEEK)
        await pilot.press("escape")
        await screen(pilot, DashboardScreen)
        done(app)


async def test_edit_form_shows_the_policy_and_clearing_it_lifts_it(tmp_path: Path) -> None:
    app, _clock, conf = started(tmp_path)
    key = with_policy(conf)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        assert app.dashboard.table.select_key(key)
        await pilot.press("e")
        form = await screen(pilot, PeerForm)
        assert form.query_one("#expires", Input).value == "2027-01-18T08:00Z"
        assert form.query_one("#quota", Input).value == "50GB/month"
        # The expiry is pushed back, the quota cleared (empty: none): both show in the diff's meta comment.
        await fill(pilot, form, expires="2027-06-30", quota="")
        await pilot.press("enter")
        preview = await screen(pilot, DiffPreview)
        text = body(preview.query_one("#preview-body", Static))
        old = next(line for line in text.splitlines() if line.startswith("-# wgtui:"))
        new = next(line for line in text.splitlines() if line.startswith("+# wgtui:"))
        assert "quota=50GB/month" in old and "expires=2027-01-18T08:00Z" in old
        assert "expires=2027-06-30" in new and "quota=" not in new and "key-created=" in new
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, PeerForm) and app.screen is not form)
        again = app.screen
        assert isinstance(again, PeerForm)
        assert again.query_one("#expires", Input).value == "2027-06-30"  # what was typed comes back
        await pilot.press("escape")
        await screen(pilot, DashboardScreen)
        done(app)


# -- the words, without an app ------------------------------------------------------------------------------------


def test_warnings_start_at_80_percent_and_under_a_week() -> None:
    now = 1_800_000_000.0
    month = parse_quota("50GB/month")
    assert month is not None
    assert quota_fact(month, QuotaUse(39_999_999_999, int(now) + 86400), now) == (
        "quota", "40.0 GB of 50 GB this month (79 %), resets in 1 day", "")
    assert quota_fact(month, QuotaUse(40_000_000_000, int(now) + 86400), now) == (
        "quota", "40.0 GB of 50 GB this month (80 %), resets in 1 day", WARN)
    assert quota_fact(month, QuotaUse(50_000_000_000, int(now) + 86400), now) == (
        "quota", "50.0 GB of 50 GB this month (100 %), resets in 1 day", DONE)
    week_ahead = PeerMeta(expires=int(now) + 7 * 86400, expires_text="2027-01-22T08:00Z")
    just_under = PeerMeta(expires=int(now) + 7 * 86400 - 1, expires_text="2027-01-22T07:59:59Z")
    assert expiry_fact(week_ahead, now, short=True) == ("expires", "in 7 days", "")
    assert expiry_fact(just_under, now, short=True) == ("expires", "in 7 days", WARN)
    assert expiry_fact(PeerMeta(expires=int(now), expires_text="x"), now, short=True) == (
        "expired", "less than a minute ago", DONE)  # reached, not only passed: >=
    assert expiry_fact(PeerMeta(), now) is None and quota_fact(None, None, now) is None
    assert [in_words(s) for s in (59, 60, 7199, 7200, 86400 * 2.4, 86400 * 2.6)] == [
        "less than a minute", "1 minute", "1 hour", "2 hours", "2 days", "3 days"]


def test_the_file_gives_each_peer_its_policy_live_and_disabled(tmp_path: Path) -> None:
    conf = tmp_path / "wg0.conf"
    live = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
    off = "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX8="
    plain = "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PRooNRo="
    conf.write_text(
        "[Interface]\nPrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\nAddress = 10.8.0.1/24\n\n"
        f"[Peer]\n# wgtui: key-created=2026-11-29T19:20:00Z expires=2026-12-31T18:00+01:00 quota=50GB/month\n"
        f"PublicKey = {live}\nAllowedIPs = 10.8.0.2/32\n\n"
        f"[Peer]\n# wgtui: key-created=2026-11-29T19:20:00Z quota=lots\nPublicKey = {plain}\n"
        "AllowedIPs = 10.8.0.3/32\n\n"
        f"#[disabled] [Peer]\n#[disabled] # wgtui: expires=2026-11-01 disabled=expired\n"
        f"#[disabled] PublicKey = {off}\n#[disabled] AllowedIPs = 10.8.0.4/32\n")
    meta = load(conf, tmp_path / "peers").meta
    assert meta[live].expires == 1798736400 and meta[live].expires_text == "2026-12-31T18:00+01:00"
    assert meta[live].quota == Quota(50_000_000_000, Period.MONTH)
    assert meta[live].key_created is not None and meta[live].disabled_reason is None
    assert meta[plain].quota is None and meta[plain].key_created is not None  # a malformed quota counts as none
    assert meta[off].disabled_reason == "expired" and meta[off].expires_text == "2026-11-01"
    assert disabled_words(meta[off]) == "its expiry passed"


# -- enabling an expired peer ------------------------------------------------------------------------------------

OLGA = "D" * 43 + "="


def with_expired_olga(conf: Path) -> None:
    """A peer the agent disabled when its expiry (the end of 2027-01-10) passed."""
    conf.write_text(conf.read_text() + "\n#[disabled] # friendly_name = olga\n#[disabled] [Peer]\n"
                    "#[disabled] # wgtui: expires=2027-01-10 disabled=expired\n"
                    f"#[disabled] PublicKey = {OLGA}\n#[disabled] AllowedIPs = 10.8.9.9/32\n")


async def test_enabling_an_expired_peer_asks_for_a_new_expiry_first(tmp_path: Path) -> None:
    app, clock, conf = started(tmp_path)
    with_expired_olga(conf)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        dash = app.dashboard
        assert dash.table.select_key(OLGA)
        await pilot.pause()
        pane = body(dash.query_one("#detail-fields", Static))
        assert "⊘ disabled" in pane and "expired 4 days ago" in pane
        detail = await open_detail(app, pilot, OLGA)
        assert "disabled (its expiry passed; commented out" in body(detail.query_one("#detail-all", Static))
        await pilot.press("escape")
        await screen(pilot, DashboardScreen)
        # Escape in the question: nothing is enabled.
        original = conf.read_bytes()
        await pilot.press("x")
        await screen(pilot, NewExpiryScreen)
        await pilot.press("escape")
        await screen(pilot, DashboardScreen)
        assert conf.read_bytes() == original
        # A time that has passed is refused as typed; a date ahead goes to the preview as the new expires=.
        await pilot.press("x")
        question = await screen(pilot, NewExpiryScreen)
        assert "olga expired 4 days ago (end of 2027-01-10)" in body(question.query_one("#expiry-why", Static))
        await pilot.press(*"2027-01-14", "enter")
        await pilot.pause()
        assert app.screen is question and "passed already" in body(question.query_one("#new-expiry-msg", Static))
        question.query_one("#new-expiry", Input).value = "2027-06-30"
        await pilot.press("enter")
        preview = await screen(pilot, DiffPreview)
        text = body(preview.query_one("#preview-body", Static))
        new = next(line for line in text.splitlines() if line.startswith("+# wgtui:"))
        assert "expires=2027-06-30" in new and "disabled=" not in new
        await pilot.press("y")
        await until(pilot, lambda: app.changes.last_result is not None and not app.changes.busy)
        assert app.changes.last_result is not None and app.changes.last_result.ok
        clock.tick()
        app.poll_now()
        meta = dash.models["wg0"].rows[OLGA].meta
        assert meta is not None and meta.expires_text == "2027-06-30" and meta.disabled_reason is None
        done(app)


async def test_an_expired_peer_enabled_with_an_empty_expiry_never_expires(tmp_path: Path) -> None:
    app, _clock, conf = started(tmp_path)
    with_expired_olga(conf)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        assert app.dashboard.table.select_key(OLGA)
        await pilot.press("x")
        question = await screen(pilot, NewExpiryScreen)
        assert "never expires" in body(question.query_one("#new-expiry-msg", Static))
        await pilot.press("enter")
        preview = await screen(pilot, DiffPreview)
        text = body(preview.query_one("#preview-body", Static))
        assert "-#[disabled] # wgtui: expires=2027-01-10 disabled=expired" in text
        assert not any(line.startswith("+# wgtui:") and "expires=" in line for line in text.splitlines())
        await pilot.press("n")
        await screen(pilot, DashboardScreen)
        done(app)


def test_a_remote_host_gets_the_policy_as_the_command_line_takes_it() -> None:
    add = PeerRequest("erin", "auto", "", "", expires=" 2027-06-30 ", quota="50GB/month")
    assert add.argv("wg0")[-2:] == ["--expires=2027-06-30", "--quota=50GB/month"]
    assert not any(w.startswith(("--expires", "--quota")) for w in PeerRequest("erin", "auto", "", "").argv("wg0"))
    # Editing: only what changed goes; a cleared field lifts the policy (never / none).
    edit = PeerRequest("alice", "", "", "", edit=OLGA, changed=frozenset({"quota", "expires"}), expires="", quota="")
    assert edit.argv("wg0") == ["edit", "wg0", OLGA, "--expires=never", "--quota=none"]
    kept = PeerRequest("alice", "", "", "", edit=OLGA, changed=frozenset({"name"}), expires="", quota="")
    assert kept.argv("wg0") == ["edit", "wg0", OLGA, "--name=alice"]
