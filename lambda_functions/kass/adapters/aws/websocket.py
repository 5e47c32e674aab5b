"""`FrameSender` over API Gateway's management API (`POST /@connections/{id}`), with boto3.

API Gateway answers 410 GoneException once the client has left: the sender then drops every
later frame without calling again, and the turn goes on (its answer is still stored). Other
failures lose that one frame, logged: the turn's final frame carries the whole answer anyway.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from kass.observability import logger
from kass.stream.protocol import encode

SERVICE = "apigatewaymanagementapi"
# Unverified SigV4 keys for a local management API (`kass serve`) when no AWS credentials exist.
_LOCAL_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}


@cache
def management_client(
    endpoint_url: str, *, region: str, max_attempts: int, local: bool = False
) -> Any:
    """A client of the management API at `endpoint_url` (`https://{domain}/{stage}`), one per
    endpoint and container. `local`: the endpoint is `kass serve`, which checks no signature,
    so missing credentials are replaced by placeholders rather than failing."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session()
    credentials = _LOCAL_CREDENTIALS if local and session.get_credentials() is None else {}
    config = Config(
        region_name=region,
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        # A frame is small and the endpoint in-region: a slow post must not stall the turn.
        connect_timeout=2,
        read_timeout=5,
    )
    return session.client(SERVICE, endpoint_url=endpoint_url, config=config, **credentials)


class ManagementApiSender:
    """Sends frames to one connection; `gone` once API Gateway says the client left."""

    def __init__(self, client: Any, connection_id: str) -> None:
        self._client = client
        self.connection_id = connection_id
        self.gone = False

    def send(self, frame: Mapping[str, Any]) -> bool:
        if self.gone:
            return False
        try:
            self._client.post_to_connection(ConnectionId=self.connection_id, Data=encode(frame))
        except self._client.exceptions.GoneException:
            self.gone = True
            logger.info("client gone; the turn goes on", extra={"connection": self.connection_id})
            return False
        except (ClientError, BotoCoreError) as error:
            logger.warning(
                "frame not delivered",
                extra={"connection": self.connection_id, "error": str(error)},
            )
            return False
        return True
