"""Provides the reusable widgets: peer table, detail pane, header, footer, form controls, QR code."""
