"""Provides the peer form for add and edit: validates as the user types, then works the change out into a Plan."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.validation import ValidationResult, Validator
from textual.widgets import Button, Checkbox, Footer, Input, Label, RadioButton, RadioSet, Static

from wgtui import ipalloc, keys
from wgtui.backends.base import BackendError
from wgtui.changes import ChangeRefused, Plan, Planner
from wgtui.changes.planner import refuse_taken
from wgtui.conf import ConfError, PeerView, ValidationError
from wgtui.conf.validate import (
    validate_allowed_ips,
    validate_endpoint,
    validate_keepalive,
    validate_key,
    validate_name,
)
from wgtui.model import KEEP
from wgtui.settings import ClientSettings
from wgtui.store import StoreError

log = logging.getLogger(__name__)

Owners = Mapping[ipalloc.Network, tuple[str, str]]
REFUSALS = (ChangeRefused, ConfError, StoreError, BackendError)

# Field names of the validators and ChangeRefused.field -> the input that shows the message.
FIELD_INPUT = {"name": "name", "public_key": "public_key", "allowed_ips": "allowed_ips", "endpoint": "endpoint",
               "persistent_keepalive": "keepalive", "keepalive": "keepalive", "server_endpoint": "server_endpoint"}


@dataclass(frozen=True)
class FormContext:
    """What the form needs, worked out in a thread before it opens (large files take a while)."""

    planner: Planner
    owners: Owners
    """Every allowed-IP prefix other peers hold -> (public key, name): duplicates are refused as you type."""
    taken_names: frozenset[str]
    allowed_ips: str
    """Prefill: the next free addresses (add) or the peer's own (edit)."""
    allowed_ips_note: str = ""
    """Why no address could be picked automatically, when none could."""
    peer: PeerView | None = None
    """The peer being edited (None: adding)."""
    keys_in_use: frozenset[str] = frozenset()
    """Public keys of every peer (file and interface): a pasted key must be new."""


def form_context(planner: Planner, public_key: str | None = None) -> FormContext:
    """Blocking (reads every peer): call it from a thread worker."""
    exclude = [public_key] if public_key else []
    owners = planner.prefix_owners(exclude)
    peers = planner.peers()
    names = frozenset(p.name for p in peers if p.name and p.public_key != public_key)
    in_use = frozenset(p.public_key for p in peers)
    if public_key is not None:
        peer = planner.doc.find_peer(public_key)
        if peer is None:
            raise ChangeRefused(f"{keys.short_key(public_key)} is on the running interface but not in "
                                f"{planner.config_path}: only peers in the file can be edited (adopt it first).")
        return FormContext(planner, owners, names, ", ".join(peer.allowed_ips), peer=peer, keys_in_use=in_use)
    try:
        return FormContext(planner, owners, names, ", ".join(planner.auto_allowed_ips()), keys_in_use=in_use)
    except ChangeRefused as exc:
        return FormContext(planner, owners, names, "", allowed_ips_note=str(exc), keys_in_use=in_use)


@dataclass(frozen=True)
class FormResult:
    plan: Plan
    make: Callable[[Planner], Plan]
    """Works the same change out again on a fresh Planner (after SaveConfig was turned off first)."""
    settings: ClientSettings | None = None
    """Client settings to remember once the change is applied (a new server endpoint), else None."""


class Check(Validator):
    """A textual validator around one of wgtui's field validators: the failure is the validator's sentence."""

    def __init__(self, check: Callable[[str], object]) -> None:
        super().__init__()
        self.check = check

    def validate(self, value: str) -> ValidationResult:
        try:
            self.check(value)
        except ValidationError as exc:
            return self.failure(exc.message, value)
        except (ChangeRefused, ConfError) as exc:
            return self.failure(str(exc), value)
        return self.success()


def refuse_duplicates(ips: tuple[str, ...], owners: Owners) -> None:
    """The Planner's exact-duplicate rule, checked per keystroke against prefixes gathered once."""
    refuse_taken(ips, owners, "this peer")


