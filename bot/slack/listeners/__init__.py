"""One module per kind of Slack input, each wired by register(app, assistant)."""
