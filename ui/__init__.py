"""Helpers shared by the Streamlit pages; unlike lib/, these may import streamlit."""
