"""Provides the modal dialogs: forms, confirmations, the diff preview, choosers, client configs, rotation sessions."""
