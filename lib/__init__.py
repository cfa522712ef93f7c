"""The chat engine: plain Python, no Streamlit. Pages in app.py and pages/ call into it."""
