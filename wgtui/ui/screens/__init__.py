"""Provides the full screens: the dashboard, the peer detail and help."""
