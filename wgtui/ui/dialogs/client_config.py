"""Provides the client-config screen: the client's wg-quick file with its private key, a QR code, and save (0600)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.events import Resize
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Static

from wgtui import keys
from wgtui.client_config import ClientConfig, save_client_config
from wgtui.conf import ConfError, Document
from wgtui.store import StoreError
from wgtui.ui.dialogs.confirm import ConfirmScreen
from wgtui.ui.widgets.qr import QRCode


def key_mismatch(text: str, public_key: str) -> str | None:
    """A warning when a saved client file's private key does not belong to the peer's current public key
    (an older config from before a rotation, or another unnamed peer's): such a client cannot connect."""
    try:
        iface = Document.parse(text).interface
        private = iface.private_key if iface else None
        derived = keys.public_key(private) if private else None
    except (ConfError, keys.KeyError_, ValueError):
        return "This file has no readable PrivateKey: it may not be a client config written by wgtui."
    if derived != public_key:
        return (f"This file's private key belongs to {keys.short_key(derived)}, not to this peer's current key "
                f"{keys.short_key(public_key)}: it is an older config (before a key rotation) or another "
                "peer's, and a client using it cannot connect. Rotate the key (r) to make a new one.")
    return None


NEXT = 1
PREVIOUS = -1


class ClientConfigScreen(ModalScreen[int | None]):
    """The one place a private key is shown: the client needs it and the server never keeps it.

    With `save_to` the file is offered for saving (and closing unsaved asks first, since the key is lost
    then); `saved` marks a config read back from disk. With `browse` (the configs of a rotation session) n and p
    dismiss with NEXT or PREVIOUS so that the caller shows the next peer's; closing dismisses with None.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="client.close"),
        # q must not quit wgtui past an unsaved private key: it asks, like escape.
        Binding("q", "close", "Close", id="client.close_q", show=False),
        Binding("ctrl+s", "save", "Save", id="client.save"),
        Binding("f", "qr_only", "QR only", id="client.qr_only"),
        Binding("n", "browse(1)", "Next peer", id="client.next"),
        Binding("p", "browse(-1)", "Previous peer", id="client.previous"),
    ]

    def __init__(self, text: str, *, title: str, warnings: list[str] | None = None,
                 config: ClientConfig | None = None, save_to: Path | None = None, saved: Path | None = None,
                 qr: bool = True, intro: str = "", browse: bool = False) -> None:
        super().__init__()
        self.text = text
        self.config = config
        """Given when the config can be saved (a new key): written with save_client_config."""
        self.title_text = title
        self.warnings = warnings or []
        self.save_to = save_to if config is not None else None
        self.saved = saved
        self.show_qr = qr
        self.intro = intro
        self.browse = browse

    @classmethod
    def for_config(cls, config: ClientConfig, *, title: str, save_to: Path, saved: Path | None = None,
                   warnings: list[str] | None = None, browse: bool = False) -> ClientConfigScreen:
        intro = (f"Saved to {saved} (mode 0600) before the change was applied. Give it to the client: scan the QR "
                 "code or copy the file (ctrl+s saves a copy elsewhere).") if saved else (
                 "Give this to the client: scan the QR code or save the file. wgtui does not keep the private key: "
                 "once this screen is closed it is gone.")
        return cls(config.text(), title=title, warnings=[*config.warnings(), *(warnings or [])], config=config,
                   save_to=save_to, saved=saved, intro=intro, browse=browse)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -tall", id="client-dialog") as dialog:
            dialog.border_title = Content(self.title_text)
            yield from self._body()
            if self.save_to is not None:
                with Horizontal(id="save-row"):
                    yield Label("Save to", classes="form-label")
                    yield Input(str(self.save_to), id="save-path", compact=True)
                    yield Button("Save (ctrl+s)", id="save", variant="primary", compact=True)
        yield Footer()

    def _body(self) -> ComposeResult:
        with VerticalScroll(classes="dialog-body", id="client-box"):
            if self.warnings:
                yield Static(Text("\n".join(f"⚠ {w}" for w in self.warnings), style="yellow"), id="client-warnings")
            if self.intro:
                yield Static(Text(self.intro), id="client-intro")
            yield Static(Text(self.text.rstrip("\n")), id="client-text")
            if self.show_qr:
                yield Static(id="qr-hint")
                yield QRCode(self.text, id="qr")

    def on_mount(self) -> None:
        self.query_one("#client-box").focus()
        self._hint()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "save":
            return self.save_to is not None
        if action == "qr_only":
            return self.show_qr
        if action == "browse":
            return self.browse
        return True

    # -- the QR code -----------------------------------------------------------------------------------------

    def on_resize(self, _event: Resize) -> None:
        self._hint()

    def _hint(self) -> None:
        if not self.show_qr:
            return
        qr = self.query_one("#qr", QRCode)
        need = qr.code_size
        # What the code gets in QR-only mode: the whole screen but the footer line.
        room = self.size.with_height(max(0, self.size.height - 1))
        hint = self.query_one("#qr-hint", Static)
        if not qr.fits(room):
            hint.update(Text(f"The QR code needs {need.width}x{need.height + 1} cells and the terminal has "
                             f"{self.size.width}x{self.size.height}: enlarge the window or zoom out (ctrl+-) "
                             "to scan it; f shows only the code.", style="yellow"))
            hint.display = True
        else:
            hint.update(Text("Press f to show only the QR code for scanning.", style="dim"))
            hint.display = not self.has_class("-qr-only")

    def action_qr_only(self) -> None:
        self.toggle_class("-qr-only")
        self._hint()
        self.query_one("#client-box", VerticalScroll).scroll_home(animate=False)

    # -- saving ----------------------------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_save()

    @on(Input.Submitted, "#save-path")
    def _path_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        if self.save_to is None or self.config is None:
            return
        raw = self.query_one("#save-path", Input).value.strip()
        if not raw:
            self.notify("Give a file name to save to.", severity="warning")
            return
        self._save(Path(raw).expanduser())

    @work(group="client-save", exit_on_error=False)
    async def _save(self, path: Path) -> None:
        # A write to a slow or remote file system must not freeze the screen: it runs in a thread.
        config = self.config
        assert config is not None

        def write() -> bool:
            existed = path.exists()
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            save_client_config(path, config)
            return existed

        try:
            existed = await asyncio.to_thread(write)
        except (OSError, StoreError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self.notify(f"Not saved: {path}: {reason}", title="Client config", severity="error", markup=False,
                        timeout=10)
            return
        self._saved(path, existed)

    def _saved(self, path: Path, existed: bool) -> None:
        self.saved = path
        self.notify(f"Saved {path} (mode 0600){' — replaced the previous file' if existed else ''}.",
                    title="Client config", markup=False)

    # -- closing ---------------------------------------------------------------------------------------------

    def action_close(self) -> None:
        self._leave(None)

    def action_browse(self, step: int) -> None:
        self._leave(NEXT if step > 0 else PREVIOUS)

    def _leave(self, result: int | None) -> None:
        if self.save_to is not None and self.saved is None:
            self.app.push_screen(ConfirmScreen(
                "Close without saving?", Text("The client's private key is shown only here; wgtui does not keep "
                                              "it. Close anyway if the client has scanned the QR code or you "
                                              "copied the config."), yes="Close", no="Back"),
                lambda close: self._close_answered(close, result))
            return
        self.dismiss(result)

    def _close_answered(self, close: bool | None, result: int | None) -> None:
        if close:
            self.dismiss(result)
