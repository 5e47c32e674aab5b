"""An HTTP double of the Bedrock runtime (moto has no Bedrock data plane), for real boto3 clients.

It speaks the REST-JSON wire protocol botocore uses for `bedrock-runtime` (point a client at it
with `endpoint_url=`, or `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`):
- `POST /model/{modelId}/invoke` for Titan Text Embeddings v2: deterministic vectors by feature
  hashing of the lower-cased words (and CJK bigrams) into `dimensions` buckets, so texts sharing
  words are close: good enough for hybrid search tests, meaningless otherwise;
- `POST /model/{modelId}/converse` and `/converse-stream` (an event stream) for Claude ids, with
  or without a cross-region prefix: the answer is the first sentence of passage 1 of the
  `<passage n="1" ...>` blocks `kass.llm.generative` puts in the user message, cited `[1]`;
  without passages it says it does not know;
- an unknown model or a malformed body gets a 400 ValidationException (`x-amzn-ErrorType`
  header and `{"message": ...}` body, like the real service).

`fail_next(code, status)` makes the next request(s) fail with that error (throttling, ...);
`script(*replies)` queues scripted Converse replies, served in order before the default answer
(by `converse` and `converse-stream` alike): `tool_use(name, input)` (a toolUse block, stop
reason `tool_use`), `text_reply(text)`, or `scripted_error(code, status)`; `requests` records
every call. Run it alone with `python -m tests.doubles.bedrock_runtime --port N`.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from tests.doubles.served import serving_thread

from .eventstream import encode_json_event

EMBED_MODELS = frozenset({"amazon.titan-embed-text-v2:0"})
TITAN_DIMENSIONS = (256, 512, 1024)
_CHAT_MODEL = re.compile(r"^(?:(?:us|eu|apac|us-gov|jp|au|global)\.)?anthropic\.claude-[\w.:-]+$")
_ROUTE = re.compile(r"^/model/(?P<model>[^/]+)/(?P<action>invoke|converse|converse-stream)$")
_PASSAGE = re.compile(
    r'<passage n="(?P<n>\d+)"[^>]*?title="(?P<title>[^"]*)"[^>]*>\n(?P<text>.*?)\n</passage>',
    re.DOTALL,
)
_SENTENCE = re.compile(r"(.+?(?:[.!?](?=\s)|[。！？]|$))")
_WORD = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]+|\w+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")
_ERROR_NAMESPACE = ":http://internal.amazon.com/coral/com.amazon.bedrock/"


@dataclass
class ScriptedReply:
    """One assistant message: optional text, then toolUse blocks (dicts: toolUseId, name, input)."""

    text: str = ""
    tool_uses: list[dict[str, Any]] = field(default_factory=list)


def tool_use(
    name: str, arguments: dict[str, Any], *, tool_use_id: str | None = None, text: str = ""
) -> ScriptedReply:
    """A reply calling tool `name` with `arguments` (the model asks; the client runs the tool)."""
    use_id = tool_use_id or f"tooluse_{hashlib.blake2b(name.encode(), digest_size=6).hexdigest()}"
    return ScriptedReply(text, [{"toolUseId": use_id, "name": name, "input": arguments}])


def text_reply(text: str) -> ScriptedReply:
    return ScriptedReply(text)


@dataclass
class Recorded:
    action: str  # invoke | converse | converse-stream
    model_id: str
    body: Any


class ServiceError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def scripted_error(code: str = "ThrottlingException", status: int = 429) -> ServiceError:
    """A scripted Converse failure, in its place in the script."""
    return ServiceError(status, code, f"{code} (double)")


class BedrockRuntimeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int = 0, host: str = "127.0.0.1"):
        super().__init__((host, port), _Handler)
        self.requests: list[Recorded] = []
        self._failures: list[ServiceError] = []
        self._script: list[ScriptedReply | ServiceError] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def fail_next(
        self, code: str = "ThrottlingException", status: int = 429, *, times: int = 1
    ) -> None:
        """The next `times` requests fail with this error, as the service would send it."""
        with self._lock:
            self._failures.extend(
                ServiceError(status, code, f"{code} (double)") for _ in range(times)
            )

    def script(self, *replies: ScriptedReply | ServiceError) -> None:
        """Queue Converse replies (served in order; the default answer once they run out)."""
        with self._lock:
            self._script.extend(replies)

    @property
    def scripted_left(self) -> int:
        with self._lock:
            return len(self._script)

    def _next_scripted(self) -> ScriptedReply | ServiceError | None:
        with self._lock:
            return self._script.pop(0) if self._script else None

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def _next_failure(self) -> ServiceError | None:
        with self._lock:
            return self._failures.pop(0) if self._failures else None


def start_bedrock_double(
    port: int = 0, host: str = "127.0.0.1"
) -> tuple[BedrockRuntimeServer, str]:
    """Serve on a background thread; returns the server (call `stop()`) and its URL."""
    server = BedrockRuntimeServer(port, host)
    serving_thread(server, "bedrock-double").start()
    return server, server.url


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
    disable_nagle_algorithm = True  # headers and body leave at once, no delayed-ACK stall
    server: BedrockRuntimeServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet in test output
        pass

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        route = _ROUTE.match(self.path.split("?", 1)[0])
        if route is None:
            self._error(ServiceError(404, "UnknownOperationException", f"no route {self.path}"))
            return
        model_id, action = unquote(route["model"]), route["action"]
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        self.server.requests.append(Recorded(action, model_id, body))
        try:
            failure = self.server._next_failure()
            if failure is not None:
                raise failure
            if not isinstance(body, dict):
                raise ServiceError(400, "ValidationException", "Malformed input request")
            if action == "invoke":
                self._json(_invoke(model_id, body))
                return
            scripted = self.server._next_scripted() if _CHAT_MODEL.match(model_id) else None
            if isinstance(scripted, ServiceError):
                raise scripted
            if scripted is not None:
                reply, usage = scripted, _scripted_usage(body, scripted)
            else:
                text, usage = _answer(model_id, body)
                reply = ScriptedReply(text)
            if action == "converse":
                self._json(_converse(reply, usage))
            else:
                self._event_stream(_converse_stream(reply, usage))
        except ServiceError as error:
            self._error(error)
        except Exception as bug:  # a bug of the double: answer, so the client does not hang
            self._error(ServiceError(500, "InternalServerException", f"double: {bug!r}"))

    def _json(self, payload: dict[str, Any]) -> None:
        self._send(200, json.dumps(payload).encode(), {"Content-Type": "application/json"})

    def _event_stream(self, messages: list[bytes]) -> None:
        headers = {"Content-Type": "application/vnd.amazon.eventstream"}
        self._send(200, b"".join(messages), headers)

    def _error(self, error: ServiceError) -> None:
        headers = {
            "Content-Type": "application/json",
            "x-amzn-ErrorType": error.code + _ERROR_NAMESPACE,
        }
        self._send(error.status, json.dumps({"message": error.message}).encode(), headers)

    def _send(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in {**headers, "x-amzn-RequestId": "double"}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


# -- Titan Text Embeddings v2 -------------------------------------------------------------------


def _invoke(model_id: str, body: dict[str, Any]) -> dict[str, Any]:
    if model_id not in EMBED_MODELS:
        raise ServiceError(400, "ValidationException", "The provided model identifier is invalid.")
    text = body.get("inputText")
    if not isinstance(text, str) or not text:
        raise ServiceError(
            400,
            "ValidationException",
            "Malformed input request: #/inputText: expected minLength: 1, actual: 0, please "
            "reformat your input and try again.",
        )
    dimensions = body.get("dimensions", 1024)
    if dimensions not in TITAN_DIMENSIONS:
        raise ServiceError(
            400, "ValidationException", f"Malformed input request: #/dimensions: {dimensions}"
        )
    vector = hashed_embedding(text, dimensions, normalize=body.get("normalize", True))
    return {
        "embedding": vector,
        "embeddingsByType": {"float": vector},
        "inputTextTokenCount": len(_terms(text)),
    }


def hashed_embedding(text: str, dimensions: int, *, normalize: bool = True) -> list[float]:
    """Feature hashing: each term adds ±1 to a bucket chosen by a stable hash of the term."""
    vector = [0.0] * dimensions
    for term in _terms(text) or [text]:
        digest = hashlib.blake2b(term.encode(), digest_size=8).digest()
        bucket = int.from_bytes(digest[:4], "big") % dimensions
        vector[bucket] += 1.0 if digest[4] & 1 else -1.0
    if normalize:
        norm = sum(v * v for v in vector) ** 0.5 or 1.0
        vector = [v / norm for v in vector]
    return vector


def _terms(text: str) -> list[str]:
    terms: list[str] = []
    for run in _WORD.findall(text.lower()):
        if _CJK.match(run) and len(run) > 1:
            terms.extend(run[i : i + 2] for i in range(len(run) - 1))
        else:
            terms.append(run)
    return terms


# -- Converse ----------------------------------------------------------------------------------


def _answer(model_id: str, body: dict[str, Any]) -> tuple[str, dict[str, int]]:
    if not _CHAT_MODEL.match(model_id):
        raise ServiceError(400, "ValidationException", "The provided model identifier is invalid.")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ServiceError(400, "ValidationException", "messages must not be empty")
    prompt = "\n".join(
        block.get("text", "")
        for message in messages
        if message.get("role") == "user"
        for block in message.get("content", [])
    )
    first = next((m for m in _PASSAGE.finditer(prompt) if m["n"] == "1"), None)
    sentence = _first_sentence(first["text"], html.unescape(first["title"])) if first else ""
    if sentence:
        end = sentence[-1] if sentence[-1] in ".!?。！？" else ""
        claim = sentence[: len(sentence) - len(end)]
        space = "" if _CJK.search(claim) else " "  # "壊れた[1]。", "It broke [1]."
        text = f"{claim}{space}[1]{end}"
    else:
        text = "I don't know from the indexed sources."
    system = " ".join(block.get("text", "") for block in body.get("system", []))
    usage_in = len(_terms(system + prompt))
    usage_out = len(_terms(text))
    return text, {
        "inputTokens": usage_in,
        "outputTokens": usage_out,
        "totalTokens": usage_in + usage_out,
    }


def _first_sentence(text: str, title: str) -> str:
    """The passage's first sentence, skipping the title line the chunker prefixes."""
    for line in text.splitlines():
        line = line.strip()
        if line and line != title.strip():
            match = _SENTENCE.match(line)
            return (match.group(1) if match else line).strip()
    return ""


