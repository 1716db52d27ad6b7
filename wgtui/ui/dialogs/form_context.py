"""Provides what the peer form is made from and gives back: its context, its values, its result and validators."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from textual.validation import ValidationResult, Validator

from wgtui import ipalloc, keys
from wgtui.backends.base import BackendError
from wgtui.changes import ChangeRefused, Plan, Planner
from wgtui.changes.form_facts import form_facts
from wgtui.changes.planner import refuse_taken
from wgtui.conf import ConfError, PeerView, ValidationError
from wgtui.settings import ClientSettings
from wgtui.store import StoreError

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
    """Blocking (reads every peer): call it from a thread worker. The facts are the core's (form_facts), the same a
    remote host's agent answers with, so a form refuses here exactly what it would there."""
    facts = form_facts(planner, public_key)
    return FormContext(planner, facts.owners, facts.taken_names, facts.allowed_ips,
                       allowed_ips_note=facts.allowed_ips_note, peer=facts.peer, keys_in_use=facts.keys_in_use)


@dataclass(frozen=True)
class FormValues:
    """Everything typed and chosen in the form: given back to a new form when the preview is cancelled, so that
    fixing one field never means typing the others again."""

    inputs: Mapping[str, str]
    """Input id -> its text."""
    paste_key: bool = False
    """"paste the client's public key" was chosen (adding)."""
    preshared_key: bool = False


@dataclass(frozen=True)
class FormResult:
    plan: Plan
    make: Callable[[Planner], Plan]
    """Works the same change out again on a fresh Planner (after SaveConfig was turned off first)."""
    values: FormValues
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


def is_public_key(text: str) -> bool:
    """Whether `text` is a WireGuard key (what `wg pubkey` prints), as pasted: whitespace around it allowed."""
    try:
        keys.parse_key(text.strip())
    except keys.KeyError_:
        return False
    return True
