"""People: who is signed in, what is theirs, and what they may do."""
