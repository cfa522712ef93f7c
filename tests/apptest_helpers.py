"""Helpers for driving the Streamlit pages with AppTest against the fake API."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


def new_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    return at


def send(at: AppTest, text: str) -> AppTest:
    at.chat_input[0].set_value(text).run()
    assert not at.exception, at.exception
    return at


def bubbles(at: AppTest) -> list[tuple[str, str]]:
    return [(m.name, m.markdown[0].value if m.markdown else "") for m in at.chat_message]


def page_text(at: AppTest) -> str:
    """Everything the page shows, as text (the password field's own value aside)."""
    parts: list[str] = []
    for kind in ("markdown", "caption", "info", "error", "warning", "success", "text", "code", "metric", "title"):
        for element in getattr(at, kind, []):
            parts.append(str(getattr(element, "value", "")))
            parts.append(str(getattr(element, "label", "")))
    for kind in ("button", "text_area", "selectbox", "expander"):
        for element in getattr(at, kind, []):
            parts.append(str(getattr(element, "label", "")))
    return "\n".join(parts)




def open_panel(at: AppTest, key: str) -> AppTest:
    """Open an expander or popover drawn only while open (as a click on it would)."""
    at.session_state[key] = True
    at.run()
    assert not at.exception, at.exception
    return at
