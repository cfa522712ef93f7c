"""Structured output in the chat: the Response format choice and its schema editor, and JSON replies."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from lib.chat.conversation import Message
from lib.chat.session import ChatSession
from lib.errors import ChatError
from lib.experiments.structured import format_reply, json_mode, mentions_json, schema_mode, structured_modes

MODE = "response_mode"
SCHEMA = "response_schema"
#: the choices, by what each sends as response_format's type (None: nothing, the API's text)
LABELS = {None: "Text", "json_object": "JSON", "json_schema": "JSON schema"}
EXAMPLE_SCHEMA = """{
  "type": "object",
  "properties": {
    "answer": {"type": "string"}
  },
  "required": ["answer"]
}"""


def _type_of(response_format: Any) -> str | None:
    kind = response_format.get("type") if isinstance(response_format, dict) else response_format
    return kind if kind in LABELS else None


def _schema_text(response_format: Any) -> str:
    if _type_of(response_format) == "json_schema":
        return json.dumps(response_format["json_schema"].get("schema", {}), indent=2, ensure_ascii=False)
    return EXAMPLE_SCHEMA


def response_format(chat: ChatSession) -> None:
    """Text, JSON or JSON schema, where the model's spec has response_format; the schema is checked as typed."""
    conversation = chat.conversation
    modes = structured_modes(conversation.model)
    if not modes:
        return
    current = conversation.params.get("response_format")
    labels = {LABELS[None]: None, **{LABELS[mode]: mode for mode in modes}}
    # Seeded from the conversation whenever drawn anew (another page, another chat opened).
    st.session_state.setdefault(MODE, LABELS[_type_of(current)] if _type_of(current) in labels.values() else "Text")
    st.session_state.setdefault(SCHEMA, _schema_text(current))
    chosen = labels.get(st.radio("Response format", list(labels), key=MODE, horizontal=True,
                                 help="JSON makes the model answer with a JSON object; JSON schema, with one "
                                      "that matches your schema. Replies are shown as formatted JSON."))
    if chosen is None:
        conversation.params.pop("response_format", None)
    elif chosen == "json_object":
        conversation.params["response_format"] = json_mode(conversation.model)
        if not mentions_json(conversation.system_prompt):
            st.caption(":material/info: The model writes JSON only when asked to: "
                       "say “JSON” in the system prompt or your message.")
    else:
        st.text_area("JSON schema", key=SCHEMA, height=180, help="A JSON Schema with \"type\": \"object\" at the top.")
        if (problem := schema_problem(chat)) is not None:
            st.error(f"{problem} Messages are not sent until it is fixed.", icon=":material/data_object:")
        else:
            conversation.params["response_format"] = schema_mode(conversation.model, st.session_state[SCHEMA])


def schema_problem(chat: ChatSession) -> str | None:
    """What is wrong with the schema being edited, when JSON schema is chosen; None when it may be sent."""
    if st.session_state.get(MODE) != LABELS["json_schema"] or "json_schema" not in structured_modes(chat.conversation.model):
        return None
    try:
        schema_mode(chat.conversation.model, st.session_state.get(SCHEMA, ""))
    except ChatError as exc:
        return str(exc)
    return None


def sync(chat: ChatSession) -> None:
    """Forget the widgets' values, so that they are seeded from the conversation (one opened, say) when drawn."""
    for key in (MODE, SCHEMA):
        st.session_state.pop(key, None)


def show_json_reply(message: Message) -> bool:
    """A reply asked for as JSON, shown as formatted JSON with whether it is valid; False for any other reply."""
    response_format = message.params.get("response_format")
    kind = _type_of(response_format)
    # The chat's params go with every reply, but a model without response_format was not sent it.
    if kind is None or kind not in structured_modes(message.model or ""):
        return False
    schema = response_format["json_schema"].get("schema") if kind == "json_schema" else None
    pretty, valid, detail = format_reply(message.content, schema)
    if pretty is None:
        st.text(message.content)
    else:
        st.code(pretty, language="json", wrap_lines=True)
    if valid:
        st.caption(f":material/check_circle: {detail}")
    else:
        st.warning(detail, icon=":material/error:")
    return True
