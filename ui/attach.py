"""Images into the chat: the chat input's files and the camera, prepared before anything is sent.

A message whose image is refused is not sent at all (its text is put back into the chat input),
so that a question about a picture never reaches the model without the picture.
"""

from __future__ import annotations

from typing import Any

import streamlit as st
from streamlit.errors import StreamlitAPIException

from lib.api.models import model_info
from lib.chat.session import ChatSession
from lib.errors import ChatError, ImageError, SchemaError, TemplateError
from lib.images.image import Image
from lib.images.prepare import ImageLimits, check_count, prepare_all
from lib.settings import Settings
from lib.words import count
from ui import structured, template_form
from ui.people import may_use_now
from ui.settings import quiet_settings

#: what the chat input offers to pick; the content is checked again, whatever the name says
FILE_TYPES = ["jpg", "jpeg", "png", "gif", "webp"]
#: photos taken with the camera, to go with the next message (the sidebar's gauge counts them)
PENDING = "camera_photos"
REFUSED = "refused_message"
#: refused text for a chat input already drawn in the run that refused it: (the input's key, the text)
HAND_BACK_NEXT_RUN = "hand_back_next_run"
#: set when :func:`submit_on_enter` has sent the chat input's value, so that the page does not send it again
SENT_ON_ENTER = "prompt_sent_on_enter"
#: moves on after a photo is sent, so that the camera shows live video again, not the last photo
CAMERA_ROUND = "camera_round"
#: short enough for a phone's width (Enter sends and Shift+Enter starts a new line, as in every chat app)
PLACEHOLDER = "Message Gemma"


def placeholder(chat: ChatSession) -> str:
    """The chat input's prompt, which says when the model takes no images."""
    if chat.reads_images():
        return PLACEHOLDER
    return f"Message {model_info(chat.conversation.model).label}: text only, it reads no images"


def read_input(value: Any, settings: Settings, photos: tuple[Image, ...] = ()) -> tuple[str, tuple[Image, ...]]:
    """The text of a chat input's value (text, or text and files) and its files prepared, after
    ``photos``; ImageError when one is refused or they are too many."""
    text, files = (value, []) if isinstance(value, str) else (value.text or "", list(value.files or []))
    limits = ImageLimits.from_settings(settings)
    images = (*photos, *prepare_all([(f.getvalue(), f.name) for f in files], limits))
    check_count(images, limits)
    return text, images


def submit(chat: ChatSession, value: Any, settings: Settings) -> None:
    """Send what the chat input holds (text, or text and files) with any photo from the camera.

    A message with template variables waits for their values (:mod:`ui.template_form`); one that
    cannot be sent as asked (a broken template or response schema) is handed back, its images kept.
    """
    photos: list[Image] = st.session_state.get(PENDING, [])
    text = value if isinstance(value, str) else value.text or ""
    try:
        text, images = read_input(value, settings, tuple(photos))
    except ImageError as exc:
        st.session_state[REFUSED] = (str(exc), text)
        hand_back(text)
        return
    try:
        if template_form.pending():  # sent now, it would go before the message waiting for its values
            raise TemplateError("The message above waits for its values: fill them in and send it, or Cancel it, first.")
        if (problem := structured.schema_problem(chat)) is not None:
            raise SchemaError(f"{problem} Fix the schema in the sidebar (Response format), then send again.")
        if chat.asks_for(text):
            template_form.hold(text, images)
        else:
            chat.submit(chat.fill_message(text, {}), images)  # built-ins filled in, \{{ unescaped
    except ChatError as exc:
        st.session_state[REFUSED] = (str(exc), text, ":material/error:")
        st.session_state[PENDING] = list(images)  # kept, with the camera's, for the message sent again
        hand_back(text)
        return
    st.session_state.pop(PENDING, None)
    st.session_state.pop(REFUSED, None)
    if photos:  # a fresh camera for the next photo, not the one just sent
        st.session_state[CAMERA_ROUND] = st.session_state.get(CAMERA_ROUND, 0) + 1


def submit_on_enter() -> None:
    """The chat input's ``on_submit``: send the message, and start its reply, before the page runs.

    Streamlit runs a widget's callback before the page's script, so the request leaves before
    the page's set-up (its pages, config, sign-in gate, settings): 2–3 ms sooner on this machine
    (bench/analysis.md). In a session that has no chat yet, or whose person may not use the page
    now, it does nothing and the page sends the message as before, after its gate.
    """
    chat: ChatSession | None = st.session_state.get("chat")
    settings = quiet_settings()
    if chat is None or settings is None or not may_use_now(settings):
        return
    submit(chat, st.session_state["prompt"], settings)
    st.session_state[SENT_ON_ENTER] = True
    template_form.begin_reply(chat, settings)


