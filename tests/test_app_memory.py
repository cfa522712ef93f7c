"""What a session of the chat page holds as it goes on, driven by AppTest (#16, flat memory)."""

from __future__ import annotations

from lib.api.fake_api import Behaviour, FakeAPI
from tests.apptest_helpers import new_app, send

#: turns: the first ones leave the latest 20 messages, drawn with buttons, after 10
TURNS = 16


def _widgets(at: object) -> tuple[int, int]:
    """Widgets Streamlit keeps registered for the session (metadata, keys): internals, see ui/stale_widgets.py."""
    state = at._session_state._state  # type: ignore[attr-defined]
    return len(state._new_widget_state.widget_metadata), len(state._key_id_mapper._id_key_mapping)


def test_widgets_no_longer_drawn_are_forgotten_as_turns_go_on(app_env: FakeAPI) -> None:
    at = new_app()
    counts = []
    for number in range(TURNS):
        app_env.plan(Behaviour(reply=f"Answer {number}."))
        send(at, f"question {number}")
        counts.append(_widgets(at))
    # Each turn draws new Edit, Delete, Copy, … buttons keyed by message id; the older turns' go
    # from the page (it draws the latest 20 messages with buttons), and must go from the session
    # too, or it grows by each turn's buttons for good. (One more or less as a reply happens to end
    # before its run watches it, and so draws no Stop button: not growth.)
    last = [kept for kept, _ in counts[-5:]]
    assert max(last) - min(last) <= 1, f"widgets kept, by turn: {counts}"


def test_a_widget_still_drawn_keeps_its_callback(app_env: FakeAPI) -> None:
    at = new_app()
    for number in range(TURNS):
        app_env.plan(Behaviour(reply=f"Answer {number}."))
        send(at, f"question {number}")
    # The last question's Delete button, drawn in every run since it was asked: its callback runs.
    at.button(key=f"delete-{at.session_state['chat'].conversation.path()[-2].id}").click().run()
    assert not at.exception, at.exception
    assert len(at.session_state["chat"].conversation.path()) == 2 * (TURNS - 1)
