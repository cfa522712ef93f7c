"""Talking to servers: the API client, its stream reader, request bodies, models and their specs,
sampling parameters, and the fake API."""
