"""Rendering only: functions that return Reflex components."""
