"""Experiment tools: system-prompt presets."""
