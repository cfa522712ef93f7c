"""Text the pages show, composed from engine data (kept here so that it is tested)."""

from __future__ import annotations

from lib.api.models import ModelInfo


def capability_line(info: ModelInfo) -> str:
    """One line on what the chosen model accepts."""
    window = f"{info.context_window:,}-token context" if info.context_window else "context window unknown"
    if info.takes_system_role:
        roles = "takes a system prompt"
    else:
        roles = "no system role: the prompt is folded into the first message"
    images = "reads images" if info.images else "text only"
    return f"{window} · {roles} · {images}"
