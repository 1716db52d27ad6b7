"""Provides the Textual dashboard: the only part of wgtui that imports Textual or Rich."""
