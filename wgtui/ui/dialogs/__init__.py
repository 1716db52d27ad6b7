"""Provides the modal dialogs that drive a change while it runs: the rotation session and its leave question."""
