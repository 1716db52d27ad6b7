"""Proves the README's key tables are the ones the bindings make: a key added, renamed or re-explained in the
keymap without the README following fails here."""

from __future__ import annotations

from pathlib import Path

from wgtui.ui.keymap import fleet_markdown_table, markdown_table

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_the_dashboard_key_table_is_the_keymaps() -> None:
    assert markdown_table() in README


def test_the_fleet_key_table_is_the_keymaps() -> None:
    assert fleet_markdown_table() in README
