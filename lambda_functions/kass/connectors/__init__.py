"""Connectors to the team's systems, by name: `gitlab`, `slack`, `backlog`.

Each module has a `from_settings(settings) -> Connector` factory; `data_fetcher` (and
`kass sync`) run the one a schedule names. Imports are lazy: a run pays only for its own SDK.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from kass.errors import InvalidInput
from kass.ports import Connector
from kass.settings import Settings

ConnectorFactory = Callable[[Settings], Connector]


def _factory(module: str) -> ConnectorFactory:
    def make(settings: Settings) -> Connector:
        connector: Connector = import_module(module).from_settings(settings)
        return connector

    return make


CONNECTORS: dict[str, ConnectorFactory] = {
    name: _factory(f"kass.connectors.{name}") for name in ("gitlab", "slack", "backlog")
}


def make_connector(name: str, settings: Settings) -> Connector:
    factory = CONNECTORS.get(name)
    if factory is None:
        known = ", ".join(sorted(CONNECTORS))
        raise InvalidInput(f"unknown connector {name!r} (known: {known})")
    return factory(settings)
