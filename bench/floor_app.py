"""The floor: a minimal streaming Streamlit chat, in the style of streamlit/llm-examples.

History loop, ``st.chat_input``, ``requests`` streaming the server-sent events of the same
(fake) API whatever their HTTP framing, ``st.write_stream``. Nothing else: no figures, no
buttons, no saving. The benchmarks measure the app against this. Run with ``streamlit run bench/floor_app.py`` and
``AIMLAPI_BASE_URL`` / ``AIMLAPI_API_KEY`` in the environment.
"""

from __future__ import annotations

import json
import os

import requests
import streamlit as st

BASE_URL = os.environ.get("AIMLAPI_BASE_URL", "http://127.0.0.1:8765/v1").rstrip("/")
API_KEY = os.environ.get("AIMLAPI_API_KEY", "")
MODEL = os.environ.get("AIMLAPI_MODEL", "google/gemma-3-27b-it")
SYSTEM_PROMPT = "You are a helpful assistant."
#: ``app``: the chat input the app has (a Stop button while a reply streams, images attached), to
#: tell what that input costs the browser from what the rest of the page does
CHAT_INPUT = os.environ.get("FLOOR_CHAT_INPUT", "")

st.title("Floor chat")

if "messages" not in st.session_state:
    st.session_state.messages = []
    st.session_state.http = requests.Session()  # one connection, kept between turns

for message in st.session_state.messages:
    st.chat_message(message["role"]).write(message["content"])


def stream_reply(messages: list[dict[str, str]]):
    body = {"model": MODEL, "messages": messages, "stream": True}
    headers = {"Authorization": f"Bearer {API_KEY}"}
    url = f"{BASE_URL}/chat/completions"
    with st.session_state.http.post(url, json=body, headers=headers, stream=True, timeout=60) as response:
        response.raise_for_status()
        # read1 hands over what has arrived: iter_lines would wait for the end of a body that
        # the server ends by closing the connection (no chunks), as some servers and proxies do.
        pending = b""
        while data := response.raw.read1(decode_content=True):
            *lines, pending = (pending + data).split(b"\n")
            for line in lines:
                line = line.rstrip(b"\r")
                if not line.startswith(b"data: "):
                    continue
                payload = line[len(b"data: "):]
                if payload == b"[DONE]":
                    return
                for choice in json.loads(payload).get("choices", []):
                    if text := (choice.get("delta") or {}).get("content"):
                        yield text


if CHAT_INPUT == "app":
    typed = st.chat_input("Message", submit_mode="stop", accept_file="multiple", file_type=["png", "jpg"])
    prompt = typed.text if typed else None
else:
    prompt = st.chat_input("Message")
if prompt:
    st.session_state.messages.append({"role": "user", "content": prompt})
    st.chat_message("user").write(prompt)
    with st.chat_message("assistant"):
        reply = st.write_stream(stream_reply([{"role": "system", "content": SYSTEM_PROMPT}, *st.session_state.messages]))
    st.session_state.messages.append({"role": "assistant", "content": reply})