class PeerForm(ModalScreen[FormResult | None]):
    """Keyboard first: tab moves, enter in any field previews, escape cancels. Every input shows its own
    message under it; the preview button stays disabled, with the reason, while a field is invalid."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        Binding("enter", "submit", "Preview", id="form.submit"),
    ]

    def __init__(self, context: FormContext, settings: ClientSettings) -> None:
        super().__init__()
        self.context = context
        self.settings = settings
        self.editing = context.peer is not None
        self.shown: set[str] = set()
        """Inputs whose message is shown: changed by the user, or refused at submit (not pristine blanks)."""
        self._working = False
        """A plan is being worked out in a thread: a second enter must not start another."""
        self.labels: dict[str, str] = {}

    # -- layout ----------------------------------------------------------------------------------------------

    def _field(self, label: str, widget: Input, hint: str = "") -> ComposeResult:
        self.labels[str(widget.id)] = label
        with Horizontal(classes="form-row", id=f"row-{widget.id}"):
            yield Label(label, classes="form-label")
            with Vertical(classes="form-field"):
                yield widget
                yield Static(hint, classes="form-msg", id=f"{widget.id}-msg", markup=False)

    def compose(self) -> ComposeResult:
        ctx, peer = self.context, self.context.peer
        planner = ctx.planner
        title = (f"Edit peer {peer.name or keys.short_key(peer.public_key)} on {planner.ifname}" if peer
                 else f"Add a peer to {planner.ifname}")
        with Vertical(classes="dialog", id="form-dialog") as dialog:
            dialog.border_title = Content(title)
            yield from self._fields(peer)
            yield Static(id="form-status", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Preview (enter)", id="submit", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)
        yield Footer()

    def _fields(self, peer: PeerView | None) -> ComposeResult:
        ctx, planner = self.context, self.context.planner
        convention = planner.doc.naming.convention
        with VerticalScroll(classes="dialog-body"):
            # An unnamed peer can be edited without naming it (empty: no name, as before).
            yield from self._field("Name", Input(
                (peer.name or "") if peer else "", placeholder="alice-laptop", id="name", compact=True,
                valid_empty=peer is not None and not peer.name,
                validators=[Check(lambda v: validate_name(v, convention, ctx.taken_names))]))
            if not self.editing:
                with Horizontal(classes="form-row"):
                    yield Label("Key", classes="form-label")
                    with RadioSet(id="key-source", compact=True):
                        yield RadioButton("generate a key pair", value=True, id="key-generate", compact=True)
                        yield RadioButton("paste the client's public key", id="key-paste", compact=True)
                yield from self._field("Public key", Input(
                    placeholder="the client's public key (wg pubkey), 44 characters", id="public_key",
                    compact=True, validators=[Check(self._check_public_key)]))
            yield from self._field("Allowed IPs", Input(
                ctx.allowed_ips, placeholder="10.0.0.2/32, fd00::2/128", id="allowed_ips", compact=True,
                validators=[Check(self._check_allowed_ips)]), ctx.allowed_ips_note)
            if not self.editing:
                with Horizontal(classes="form-row"):
                    yield Label("Preshared key", classes="form-label")
                    yield Checkbox("generate one (extra post-quantum layer)", id="psk", compact=True)
            keepalive = peer.persistent_keepalive if peer else None
            yield from self._field("Keepalive", Input(
                str(keepalive) if keepalive else "", placeholder="off (seconds, 25 behind NAT)", id="keepalive",
                compact=True, valid_empty=True, validators=[Check(validate_keepalive)]))
            yield from self._field("Endpoint", Input(
                (peer.endpoint or "") if peer else "", placeholder="none (host:port if the peer has a fixed address)",
                id="endpoint", compact=True, valid_empty=True, validators=[Check(validate_endpoint)]))
            if not self.editing:
                yield from self._field("Server endpoint", Input(
                    self.settings.endpoint, placeholder="vpn.example.com:51820 (how clients reach this server)",
                    id="server_endpoint", compact=True, valid_empty=True,
                    validators=[Check(lambda v: validate_endpoint(v, "server_endpoint"))]))

    def on_mount(self) -> None:
        if not self.editing:
            self.query_one("#row-public_key").display = False
        self.set_message("allowed_ips", "")
        self.revalidate()
        self.query_one("#name", Input).focus()

    # -- validation ------------------------------------------------------------------------------------------

    def _check_public_key(self, value: str) -> None:
        key = validate_key(value)
        if key in self.context.keys_in_use:
            raise ChangeRefused(f"{keys.short_key(key)} is already a peer of {self.context.planner.ifname}.")

    def _check_allowed_ips(self, value: str) -> None:
        refuse_duplicates(validate_allowed_ips(value), self.context.owners)

    @property
    def pasting(self) -> bool:
        return not self.editing and self.query_one("#key-paste", RadioButton).value

    def _inputs(self) -> list[Input]:
        return [i for i in self.query(Input) if i.id != "public_key" or self.pasting]

    def revalidate(self) -> bool:
        """Validate every active input, show messages for the ones the user has touched, and explain."""
        problems: list[str] = []
        for box in self._inputs():
            result = box.validate(box.value)
            message = "" if result is None or result.is_valid else " ".join(result.failure_descriptions)
            label = self.labels[str(box.id)]
            if box.id in self.shown or (box.value and message):
                self.set_message(str(box.id), message)
                if message:
                    problems.append(f"fix {label} (the message under it)")
            elif message:
                problems.append(f"{label} {message}")
            elif not box.value:
                box.remove_class("-invalid")  # a blank the user has not reached yet is not an error yet
        self.query_one("#submit", Button).disabled = bool(problems)
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        self.status(Text(f"Cannot preview yet: {problems[0]}{more}", style="yellow") if problems else None)
        return not problems

    def status(self, text: Text | None) -> None:
        status = self.query_one("#form-status", Static)
        status.update(text or "")
        status.display = text is not None

    def set_message(self, field: str, message: str) -> None:
        msg = self.query_one(f"#{field}-msg", Static)
        if not message and field == "allowed_ips" and self.context.allowed_ips_note:
            msg.update(Text(self.context.allowed_ips_note, style="yellow"))
            msg.display = True
            return
        msg.update(Text(message, style="red"))
        msg.display = bool(message)

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self.shown.add(str(event.input.id))
        self.revalidate()

    @on(RadioSet.Changed, "#key-source")
    def _key_source(self) -> None:
        self.query_one("#row-public_key").display = self.pasting
        if self.pasting:
            self.query_one("#public_key", Input).focus()
        self.revalidate()

    # -- submit ----------------------------------------------------------------------------------------------

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "cancel":
            self.action_cancel()
        else:
            self.action_submit()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:
        if self._working:
            return
        if not self.revalidate():
            self.shown.update(str(i.id) for i in self._inputs())
            self.revalidate()
            first = next(i for i in self._inputs() if not i.is_valid)
            first.focus()
            return
        self._working = True
        self.status(Text("Working out the change…", style="dim"))
        self.query_one("#submit", Button).disabled = True
        self._plan(*self._request())

    def _value(self, field: str) -> str:
        return self.query_one(f"#{field}", Input).value.strip()

    def _request(self) -> tuple[Callable[[Planner], Plan], ClientSettings | None]:
        """The change as a function of a Planner, and the client settings to remember with it."""
        name, ips, ka, ep = (self._value(f) for f in ("name", "allowed_ips", "keepalive", "endpoint"))
        peer = self.context.peer
        if peer is not None:
            key = peer.public_key or ""
            changed = {field: value for field, value, before in (
                ("name", name, peer.name or ""), ("allowed_ips", ips, ", ".join(peer.allowed_ips)),
                ("keepalive", ka, str(peer.persistent_keepalive or "")), ("endpoint", ep, peer.endpoint or ""))
                if value != before}

            def edit(planner: Planner) -> Plan:
                return planner.edit(key, name=changed.get("name", KEEP), allowed_ips=changed.get("allowed_ips", KEEP),
                                    keepalive=changed.get("keepalive", KEEP), endpoint=changed.get("endpoint", KEEP))

            return edit, None
        public_key = self._value("public_key") if self.pasting else None
        psk = self.query_one("#psk", Checkbox).value
        server = self._value("server_endpoint")
        settings = None
        if server and server != self.settings.endpoint:
            settings = replace(self.settings, endpoint=validate_endpoint(server, "server_endpoint"))

        def add(planner: Planner) -> Plan:
            if server:  # the client config is made from the settings: use the endpoint typed here
                planner.settings = replace(planner.settings, endpoint=validate_endpoint(server, "server_endpoint"))
            return planner.add(name, public_key=public_key, allowed_ips=ips, preshared_key=psk,
                               keepalive=ka or None, endpoint=ep or None)

        return add, settings

    @work(thread=True, group="form", exit_on_error=False)
    def _plan(self, make: Callable[[Planner], Plan], settings: ClientSettings | None) -> None:
        # Planning renders the whole file and checks every prefix: a thread keeps the form responsive.
        try:
            plan = make(self.context.planner)
        except REFUSALS as exc:
            self.app.call_from_thread(self._refused, exc)
            return
        except Exception as exc:  # a bug: say so in the form rather than leave it "working" forever
            log.exception("planning failed")
            self.app.call_from_thread(self._refused, RuntimeError(f"unexpected error: {exc!r}"))
            return
        self.app.call_from_thread(self.dismiss, FormResult(plan, make, settings))

    def _refused(self, exc: Exception) -> None:
        self._working = False
        field = FIELD_INPUT.get(str(getattr(exc, "field", None) or ""))
        message = exc.message if isinstance(exc, ValidationError) else str(exc)
        if field and self.query(f"#{field}-msg"):
            self.shown.add(field)
            self.set_message(field, message)
            self.query_one(f"#{field}", Input).focus()
        self.status(Text(f"Refused: {message}", style="red"))
        self.query_one("#submit", Button).disabled = False