def _scripted_usage(body: dict[str, Any], reply: ScriptedReply) -> dict[str, int]:
    """Deterministic token counts: terms of everything sent, and of the reply."""
    usage_in = len(_terms(json.dumps([body.get("system", []), body.get("messages", [])])))
    usage_out = len(_terms(reply.text + json.dumps([u["input"] for u in reply.tool_uses])))
    return {"inputTokens": usage_in, "outputTokens": usage_out, "totalTokens": usage_in + usage_out}


def _converse(reply: ScriptedReply, usage: dict[str, int]) -> dict[str, Any]:
    content: list[dict[str, Any]] = [{"text": reply.text}] if reply.text else []
    content.extend({"toolUse": use} for use in reply.tool_uses)
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": "tool_use" if reply.tool_uses else "end_turn",
        "usage": usage,
        "metrics": {"latencyMs": 1},
    }


def _converse_stream(reply: ScriptedReply, usage: dict[str, int]) -> list[bytes]:
    events = [encode_json_event("messageStart", {"role": "assistant"})]
    index = 0
    if reply.text:
        pieces = re.findall(r"\S+\s*|\s+", reply.text)  # a delta per word, spaces kept
        events.extend(
            encode_json_event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": p}})
            for p in pieces
        )
        events.append(encode_json_event("contentBlockStop", {"contentBlockIndex": 0}))
        index = 1
    for use in reply.tool_uses:
        start = {"toolUse": {"toolUseId": use["toolUseId"], "name": use["name"]}}
        delta = {"toolUse": {"input": json.dumps(use["input"])}}
        events += [
            encode_json_event("contentBlockStart", {"contentBlockIndex": index, "start": start}),
            encode_json_event("contentBlockDelta", {"contentBlockIndex": index, "delta": delta}),
            encode_json_event("contentBlockStop", {"contentBlockIndex": index}),
        ]
        index += 1
    stop = "tool_use" if reply.tool_uses else "end_turn"
    events += [
        encode_json_event("messageStop", {"stopReason": stop}),
        encode_json_event("metadata", {"usage": usage, "metrics": {"latencyMs": 1}}),
    ]
    return events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args()
    server = BedrockRuntimeServer(args.port, args.host)
    print(f"Bedrock runtime double listening on {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
