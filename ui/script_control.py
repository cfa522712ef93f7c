"""Streamlit's signal that the user stopped the script run (the chat input's stop button).

Streamlit raises it inside the script at the next element drawn after the user pressed stop.
It is not part of Streamlit's public API, hence this one place that names it.
"""

from __future__ import annotations

from streamlit.runtime.scriptrunner_utils.exceptions import StopException

__all__ = ["StopException"]
