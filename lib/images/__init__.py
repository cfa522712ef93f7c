"""Images a user attaches: prepared for Gemma 3, stored once by content, shown and sent."""
