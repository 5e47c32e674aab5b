"""Connectors to the team's systems, by name. GitLab, Slack and Backlog arrive in issue 5.

A connector factory takes the settings and returns a `kass.ports.Connector`; `data_fetcher`
runs the one its schedule names.
"""

from __future__ import annotations

from collections.abc import Callable

from kass.errors import InvalidInput
from kass.ports import Connector
from kass.settings import Settings

ConnectorFactory = Callable[[Settings], Connector]

CONNECTORS: dict[str, ConnectorFactory] = {}


def make_connector(name: str, settings: Settings) -> Connector:
    factory = CONNECTORS.get(name)
    if factory is None:
        known = ", ".join(sorted(CONNECTORS)) or "none installed"
        raise InvalidInput(f"unknown connector {name!r} (known: {known})")
    return factory(settings)
