"""Provides the peer form for add and edit: validates as the user types, then works the change out into a Plan."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import ClassVar, Generic

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, RadioSet, Static

from wgtui import keys
from wgtui.changes import ChangeRefused
from wgtui.conf import ValidationError
from wgtui.conf.validate import (
    validate_allowed_ips,
    validate_endpoint,
    validate_keepalive,
    validate_key,
    validate_name,
)
from wgtui.settings import ClientSettings
from wgtui.ui.dialogs.form_context import (
    FIELD_INPUT,
    REFUSALS,
    Check,
    FormContext,
    FormPeer,
    FormResult,
    FormValues,
    P,
    PeerRequest,
    check_expiry,
    check_quota,
    form_context,
    is_public_key,
    refuse_duplicates,
)
from wgtui.ui.policy_facts import policy_hint
from wgtui.ui.widgets.form_controls import ChoiceSet, TextCheckbox, TextRadioButton

__all__ = ["REFUSALS", "Check", "FormContext", "FormResult", "FormValues", "PeerForm", "PeerRequest", "form_context"]

log = logging.getLogger(__name__)

NO_SERVER_ENDPOINT = "⚠ No server endpoint is set: the client config will say SERVER_ADDRESS:51820."
"""Said under the empty field (whose placeholder is only an example), in the words of the client config's own
warning: the form and the config it makes never disagree about whether an endpoint is set."""


EXPIRES_PLACEHOLDER = "empty: never (e.g. 2026-12-31, or 2026-12-31T18:00+01:00)"
QUOTA_PLACEHOLDER = "empty: none (e.g. 50GB/month, 5GB/day, or 10GB)"


class FormInput(Input):
    """An input that will not take a pasted public key unless it is the key field: a key pasted into Allowed IPs
    (whose text is selected when tab reaches it) would replace the addresses. The form puts it where it belongs."""

    class KeyPasted(Message):
        def __init__(self, field: FormInput, key: str) -> None:
            super().__init__()
            self.field = field
            self.key = key

    def _on_paste(self, event: events.Paste) -> None:
        # Textual calls the handler of each class up the MRO: a key stops it here (prevent_default), anything else
        # goes on to Input's own paste.
        line = event.text.splitlines()[0] if event.text else ""
        if self.id != "public_key" and is_public_key(line):
            event.prevent_default()
            event.stop()
            self.post_message(self.KeyPasted(self, line.strip()))


class PeerForm(ModalScreen[FormResult[P] | None], Generic[P]):
    """Keyboard first: tab moves, enter in any field previews, escape cancels. Every input shows its own
    message under it; the preview button stays disabled, with the reason, while a field is invalid.

    `plan` works the request out (blocking, called in a thread): a local Planner's, or a remote host's agent's.
    A refusal is shown in the form, under the field it is about when it names one."""

    ACCEPTS_TYPE_AHEAD = True
    """Keys typed before the form was shown ("a" and the name at once) are the user's text (ui/key_order.py);
    nothing is changed before its diff preview, which takes no such keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="form.cancel", tooltip="close the form; nothing is changed"),
        Binding("enter", "submit", "Preview", id="form.submit", tooltip="work the change out and preview its diff"),
    ]

    def __init__(self, context: FormContext, settings: ClientSettings, values: FormValues | None = None, *,
                 plan: Callable[[PeerRequest], P]) -> None:
        super().__init__()
        self.context = context
        self.planner = plan
        self.settings = settings
        self.values = values
        """What was typed before the preview was cancelled: the form opens with it."""
        self.editing = context.peer is not None
        self.shown: set[str] = set()
        """Inputs whose message is shown: changed by the user, or refused at submit (not pristine blanks)."""
        self._working = False
        """A plan is being worked out in a thread: a second enter must not start another."""
        self._values_now = FormValues({})
        """The values the plan being worked out was made from (given back if its preview is cancelled)."""
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
        title = (f"Edit peer {peer.name or keys.short_key(peer.public_key)} on {ctx.where}" if peer
                 else f"Add a peer to {ctx.where}")
        with Vertical(classes="dialog", id="form-dialog") as dialog:
            dialog.border_title = Content(title)
            yield from self._fields(peer)
            yield Static(id="form-status", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Preview (enter)", id="submit", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)
        yield Footer()

    def _initial(self, field: str, value: str) -> str:
        return self.values.inputs.get(field, value) if self.values is not None else value

    def _fields(self, peer: FormPeer | None) -> ComposeResult:
        # Placeholders are examples (`e.g. …`, drawn dim) or say what empty means: never something that could be
        # read as a value the field has. An unnamed peer's name field says it has none.
        ctx = self.context
        convention = ctx.convention
        values = self.values
        unnamed = peer is not None and not peer.name
        with VerticalScroll(classes="dialog-body"):
            # An unnamed peer can be edited without naming it (empty: no name, as before).
            yield from self._field("Name", FormInput(
                self._initial("name", (peer.name or "") if peer else ""), id="name", compact=True,
                placeholder="none yet: type one to name it" if unnamed else "e.g. alice-laptop",
                valid_empty=unnamed, validators=[Check(lambda v: validate_name(v, convention, ctx.taken_names))]))
            if not self.editing:
                paste = values is not None and values.paste_key
                with Horizontal(classes="form-row"):
                    yield Label("Key", classes="form-label")
                    with ChoiceSet(id="key-source", compact=True):
                        yield TextRadioButton("generate a key pair", value=not paste, id="key-generate",
                                              compact=True)
                        yield TextRadioButton("paste the client's public key", value=paste, id="key-paste",
                                              compact=True)
                yield from self._field("Public key", FormInput(
                    self._initial("public_key", ""), placeholder="the client's `wg pubkey`: 44 characters ending "
                    "in =", id="public_key", compact=True, validators=[Check(self._check_public_key)]))
            yield from self._field("Allowed IPs", FormInput(
                self._initial("allowed_ips", ctx.allowed_ips), placeholder="e.g. 10.0.0.2/32, fd00::2/128",
                id="allowed_ips", compact=True, validators=[Check(self._check_allowed_ips)]), ctx.allowed_ips_note)
            if not self.editing:
                with Horizontal(classes="form-row"):
                    yield Label("Preshared key", classes="form-label")
                    yield TextCheckbox("generate one (extra post-quantum layer)",
                                       value=values is not None and values.preshared_key, id="psk", compact=True)
            keepalive = peer.persistent_keepalive if peer else None
            yield from self._field("Keepalive", FormInput(
                self._initial("keepalive", str(keepalive) if keepalive else ""),
                placeholder="empty: off (seconds, e.g. 25 behind NAT)", id="keepalive", compact=True,
                valid_empty=True, validators=[Check(validate_keepalive)]))
            yield from self._field("Endpoint", FormInput(
                self._initial("endpoint", (peer.endpoint or "") if peer else ""),
                placeholder="empty: none (e.g. 192.0.2.7:51820 if it has a fixed one)", id="endpoint",
                compact=True, valid_empty=True, validators=[Check(validate_endpoint)]))
            yield from self._field("Expires", FormInput(
                self._initial("expires", peer.expires if peer else ""), placeholder=EXPIRES_PLACEHOLDER,
                id="expires", compact=True, valid_empty=True, validators=[Check(check_expiry)]))
            yield from self._field("Quota", FormInput(
                self._initial("quota", peer.quota if peer else ""), placeholder=QUOTA_PLACEHOLDER, id="quota",
                compact=True, valid_empty=True, validators=[Check(check_quota)]))
            if not self.editing:
                yield from self._field("Server endpoint", FormInput(
                    self._initial("server_endpoint", self.settings.endpoint),
                    placeholder="e.g. vpn.example.com:51820 (how clients reach this server)", id="server_endpoint",
                    compact=True, valid_empty=True,
                    validators=[Check(lambda v: validate_endpoint(v, "server_endpoint"))]))

    def on_mount(self) -> None:
        if not self.editing:
            self.query_one("#row-public_key").display = self.pasting
        self.set_message("allowed_ips", "")
        if not self.editing:
            self.set_message("server_endpoint", "")
        if self.values is not None:
            self.shown.update(k for k, v in self.values.inputs.items() if v)  # typed before: judged at once
        self.revalidate()
        self.query_one("#name", Input).focus()

    # -- validation ------------------------------------------------------------------------------------------

    def _check_public_key(self, value: str) -> None:
        key = validate_key(value)
        if key in self.context.keys_in_use:
            raise ChangeRefused(f"{keys.short_key(key)} is already a peer of {self.context.ifname}.")

    def _check_allowed_ips(self, value: str) -> None:
        refuse_duplicates(validate_allowed_ips(value), self.context.owners)

    @property
    def pasting(self) -> bool:
        return not self.editing and self.query_one("#key-paste", TextRadioButton).value

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
        note = (self.context.allowed_ips_note if field == "allowed_ips" else
                NO_SERVER_ENDPOINT if field == "server_endpoint" and not self._value("server_endpoint") else "")
        hint = policy_hint(field, self._value(field), self._now()) if not message and not note else None
        if hint is not None:
            msg.update(Text(*hint))
            msg.display = True
            return
        if not message and note:
            msg.update(Text(note, style="yellow"))
            msg.display = True
            return
        msg.update(Text(message, style="red"))
        msg.display = bool(message)

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self.shown.add(str(event.input.id))
        self.revalidate()
        if event.input.id == "server_endpoint" and not event.value:
            self.set_message("server_endpoint", "")

    @on(FormInput.KeyPasted)
    def _key_pasted(self, event: FormInput.KeyPasted) -> None:
        """A public key pasted into another field goes to the key field (adding), never over that field's text."""
        label = self.labels.get(str(event.field.id), "that field")
        if self.editing:
            self.notify(f"That is a public key: {label} kept its text. A peer's key is changed by rotating it (r).",
                        severity="warning", timeout=6, markup=False)
            return
        self.query_one("#key-paste", TextRadioButton).value = True
        box = self.query_one("#public_key", Input)
        box.value = event.key
        box.focus()
        self.notify(f"That was a public key: it went into Public key ({label} kept its text).", timeout=5,
                    markup=False)

    @on(ChoiceSet.Confirmed, "#key-source")
    def _key_source_confirmed(self) -> None:
        if self.pasting:
            self.query_one("#public_key", Input).focus()

    @on(RadioSet.Changed, "#key-source")
    def _key_source(self) -> None:
        # The key field comes right after the choice (tab reaches it next); it is not focused here, since the
        # arrows that chose may still be moving.
        self.query_one("#row-public_key").display = self.pasting
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
        self._values_now = self.form_values()
        self.status(Text("Working out the change…", style="dim"))
        self.query_one("#submit", Button).disabled = True
        self._plan(*self._request())

    def _now(self) -> float:
        clock = getattr(self.app, "clock", None)
        return float(clock()) if callable(clock) else time.time()

    def _value(self, field: str) -> str:
        found = self.query(f"#{field}")
        return found.first(Input).value.strip() if found else ""

    def form_values(self) -> FormValues:
        inputs = {str(i.id): i.value for i in self.query(Input)}
        if self.editing:
            return FormValues(inputs)
        return FormValues(inputs, self.pasting, self.query_one("#psk", TextCheckbox).value)

    def _request(self) -> tuple[PeerRequest, ClientSettings | None]:
        """The change as a request (whoever plans it), and the client settings to remember with it."""
        name, ips, ka, ep, expires, quota = (self._value(f) for f in (
            "name", "allowed_ips", "keepalive", "endpoint", "expires", "quota"))
        peer = self.context.peer
        if peer is not None:
            changed = frozenset(field for field, value, before in (
                ("name", name, peer.name or ""), ("allowed_ips", ips, ", ".join(peer.allowed_ips)),
                ("keepalive", ka, str(peer.persistent_keepalive or "")), ("endpoint", ep, peer.endpoint or ""),
                ("expires", expires, peer.expires), ("quota", quota, peer.quota))
                if value != before)
            return PeerRequest(name, ips, ka, ep, edit=peer.public_key, changed=changed, expires=expires,
                               quota=quota), None
        public_key = self._value("public_key") if self.pasting else None
        psk = self.query_one("#psk", TextCheckbox).value
        server = self._value("server_endpoint")
        settings = None
        if server and server != self.settings.endpoint:
            settings = replace(self.settings, endpoint=validate_endpoint(server, "server_endpoint"))
        return PeerRequest(name, ips, ka, ep, public_key=public_key, preshared_key=psk,
                           server_endpoint=server, expires=expires, quota=quota), settings

    @work(group="form", exit_on_error=False)
    async def _plan(self, request: PeerRequest, settings: ClientSettings | None) -> None:
        # Planning renders the whole file and checks every prefix (or asks a remote host): a thread keeps the form
        # responsive.
        try:
            plan = await asyncio.to_thread(self.planner, request)
        except REFUSALS as exc:
            self._refused(exc)
            return
        except Exception as exc:  # a bug: say so in the form rather than leave it "working" forever
            log.exception("planning failed")
            self._refused(RuntimeError(f"unexpected error: {exc!r}"))
            return
        self.dismiss(FormResult(plan, request, self._values_now, settings))

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
