"""The Slack door: a Bolt app whose listeners translate Slack payloads into assistant calls."""
