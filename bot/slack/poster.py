"""Reminders into Slack: messages split to fit Slack's limits, a file attached with files_upload_v2."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot.reminders import Post
from bot.slack.render import LOG_TIME_BUTTON, TEXT_LIMIT, blocks

BLOCKS_PER_MESSAGE = 45  # Slack takes 50 blocks a message


class SlackPoster:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def post(self, post: Post) -> None:
        for chunk_blocks, chunk_text in split(post):
            self.client.chat_postMessage(channel=post.channel, text=chunk_text, blocks=chunk_blocks)
        if post.file:
            name, content = post.file
            self.client.files_upload_v2(channel=post.channel, content=content, filename=name, title=name)


def split(post: Post) -> list[tuple[list[dict[str, Any]], str]]:
    """The post as messages of at most BLOCKS_PER_MESSAGE blocks, each with its own fallback text."""
    body = blocks(post.reply)
    if post.log_button:
        body.append({"type": "actions", "elements": [LOG_TIME_BUTTON]})
    chunks = [body[i : i + BLOCKS_PER_MESSAGE] for i in range(0, len(body), BLOCKS_PER_MESSAGE)] or [[]]
    out = []
    for n, chunk in enumerate(chunks):
        texts = [b["text"]["text"] for b in chunk if b.get("type") == "section" and "text" in b]
        text = "\n".join(texts).replace("*", "")[:TEXT_LIMIT] or post.reply.text[:TEXT_LIMIT]
        out.append((chunk, text if n == 0 else f"(continued) {text}"[:TEXT_LIMIT]))
    return out
