"""Provides what the peer form is made from and gives back: its context, its request, its values and validators."""

# The form does not know who works its change out: its context comes from a local Planner (form_context) or from a
# remote host's agent (context_from_json: the same facts, made there by the same code), and its answer is a
# PeerRequest that a local Planner turns into a Plan (plan_on) or that is sent to the agent as a command line (argv).

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from textual.validation import ValidationResult, Validator

from wgtui import ipalloc, keys
from wgtui.backends.base import BackendError
from wgtui.changes import ChangeRefused, Plan, Planner
from wgtui.changes.form_facts import form_facts
from wgtui.changes.peer_index import refuse_taken
from wgtui.conf import ConfError, PeerView, ValidationError
from wgtui.conf.document import BaseDocument
from wgtui.conf.meta import meta_line, parse_meta
from wgtui.conf.names import Convention
from wgtui.conf.validate import validate_endpoint
from wgtui.lifecycle.periods import PolicyError, parse_expiry, parse_quota
from wgtui.lifecycle.policy import EXPIRES, QUOTA
from wgtui.model import KEEP, Unchanged
from wgtui.remote.ssh import HostError
from wgtui.settings import ClientSettings
from wgtui.store import StoreError

Owners = Mapping[ipalloc.Prefix, tuple[str, str]]
REFUSALS = (ChangeRefused, ConfError, StoreError, BackendError, HostError)
"""What a change can be refused with, here or by a remote host's agent: said as it is, nothing was changed."""
P = TypeVar("P")


@dataclass(frozen=True)
class FormPeer:
    """The peer being edited, as the form shows it (from the local file, or from the host's agent)."""

    public_key: str
    name: str | None
    allowed_ips: tuple[str, ...]
    endpoint: str | None
    persistent_keepalive: int | None
    expires: str = ""
    """The `expires=` of the block's wgtui comment as written (empty: never)."""
    quota: str = ""
    """The `quota=` as written (empty: none)."""

    @classmethod
    def of(cls, view: PeerView, policy: Mapping[str, str] | None = None) -> FormPeer:
        items = policy or {}
        return cls(view.public_key or "", view.name, tuple(view.allowed_ips), view.endpoint,
                   view.persistent_keepalive, items.get(EXPIRES, ""), items.get(QUOTA, ""))

# Field names of the validators and ChangeRefused.field -> the input that shows the message.
FIELD_INPUT = {"name": "name", "public_key": "public_key", "allowed_ips": "allowed_ips", "endpoint": "endpoint",
               "persistent_keepalive": "keepalive", "keepalive": "keepalive", "server_endpoint": "server_endpoint",
               "expires": "expires", "quota": "quota"}


@dataclass(frozen=True)
class FormContext:
    """What the form needs, worked out in a thread before it opens (large files take a while)."""

    ifname: str
    convention: Convention | None
    """How the file writes names (some conventions take only some characters)."""
    owners: Owners
    """Every allowed-IP prefix other peers hold -> (public key, name): duplicates are refused as you type."""
    taken_names: frozenset[str]
    allowed_ips: str
    """Prefill: the next free addresses (add) or the peer's own (edit)."""
    allowed_ips_note: str = ""
    """Why no address could be picked automatically, when none could."""
    peer: FormPeer | None = None
    """The peer being edited (None: adding)."""
    keys_in_use: frozenset[str] = frozenset()
    """Public keys of every peer (file and interface): a pasted key must be new."""
    host: str | None = None
    """The remote host the interface is on (None: this machine): the form's title names it."""

    @property
    def where(self) -> str:
        """`wg0`, or `wg0 on vpn-a`."""
        return self.ifname if self.host is None else f"{self.ifname} on {self.host}"


def form_context(planner: Planner, public_key: str | None = None) -> FormContext:
    """Blocking (reads every peer): call it from a thread worker. The facts are the core's (form_facts), the same a
    remote host's agent answers with, so a form refuses here exactly what it would there."""
    facts = form_facts(planner, public_key)
    return FormContext(planner.ifname, planner.doc.naming.convention, facts.owners, facts.taken_names,
                       facts.allowed_ips, allowed_ips_note=facts.allowed_ips_note,
                       peer=FormPeer.of(facts.peer, block_meta(planner.doc, facts.peer.public_key))
                       if facts.peer is not None else None,
                       keys_in_use=facts.keys_in_use)


def block_meta(doc: BaseDocument, public_key: str | None) -> dict[str, str]:
    """The items of one block's `# wgtui:` comment (only that block is read)."""
    index = meta_line(doc, public_key) if public_key else None
    return (parse_meta(doc.lines[index].comment) or {}) if index is not None else {}


