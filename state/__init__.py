"""Thin adapters from UI events to services/: read input, call, set vars, toast."""
