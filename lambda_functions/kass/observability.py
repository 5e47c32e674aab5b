"""The one observability module: Powertools Logger and Metrics shared by every function.

Service name, metrics namespace and log level come from Powertools' own variables
(`POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_METRICS_NAMESPACE`, `POWERTOOLS_LOG_LEVEL`), which the
Terraform module sets per function. The X-Ray tracer is built only by the functions that carry
it (`make_tracer`): importing the X-Ray SDK creates a botocore client for sampling rules, about
0.3 s of cold start, more than the vector search function's whole budget (ADR 0007).
"""

from __future__ import annotations

import warnings
from typing import Any

from aws_lambda_powertools import Logger, Metrics

NAMESPACE = "kass"

logger = Logger()  # service: POWERTOOLS_SERVICE_NAME
metrics = Metrics(namespace=NAMESPACE)

# Requests that count nothing (a health check, a read) are normal; Powertools would warn on each.
warnings.filterwarnings("ignore", message="No application metrics to publish")


def make_tracer() -> Any:
    """Powertools Tracer (X-Ray SDK); boto3/botocore calls become subsegments."""
    from aws_lambda_powertools import Tracer

    return Tracer()
