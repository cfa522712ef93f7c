"""A conversation and its live reply: the message tree, the streaming reply, one browser session's chat, tokens and cost."""
