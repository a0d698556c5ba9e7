"""The Web API client every part of the app posts through."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from bot.config import Settings


def make_web_client(settings: Settings, token: str | None = None) -> WebClient:
    """A WebClient that rides out rate limits (429: wait Retry-After, try again) and brief
    connection drops, pointed at CCMBOT_SLACK_API_URL (Slack's own by default)."""
    base = settings.slack_api_url if settings.slack_api_url.endswith("/") else settings.slack_api_url + "/"
    return WebClient(
        token=token or settings.slack_bot_token,
        base_url=base,
        timeout=10,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=3), ConnectionErrorRetryHandler(max_retry_count=2)],
    )
