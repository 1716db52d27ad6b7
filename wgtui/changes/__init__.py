"""Provides the change pipeline: planning a change, and applying it to the interface and the file as one."""

from wgtui.changes.plan import ChangeRefused, NothingToDo, Plan
from wgtui.changes.planner import Planner

__all__ = ["ChangeRefused", "NothingToDo", "Plan", "Planner"]