def context_from_json(data: Mapping[str, Any], host: str) -> tuple[FormContext, ClientSettings]:
    """The form's context and the client settings from a remote agent's `context` answer (facts_to_json)."""
    owners: dict[ipalloc.Prefix, tuple[str, str]] = {}
    for net, key, name in data["owners"]:
        owners[ipalloc.prefix_of(str(net))] = (str(key), str(name or ""))
    peer = data.get("peer")
    keepalive = peer.get("keepalive") if peer else None
    form_peer = None if not peer else FormPeer(
        str(peer["public_key"]), peer.get("name"), tuple(str(i) for i in peer.get("allowed_ips", ())),
        peer.get("endpoint"), int(keepalive) if keepalive is not None else None,
        str(peer.get("expires") or ""), str(peer.get("quota") or ""))
    convention = data.get("convention")
    context = FormContext(str(data["interface"]), Convention(convention) if convention else None, owners,
                          frozenset(str(n) for n in data.get("taken_names", ())), str(data.get("allowed_ips", "")),
                          allowed_ips_note=str(data.get("allowed_ips_note") or ""), peer=form_peer,
                          keys_in_use=frozenset(str(k) for k in data.get("keys_in_use", ())), host=host)
    s = data.get("settings") or {}
    settings = ClientSettings(endpoint=str(s.get("endpoint") or ""))
    return context, settings


@dataclass(frozen=True)
class PeerRequest:
    """What the form asks for, whoever works it out: a local Planner (`plan_on`), or a remote host's agent, which
    gets it as the command line `wgtui peer` would (`argv`) and plans it with the same Planner there."""

    name: str
    allowed_ips: str
    keepalive: str
    endpoint: str
    edit: str | None = None
    """The public key of the peer being edited (None: adding one)."""
    changed: frozenset[str] = frozenset()
    """Editing: the fields that differ from the peer's (the others are kept as they are)."""
    public_key: str | None = None
    """Adding: the client's own public key (None: a key pair is generated)."""
    preshared_key: bool = False
    server_endpoint: str = ""
    """How clients reach the server, typed in the form (empty: the remembered one)."""
    expires: str = ""
    """As typed: `2026-12-31`, `2026-12-31T18:00+01:00`, `never`; empty: never."""
    quota: str = ""
    """As typed: `50GB/month`, `10GB`, `none`; empty: none."""

    def _given(self, field: str) -> Any:
        return getattr(self, field) if field in self.changed else KEEP

    def policy(self, field: str) -> str:
        """The expiry or quota to send: an empty field says `never` / `none` (which lifts what the peer had)."""
        value: str = getattr(self, field).strip()
        return value or ("never" if field == "expires" else "none")

    def _given_policy(self, field: str) -> str | Unchanged:
        return self.policy(field) if field in self.changed else KEEP

    def plan_on(self, planner: Planner) -> Plan:
        """Blocking: the change worked out by a local planner."""
        if self.edit is not None:
            return planner.edit(self.edit, name=self._given("name"), allowed_ips=self._given("allowed_ips"),
                                keepalive=self._given("keepalive"), endpoint=self._given("endpoint"),
                                expires=self._given_policy("expires"), quota=self._given_policy("quota"))
        if self.server_endpoint:  # the client config is made from the settings: use the endpoint typed here
            planner.settings = replace(planner.settings,
                                       endpoint=validate_endpoint(self.server_endpoint, "server_endpoint"))
        return planner.add(self.name, public_key=self.public_key, allowed_ips=self.allowed_ips,
                           preshared_key=self.preshared_key, keepalive=self.keepalive or None,
                           endpoint=self.endpoint or None, expires=self.expires.strip() or None,
                           quota=self.quota.strip() or None)

    def argv(self, ifname: str, remembered_endpoint: str = "") -> list[str]:
        """The change as `wgtui peer …` words for a remote agent. Values go as `--option=value`, so that one
        starting with a dash is never read as an option; a server endpoint only when it is not the remembered
        one (the agent remembers what it is given, as `--server-endpoint` does)."""
        if self.edit is not None:
            words = ["edit", ifname, self.edit]
            for field, option in (("name", "--name"), ("allowed_ips", "--allowed-ips"),
                                  ("keepalive", "--keepalive"), ("endpoint", "--endpoint")):
                if field in self.changed:
                    words.append(f"{option}={getattr(self, field)}")
            words += [f"--{field}={self.policy(field)}" for field in ("expires", "quota") if field in self.changed]
            return words
        words = ["add", ifname, f"--name={self.name}", f"--allowed-ips={self.allowed_ips}"]
        if self.public_key:
            words.append(f"--public-key={self.public_key}")
        if self.preshared_key:
            words.append("--preshared-key")
        if self.keepalive:
            words.append(f"--keepalive={self.keepalive}")
        if self.endpoint:
            words.append(f"--endpoint={self.endpoint}")
        words += [f"--{field}={getattr(self, field).strip()}" for field in ("expires", "quota")
                  if getattr(self, field).strip()]
        if self.server_endpoint and self.server_endpoint != remembered_endpoint:
            words.append(f"--server-endpoint={self.server_endpoint}")
        return words


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
class FormResult(Generic[P]):
    plan: P
    """What the form's planner made of the request: a local Plan, or a remote host's plan."""
    request: PeerRequest
    """The same change, to be worked out again (on a fresh Planner after SaveConfig was turned off first)."""
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


def check_expiry(value: str) -> None:
    """The form's expiry rule: empty (never) or what `--expires` takes."""
    if value.strip():
        try:
            parse_expiry(value)
        except PolicyError as exc:
            raise ValidationError("expires", str(exc), "Expires") from None


def check_quota(value: str) -> None:
    """The form's quota rule: empty (none) or what `--quota` takes."""
    if value.strip():
        try:
            parse_quota(value)
        except PolicyError as exc:
            raise ValidationError("quota", str(exc), "Quota") from None
