"""What lasts: the conversation store with its migrations, export and import."""
