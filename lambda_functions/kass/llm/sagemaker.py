"""The self-hosted tier: a LangChain chat model over a SageMaker endpoint's Messages API.

The TGI, LMI and vLLM containers serve the OpenAI chat-completions schema on `/invocations`:
the request carries `messages`, `tools`, `stream`...; the answer is a `chat.completion` (or, when
streaming, `data: {chat.completion.chunk}` server-sent-event lines inside the PayloadPart events
of InvokeEndpointWithResponseStream, a line possibly split across parts).

The endpoint is scheduled off outside office hours, so "missing or stopped" is a normal state:
it raises `ModelUnavailable`, which lets a router fall through to another tier.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    InvalidToolCall,
    ToolCall,
    convert_to_openai_messages,
)
from langchain_core.messages.ai import UsageMetadata
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.output_parsers.openai_tools import make_invalid_tool_call, parse_tool_call
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

from kass.errors import ModelUnavailable

_NOT_FOUND = ("not found", "could not find endpoint")
_DONE = "[DONE]"


class SageMakerMessagesChat(BaseChatModel):
    """Chat model on a SageMaker endpoint serving the OpenAI-style Messages API."""

    endpoint_name: str
    client: Any = Field(default=None, exclude=True)  # a boto3 sagemaker-runtime client
    max_tokens: int = 1024
    temperature: float = 0.0
    inference_component: str | None = None  # for endpoints hosting inference components

    @property
    def _llm_type(self) -> str:
        return "sagemaker-messages"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "endpoint_name": self.endpoint_name,
            "inference_component": self.inference_component,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
        }

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: dict[str, Any] | str | bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Tools in the OpenAI format; `tool_choice` also takes LangChain's "any" or a tool name."""
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        if tool_choice is not None:
            kwargs["tool_choice"] = _tool_choice(tool_choice)
        return super().bind(tools=formatted, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        body = self._request(messages, stop, stream=False, **kwargs)
        try:
            response = self.client.invoke_endpoint(**self._invoke_args(body))
            payload = json.loads(response["Body"].read())
        except (ClientError, BotoCoreError) as exc:
            raise self._unavailable(exc) from exc
        try:
            choice = payload["choices"][0]
            message = _ai_message(choice["message"], payload.get("usage"))
        except (KeyError, IndexError, TypeError) as exc:
            raise ModelUnavailable(
                f"SageMaker endpoint {self.endpoint_name} did not answer in the Messages API "
                f"format (missing {exc})"
            ) from exc
        message.response_metadata.update(
            finish_reason=choice.get("finish_reason"), model_name=payload.get("model")
        )
        generation = ChatGeneration(
            message=message, generation_info={"finish_reason": choice.get("finish_reason")}
        )
        return ChatResult(generations=[generation], llm_output={"model": payload.get("model")})

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        body = self._request(messages, stop, stream=True, **kwargs)
        try:
            response = self.client.invoke_endpoint_with_response_stream(**self._invoke_args(body))
            for data in sse_data(response["Body"]):
                if data.strip() == _DONE:
                    return
                chunk = self._chunk(json.loads(data))
                if chunk is None:
                    continue
                if run_manager:
                    run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                yield chunk
        except (ClientError, BotoCoreError) as exc:  # also stream error events mid-answer
            raise self._unavailable(exc) from exc

    # -- request / response ---------------------------------------------------------------
    def _request(
        self, messages: list[BaseMessage], stop: list[str] | None, *, stream: bool, **kwargs: Any
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "messages": convert_to_openai_messages(messages, text_format="string"),
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "stream": stream,
        }
        if stream:
            body["stream_options"] = {"include_usage": True}  # usage in the last chunk
        if stop:
            body["stop"] = stop
        body.update({k: v for k, v in kwargs.items() if v is not None})
        return body

    def _invoke_args(self, body: Mapping[str, Any]) -> dict[str, Any]:
        args: dict[str, Any] = {
            "EndpointName": self.endpoint_name,
            "Body": json.dumps(body, ensure_ascii=False).encode("utf-8"),
            "ContentType": "application/json",
        }
        if self.inference_component:
            args["InferenceComponentName"] = self.inference_component
        return args

    def _chunk(self, data: Mapping[str, Any]) -> ChatGenerationChunk | None:
        if "error" in data:  # TGI reports a failure mid-stream as an event of its own
            raise ModelUnavailable(
                f"SageMaker endpoint {self.endpoint_name} failed mid-answer: {data['error']}"
            )
        choices = data.get("choices") or []
        usage = _usage(data.get("usage"))
        if not choices and usage is None:
            return None
        choice = choices[0] if choices else {}
        delta = choice.get("delta") or {}
        chunks = [
            tool_call_chunk(
                name=(call.get("function") or {}).get("name"),
                args=_arguments((call.get("function") or {}).get("arguments")),
                id=call.get("id"),
                index=call.get("index"),
            )
            for call in delta.get("tool_calls") or []
        ]
        message = AIMessageChunk(
            content=delta.get("content") or "", tool_call_chunks=chunks, usage_metadata=usage
        )
        finish = choice.get("finish_reason")
        return ChatGenerationChunk(
            message=message, generation_info={"finish_reason": finish} if finish else None
        )

    def _unavailable(self, exc: ClientError | BotoCoreError) -> ModelUnavailable:
        name = self.endpoint_name
        if isinstance(exc, BotoCoreError):
            return ModelUnavailable(f"cannot reach SageMaker endpoint {name}: {exc}")
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        message = " ".join(str(error.get("Message", "")).split())
        if code == "ServiceUnavailable" or (
            code.startswith("Validation") and any(s in message.lower() for s in _NOT_FOUND)
        ):
            return ModelUnavailable(
                f"the 7B SageMaker endpoint {name} is missing or stopped (it is scheduled off "
                "outside office hours); use another tier or try again later"
            )
        return ModelUnavailable(f"the 7B SageMaker endpoint {name} failed ({code}): {message}")


def sse_data(events: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """The `data:` values of the server-sent events carried by PayloadPart events, in order.

    A part may end mid-line (even mid-character), so bytes are buffered up to each newline.
    Lines that are bare JSON count as data too (the containers' JSON-lines stream format).
    """
    buffer = b""
    for event in events:
        part = event.get("PayloadPart")
        if not part:
            continue
        buffer += part.get("Bytes", b"")
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            data = _line_data(line)
            if data is not None:
                yield data
    data = _line_data(buffer)
    if data is not None:
        yield data


def _line_data(raw: bytes) -> str | None:
    line = raw.decode("utf-8").rstrip("\r")
    if line.startswith("data:"):
        value = line[5:]
        return value[1:] if value.startswith(" ") else value
    if line.startswith("{"):
        return line
    return None  # blank separators, comments, `event:`/`id:` fields


def _ai_message(message: Mapping[str, Any], usage: Any) -> AIMessage:
    tool_calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    for raw in message.get("tool_calls") or []:
        function = dict(raw.get("function") or {})
        function["arguments"] = _arguments(function.get("arguments")) or "{}"
        call = {**raw, "function": function}
        try:
            parsed = parse_tool_call(call, return_id=True)
        except OutputParserException as exc:
            invalid.append(make_invalid_tool_call(call, str(exc)))
            continue
        if parsed:
            tool_calls.append(ToolCall(name=parsed["name"], args=parsed["args"], id=parsed["id"]))
    return AIMessage(
        content=message.get("content") or "",
        tool_calls=tool_calls,
        invalid_tool_calls=invalid,
        usage_metadata=_usage(usage),
    )


def _arguments(value: Any) -> str | None:
    # TGI sends tool arguments as a JSON object, the OpenAI schema (vLLM, LMI) as a string.
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _usage(usage: Any) -> UsageMetadata | None:
    if not isinstance(usage, Mapping):
        return None
    prompt = int(usage.get("prompt_tokens") or 0)
    completion = int(usage.get("completion_tokens") or 0)
    total = int(usage.get("total_tokens") or prompt + completion)
    return UsageMetadata(input_tokens=prompt, output_tokens=completion, total_tokens=total)


def _tool_choice(choice: dict[str, Any] | str | bool) -> dict[str, Any] | str:
    """LangChain's tool_choice in OpenAI terms: "any"/True -> "required", a name -> that tool."""
    if isinstance(choice, dict):
        return choice
    if isinstance(choice, bool):
        return "required" if choice else "none"
    if choice == "any":
        return "required"
    if choice in ("auto", "none", "required"):
        return choice
    return {"type": "function", "function": {"name": choice}}
