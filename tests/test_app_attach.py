"""A message refused before it is sent (ui/attach.py): nothing reaches the API, and its text is back
in the chat input, however the page came to read it."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from lib.api.fake_api import Behaviour, FakeAPI
from tests.apptest_helpers import new_app, page_text


def test_a_file_that_is_no_image_is_refused_and_the_text_is_put_back_into_the_chat_input(app_env: FakeAPI) -> None:
    at = new_app()
    at.chat_input[0].upload("holiday.png", b"this is not a picture at all").set_value("look at this").run()
    assert not at.exception, at.exception
    assert "Not sent." in page_text(at) and "holiday.png" in page_text(at)
    assert at.chat_input[0].value == "look at this", "handed back, to change and send again"
    assert app_env.bodies() == [] and not at.chat_message

    at.run()  # a rerun for any other reason
    assert app_env.bodies() == [], "the text handed back is not sent by itself"

    app_env.plan(Behaviour(reply="Now without the file."))
    at.chat_input[0].set_value("look at this").run()
    at.run()
    assert app_env.bodies()[-1]["messages"][-1]["content"] == "look at this"
    assert "Not sent." not in page_text(at), "the refusal is over once the message went"


def page_that_refuses_after_drawing_its_input() -> None:
    """As the chat page does for a new session's first message: the value is read after the input is drawn."""
    import streamlit as st

    from ui import attach

    handed_back = attach.handed_back_last_run("box")
    typed = st.chat_input("Message", key="box")
    if typed and not handed_back:
        st.session_state.refused = [*st.session_state.get("refused", []), typed]
        attach.hand_back(typed, "box")
        st.rerun()


def test_text_refused_after_its_input_was_drawn_comes_back_on_the_next_run_and_is_not_taken_as_sent() -> None:
    at = AppTest.from_function(page_that_refuses_after_drawing_its_input, default_timeout=30).run()
    at.chat_input[0].set_value("keep me").run()
    assert not at.exception, at.exception
    assert at.session_state.refused == ["keep me"], "refused once, not again when it came back"
    assert at.chat_input[0].value == "keep me"
    assert at.chat_input[0].proto.set_value, "pushed into the browser's box"


def test_nothing_is_handed_back_for_no_text() -> None:
    def page() -> None:
        import streamlit as st

        from ui import attach

        attach.hand_back("", "box")
        st.chat_input("Message", key="box")

    at = AppTest.from_function(page, default_timeout=30).run()
    assert not at.exception, at.exception
    assert not at.chat_input[0].proto.set_value


def test_compares_refusal_does_not_count_the_chat_pages_waiting_photos(app_env: FakeAPI) -> None:
    from tests.image_samples import photo

    at = new_app()
    at.session_state["camera_photos"] = [photo("kept.jpg")]  # waiting on the chat page, for its next message
    at.switch_page("pages/2_Compare.py").run()
    at.chat_input[0].upload("notes.png", b"plain words, no picture").set_value("Read my notes").run()
    assert not at.exception, at.exception
    assert "Not sent." in page_text(at) and "back in the box below" in page_text(at)
    assert "wait" not in page_text(at), "no image waits for Compare's message"
    assert at.chat_input[0].value == "Read my notes"
