"""The floor for a chat with images: a minimal chat page drawing each message's images and text."""

import streamlit as st

for message in st.session_state.get("messages", []):
    with st.chat_message(message["role"]):
        if message.get("images"):
            st.image(message["images"], width=160)
        st.markdown(message["content"])
st.chat_input("Message")
