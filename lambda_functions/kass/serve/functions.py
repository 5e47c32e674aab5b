"""The functions' handlers, loaded and invoked in this process the way Lambda runs them.

Each function is one execution environment: its `handler.py` is imported once (its init, e.g.
`runtime = Runtime(load_settings())`, runs once), under a module name of its own so the
handlers' identical file names do not collide, and it serves one invocation at a time. The
latter is not only fidelity: Powertools resolvers keep the current event on the app object, so
two requests in one module at once could read each other's caller.

As in Lambda: the event reaches the handler through JSON (the handler cannot alter the
caller's copy); an exception in init or in the handler, or a result that is not JSON, is a
function error (logged here with its traceback, as CloudWatch would hold it); an init that
failed runs again on the next invocation.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import logging
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from kass.api.routes import FUNCTIONS, handler_file
from kass.serve.context import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_MS, LocalLambdaContext

logger = logging.getLogger(__name__)

# Lambda timeouts of the functions (the deadline `context.get_remaining_time_in_millis()` sees).
TIMEOUTS_MS: dict[str, int] = {
    "orchestrator": 30_000,
    "vector_search": 30_000,
    "document_processor": 300_000,
    "data_fetcher": 900_000,
    "discord_handler": 300_000,  # the worker's thread runs past the reply; Terraform's 300 s
    "stream_handler": 300_000,  # a streamed turn is not bound by API Gateway's 29 s
}

_module_numbers = itertools.count()


class FunctionError(Exception):
    """The invocation failed (Lambda's "Unhandled" function error); details are in the log."""

    def __init__(self, function: str, error_type: str, message: str) -> None:
        super().__init__(f"{function}: {error_type}: {message}")
        self.function = function
        self.error_type = error_type


class LocalFunction:
    """One function: its handler module (imported on first use) and its invocation lock."""

    def __init__(
        self,
        name: str,
        path: Path,
        *,
        timeout_ms: int = DEFAULT_TIMEOUT_MS,
        memory_limit_in_mb: int = DEFAULT_MEMORY_MB,
    ) -> None:
        self.name = name
        self.path = Path(path)
        self.timeout_ms = timeout_ms
        self.memory_limit_in_mb = memory_limit_in_mb
        self._module: ModuleType | None = None
        self._lock = threading.Lock()

    @property
    def module(self) -> ModuleType:
        """The handler module, imported (init run) on first use; FunctionError if init fails."""
        with self._lock:
            return self._load()

    def invoke(self, event: Mapping[str, Any]) -> Any:
        """Run `lambda_handler(event, context)` with a fresh context; its JSON-decoded result."""
        payload = json.loads(json.dumps(event))
        with self._lock:
            module = self._load()
            context = LocalLambdaContext(
                self.name, timeout_ms=self.timeout_ms, memory_limit_in_mb=self.memory_limit_in_mb
            )
            try:
                result = module.lambda_handler(payload, context)
            except (Exception, SystemExit) as error:
                logger.error(
                    "function %s failed (request %s)",
                    self.name,
                    context.aws_request_id,
                    exc_info=error,
                )
                raise FunctionError(self.name, type(error).__name__, str(error)) from error
        try:
            return json.loads(json.dumps(result))
        except (TypeError, ValueError) as error:
            logger.error("function %s returned a result that is not JSON: %s", self.name, error)
            raise FunctionError(self.name, "Runtime.MarshalError", str(error)) from error

    def _load(self) -> ModuleType:
        if self._module is not None:
            return self._module
        name = f"kass_function_{self.name}_{next(_module_numbers)}"
        spec = importlib.util.spec_from_file_location(name, self.path)
        if spec is None or spec.loader is None:
            raise FunctionError(self.name, "Runtime.ImportModuleError", f"cannot load {self.path}")
        module = importlib.util.module_from_spec(spec)
        # Registered before it runs, like any import: pydantic and typing resolve the module's
        # postponed annotations through sys.modules.
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
            if not callable(getattr(module, "lambda_handler", None)):
                raise AttributeError(f"{self.path} has no callable lambda_handler")
        except (Exception, SystemExit) as error:
            del sys.modules[name]
            logger.error("init of function %s failed", self.name, exc_info=error)
            raise FunctionError(self.name, "Runtime.InitError", str(error)) from error
        self._module = module
        return module


class LocalFunctions(Mapping[str, LocalFunction]):
    """The functions a server runs: by default every `lambda_functions/<name>/handler.py`.

    `handlers` maps names to handler files instead (tests use small handlers of their own).
    """

    def __init__(
        self,
        handlers: Mapping[str, Path] | None = None,
        *,
        timeouts_ms: Mapping[str, int] | None = None,
    ) -> None:
        files = dict(handlers) if handlers is not None else {f: handler_file(f) for f in FUNCTIONS}
        timeouts = {**TIMEOUTS_MS, **(timeouts_ms or {})}
        self._functions = {
            name: LocalFunction(name, path, timeout_ms=timeouts.get(name, DEFAULT_TIMEOUT_MS))
            for name, path in files.items()
        }

    def __getitem__(self, name: str) -> LocalFunction:
        return self._functions[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._functions)

    def __len__(self) -> int:
        return len(self._functions)

    def invoke(self, name: str, event: Mapping[str, Any]) -> Any:
        return self._functions[name].invoke(event)