def hand_back(text: str, key: str = "prompt") -> None:
    """Put refused text back into the chat input ``key``, to change and send again: nothing typed is lost.

    Streamlit lets a script set a widget's value only before the widget is drawn in that run. A
    new session's first message is read from the input after it is drawn (the page reruns then):
    its text goes in on the next run, from :func:`handed_back_last_run`.
    """
    if not text:
        return
    try:
        st.session_state[key] = text
    except StreamlitAPIException:
        st.session_state[HAND_BACK_NEXT_RUN] = (key, text)


def handed_back_last_run(key: str = "prompt") -> bool:
    """Put text refused in the last run back into the chat input ``key``; whether there was any.

    Call it before the page reads the input's value: that value is then text handed back, not a
    message to send.
    """
    waiting = st.session_state.get(HAND_BACK_NEXT_RUN)
    if waiting is None or waiting[0] != key:
        return False
    del st.session_state[HAND_BACK_NEXT_RUN]
    st.session_state[key] = waiting[1]
    return True


def sent_on_enter() -> bool:
    """Whether :func:`submit_on_enter` sent the chat input's value this run (asked once)."""
    return bool(st.session_state.pop(SENT_ON_ENTER, False))


def refusal(kept_as: str = REFUSED, images_kept_as: str | None = PENDING) -> None:
    """Why the last message was not sent, kept in session state as ``kept_as`` (its text is back in the input),
    and how many images wait for it in ``images_kept_as`` (None: a page that keeps none)."""
    refused = st.session_state.get(kept_as)
    if refused is None:
        return
    reason, text, *icon = refused
    st.error(f"**Not sent.** {reason}", icon=icon[0] if icon else ":material/hide_image:")
    if text:
        waiting = len(st.session_state.get(images_kept_as, [])) if images_kept_as else 0
        kept = f"; {count(waiting, 'image')} wait{'s' if waiting == 1 else ''} to go with it" if waiting else ""
        st.caption(f":material/undo: Your message is back in the box below, to change and send again{kept}.")
    st.button("Dismiss", key=f"dismiss-{kept_as}", on_click=st.session_state.pop, args=(kept_as, None))


def _camera_key() -> str:
    return f"camera-{st.session_state.get(CAMERA_ROUND, 0)}"


def _take_photo(settings: Settings) -> None:
    shot = st.session_state.get(_camera_key())
    if shot is None:
        return
    try:
        [photo] = prepare_all([(shot.getvalue(), "Camera photo")], ImageLimits.from_settings(settings))
    except ImageError as exc:
        st.session_state[REFUSED] = (str(exc), "")
        return
    st.session_state.setdefault(PENDING, []).append(photo)


def _remove_photo(index: int) -> None:
    st.session_state[PENDING].pop(index)


def left_out_notice(chat: ChatSession) -> None:
    """Say so when earlier images are not sent because the model reads none."""
    if not chat.reads_images() and any(m.images for m in chat.conversation.path()):
        st.caption(f":material/hide_image: {model_info(chat.conversation.model).label} reads no images: the images "
                   "earlier in this chat are left out of what it is sent (a line says where each was).")


def camera(chat: ChatSession, settings: Settings) -> None:
    """A camera for live demos: each photo goes with the next message, and can be removed before.

    Images kept from a refused message wait here too; under a model that reads none there is no
    camera, but they are shown, so that they can be removed and the message sent without them.
    """
    photos: list[Image] = st.session_state.get(PENDING, [])
    if chat.reads_images():
        with st.popover("Camera", icon=":material/photo_camera:", help="Take a photo to send with your next message"):
            st.camera_input("Take a photo", key=_camera_key(), on_change=_take_photo, args=(settings,))
    if not photos:
        return
    if chat.reads_images():
        st.caption(f"Sent with your next message ({count(len(photos), 'image')}, ≈256 tokens each):")
    else:
        it = "it" if len(photos) == 1 else "them"
        st.caption(f":material/hide_image: {count(len(photos), 'image')} waiting for a model that reads images "
                   f"({model_info(chat.conversation.model).label} reads none): remove {it} to send your message "
                   f"without {it}.")
    columns = st.columns(min(len(photos), 4))
    for index, photo in enumerate(photos):
        with columns[index % len(columns)]:
            st.image(photo.data, width=120)
            st.button("Remove", key=f"remove-photo-{index}-{photo.digest[:8]}", on_click=_remove_photo,
                      args=(index,), icon=":material/close:", type="tertiary")
