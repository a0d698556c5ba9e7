"""A local stand-in for Slack's Web API that records what the app sends.

It answers the methods the app calls (auth.test, chat.postMessage, chat.postEphemeral,
chat.update, reactions.add, views.open, views.publish, the three calls behind
files_upload_v2) and response_url posts, and can be told to answer the next call of a
method with an error such as 429.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float


class StandIn:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._failures: dict[str, list[tuple[int, dict[str, str], dict[str, Any]]]] = {}
        self._delays: dict[str, float] = {}
        self._ts = 1795791600
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, headers, body = standin._answer(self.path, self.headers.get("Content-Type", ""), raw)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if not isinstance(body, bytes) else "text/plain")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_PUT = do_POST

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.api_url = f"{self.url}/api/"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- what tests use ---------------------------------------------------------------

    def fail_next(self, method: str, status: int = 429, *, retry_after: int = 1, error: str = "ratelimited") -> None:
        headers = {"Retry-After": str(retry_after)} if status == 429 else {}
        with self._lock:
            self._failures.setdefault(method, []).append((status, headers, {"ok": False, "error": error}))

    def delay(self, method: str, seconds: float) -> None:
        """Answer every call of `method` only after `seconds` (a slow Slack)."""
        self._delays[method] = seconds

    def of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.of(method)
            if len(found) >= count:
                return found
            time.sleep(0.01)
        raise AssertionError(f"expected {count} {method} call(s), got {len(self.of(method))}: {[c.method for c in self.calls]}")

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self._failures.clear()
            self._delays.clear()

    # --- the server side ----------------------------------------------------------------

    def _answer(self, path: str, content_type: str, raw: bytes) -> tuple[int, dict[str, str], Any]:
        if path.startswith("/upload/"):
            self._record("upload", {"bytes": raw.decode("utf-8", "replace")})
            return 200, {}, b"OK"
        if path.startswith("/respond/"):
            self._record("response_url", json.loads(raw or b"{}"))
            return 200, {}, b"ok"
        method = path.removeprefix("/api/").split("?")[0]
        params = self._params(content_type, raw)
        if method in self._delays:
            time.sleep(self._delays[method])
        with self._lock:
            queued = self._failures.get(method)
            failure = queued.pop(0) if queued else None
        self._record(method, params, failed=failure is not None)
        if failure is not None:
            return failure
        return 200, {}, self._result(method, params)

    @staticmethod
    def _params(content_type: str, raw: bytes) -> dict[str, Any]:
        if "json" in content_type:
            return json.loads(raw or b"{}")
        params: dict[str, Any] = dict(parse_qsl(raw.decode()))
        for key in ("blocks", "view", "files"):
            if isinstance(params.get(key), str):
                with contextlib.suppress(ValueError):
                    params[key] = json.loads(params[key])
        return params

    def _record(self, method: str, params: dict[str, Any], failed: bool = False) -> None:
        with self._lock:
            self.calls.append(Call(method + (":failed" if failed else ""), params, time.monotonic()))

    def _result(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._ts += 1
            ts = f"{self._ts}.000100"
        if method == "auth.test":
            return {"ok": True, "url": "https://example.slack.com/", "team": "Clinic", "user": "ccmbot", "team_id": "T0CLINIC", "user_id": "UBOT", "bot_id": "BBOT"}
        if method == "chat.postMessage":
            return {"ok": True, "channel": params.get("channel"), "ts": ts, "message": {"text": params.get("text"), "ts": ts}}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method == "files.getUploadURLExternal":
            return {"ok": True, "upload_url": f"{self.url}/upload/F0REPORT", "file_id": "F0REPORT"}
        if method == "files.completeUploadExternal":
            return {"ok": True, "files": [{"id": "F0REPORT", "title": "report", "permalink": "https://example.slack.com/files/F0REPORT"}]}
        if method == "files.info":
            return {"ok": True, "file": {"id": "F0REPORT", "permalink": "https://example.slack.com/files/F0REPORT"}}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D0" + str(params.get("users", "")).lstrip("U")}}
        if method == "users.info":
            return {"ok": True, "user": {"id": params.get("user"), "name": "sam", "real_name": "Sam Rivera", "tz": "America/New_York"}}
        if method == "chat.getPermalink":  # the workspace's own domain, and a thread's link, as Slack makes them
            channel, ts = params.get("channel", ""), str(params.get("message_ts", ""))
            return {"ok": True, "channel": channel, "permalink": f"https://clinic.slack.com/archives/{channel}/p{ts.replace('.', '')}"}
        if method in ("views.open", "views.publish", "views.update"):
            return {"ok": True, "view": {"id": "V0" + ts.replace(".", "")}}
        return {"ok": True}
