"""An HTTP double of the OpenAI Chat Completions API (what LM Studio, Ollama and vLLM serve).

It speaks the wire protocol the openai SDK (and so langchain-openai's ChatOpenAI) uses:
- `POST {prefix}/chat/completions` answers a `chat.completion` with `usage`; with `"stream":
  true` it answers server-sent events (`data: {chat.completion.chunk}` lines, the usage in a last
  chunk with empty `choices` when `stream_options.include_usage` is set, then `data: [DONE]`);
- `GET {prefix}/models` lists the one model it serves;
- the answer is the first sentence of passage 1 of the `<passage n="1" ...>` blocks
  `kass.llm.generative` sends, cited `[1]` (like the Bedrock double); `reply_next(text)` scripts
  the next answers instead, `call_tool_next(name, arguments)` a `tool_calls` answer; usage
  counts words (and CJK bigrams) of the prompt and the answer;
- an unknown model is a 404 `model_not_found`, a malformed body a 400, both in OpenAI's
  `{"error": {"message", "type", "code"}}` shape.

`fail_next(status, times=)` makes the next request(s) fail (429 rate limit, 500, 503, ...);
`requests` records every call. The prefix is `/v1` (`url` includes it).
"""

from __future__ import annotations

import html
import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.doubles.served import serving_thread

MODEL = "double-7b"
_PASSAGE = re.compile(
    r'<passage n="(?P<n>\d+)"[^>]*?title="(?P<title>[^"]*)"[^>]*>\n(?P<text>.*?)\n</passage>',
    re.DOTALL,
)
_SENTENCE = re.compile(r"(.+?(?:[.!?](?=\s)|[。！？]|$))")
_WORD = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]+|\w+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "invalid_request_error",
    429: "rate_limit_exceeded",
}


@dataclass
class Recorded:
    path: str
    body: Any
    authorization: str | None


@dataclass
class Usage:
    prompt_tokens: int
    completion_tokens: int


class ApiError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


class OpenAIServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int = 0, host: str = "127.0.0.1", *, model: str = MODEL):
        super().__init__((host, port), _Handler)
        self.model = model
        self.requests: list[Recorded] = []
        self.usages: list[Usage] = []  # the usage reported for each answer, in order
        self._failures: list[ApiError] = []
        self._replies: list[str] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def fail_next(self, status: int = 500, *, times: int = 1, message: str = "") -> None:
        """The next `times` requests fail with `status` and an OpenAI error body."""
        with self._lock:
            self._failures.extend(
                ApiError(status, message or f"HTTP {status} (double)") for _ in range(times)
            )

    def reply_next(self, *texts: str) -> None:
        """The next answers are these texts, in order (then the passage-quoting default)."""
        with self._lock:
            self._replies.extend(texts)

    def reset(self) -> None:
        """Forget scripted replies and failures not used yet (between tests sharing a double)."""
        with self._lock:
            self._replies.clear()
            self._failures.clear()

    def call_tool_next(self, name: str, arguments: dict[str, Any]) -> None:
        """The next answer calls tool `name` (`tool_calls`, finish_reason "tool_calls")."""
        with self._lock:
            self._replies.append(ToolCall(name, arguments, f"call_{len(self.requests)}"))

    @property
    def completions(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def _next(self, queue: list[Any]) -> Any:
        with self._lock:
            return queue.pop(0) if queue else None


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict[str, Any]
    id: str

    def wire(self) -> dict[str, Any]:
        function = {"name": self.name, "arguments": json.dumps(self.arguments)}
        return {"id": self.id, "type": "function", "function": function}


def start_openai_double(port: int = 0, host: str = "127.0.0.1") -> tuple[OpenAIServer, str]:
    """Serve on a background thread; returns the server (call `stop()`) and its `/v1` URL."""
    server = OpenAIServer(port, host)
    serving_thread(server, "openai-double").start()
    return server, server.url


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: OpenAIServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        self.server.requests.append(Recorded(path, None, self.headers.get("Authorization")))
        if path != "/v1/models":
            self._error(ApiError(404, f"no route {path}"))
            return
        model = {"id": self.server.model, "object": "model", "created": 0, "owned_by": "double"}
        self._json({"object": "list", "data": [model]})

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path.split("?", 1)[0]
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        self.server.requests.append(Recorded(path, body, self.headers.get("Authorization")))
        try:
            failure = self.server._next(self.server._failures)
            if failure is not None:
                raise failure
            if path != "/v1/chat/completions":
                raise ApiError(404, f"no route {path}")
            if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
                raise ApiError(400, "'messages' is a required property")
            if body.get("model") != self.server.model:
                raise ApiError(
                    404, f"The model `{body.get('model')}` does not exist.", "model_not_found"
                )
            text, usage = self._answer(body["messages"])
            self.server.usages.append(usage)
            if body.get("stream"):
                include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
                self._stream(text, usage if include_usage else None)
            else:
                self._json(_completion(self.server.model, text, usage))
        except ApiError as error:
            self._error(error)
        except Exception as bug:  # a bug of the double: answer, so the client does not hang
            self._error(ApiError(500, f"double: {bug!r}"))

    def _answer(self, messages: list[dict[str, Any]]) -> tuple[str | ToolCall, Usage]:
        prompt = "\n".join(_content(m) for m in messages)
        reply = self.server._next(self.server._replies)
        if reply is None:
            user = "\n".join(_content(m) for m in messages if m.get("role") == "user")
            reply = _quote_first_passage(user)
        written = json.dumps(reply.arguments) if isinstance(reply, ToolCall) else reply
        return reply, Usage(len(_terms(prompt)), len(_terms(written)))

    def _stream(self, text: str | ToolCall, usage: Usage | None) -> None:
        created, ident = int(time.time()), "chatcmpl-double"
        model = self.server.model

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            return {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [choice],
            }

        events = [chunk({"role": "assistant", "content": ""})]
        if isinstance(text, ToolCall):
            events += [
                chunk({"tool_calls": [{"index": 0, **text.wire()}]}),
                chunk({}, "tool_calls"),
            ]
        else:
            events += [chunk({"content": piece}) for piece in re.findall(r"\S+\s*|\s+", text)]
            events.append(chunk({}, "stop"))
        if usage is not None:
            events.append(
                {
                    "id": ident,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [],
                    "usage": _usage(usage),
                }
            )
        payload = "".join(f"data: {json.dumps(e, ensure_ascii=False)}\n\n" for e in events)
        payload += "data: [DONE]\n\n"
        self._send(200, payload.encode(), "text/event-stream")

    def _json(self, payload: dict[str, Any]) -> None:
        self._send(200, json.dumps(payload, ensure_ascii=False).encode(), "application/json")

    def _error(self, error: ApiError) -> None:
        kind = _ERROR_TYPES.get(error.status, "server_error")
        body = {
            "error": {"message": error.message, "type": kind, "param": None, "code": error.code}
        }
        self._send(error.status, json.dumps(body).encode(), "application/json")

    def _send(self, status: int, payload: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def _completion(model: str, text: str | ToolCall, usage: Usage) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": text}
    finish = "stop"
    if isinstance(text, ToolCall):
        message, finish = (
            {"role": "assistant", "content": None, "tool_calls": [text.wire()]},
            ("tool_calls"),
        )
    return {
        "id": "chatcmpl-double",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": finish,
            }
        ],
        "usage": _usage(usage),
    }


def _usage(usage: Usage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.prompt_tokens + usage.completion_tokens,
    }


def _content(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):  # content parts
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content or "")


def _quote_first_passage(prompt: str) -> str:
    first = next((m for m in _PASSAGE.finditer(prompt) if m["n"] == "1"), None)
    sentence = _first_sentence(first["text"], html.unescape(first["title"])) if first else ""
    if not sentence:
        return "I don't know from the indexed sources."
    end = sentence[-1] if sentence[-1] in ".!?。！？" else ""
    claim = sentence[: len(sentence) - len(end)]
    space = "" if _CJK.search(claim) else " "
    return f"{claim}{space}[1]{end}"


def _first_sentence(text: str, title: str) -> str:
    for line in text.splitlines():
        line = line.strip()
        if line and line != title.strip():
            match = _SENTENCE.match(line)
            return (match.group(1) if match else line).strip()
    return ""


def _terms(text: str) -> list[str]:
    terms: list[str] = []
    for run in _WORD.findall(text.lower()):
        if _CJK.match(run) and len(run) > 1:
            terms.extend(run[i : i + 2] for i in range(len(run) - 1))
        else:
            terms.append(run)
    return terms
