"""The AWS emulator of `make tf-emulate`: moto plus shims, and the protocol doubles, on 127.0.0.1.

    .venv/bin/python scripts/emulator.py serve [--port 4566] [--state-file build/emulator.json]

Serves, until SIGTERM/SIGINT:
- a moto server (moto's WSGI app under werkzeug, `ThreadedMotoServer`) on `--port`, with the
  shims below patched into moto in this process: each closes one gap that stopped the
  Terraform modules from applying and destroying, or the deployed functions from running;
- the OpenSearch HTTP double (tests/doubles/opensearch.py) and the Bedrock runtime double
  (tests/doubles/bedrock_runtime.py), each on a port of its own.

The state file (JSON) names the three URLs and the environment a client needs
(`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`); it is written once everything
listens and removed on exit, so `make` can wait for it. Tests import `Emulator` instead.

Lambda invoke runs the deployed code without Docker: the function's zip and its layers' zips
(the bytes moto keeps from CreateFunction/PublishLayerVersion) are unpacked as Lambda lays them
out (`task/` = /var/task, `opt/` = /opt, layers merged in order) and the handler runs in a
fresh `python -S` subprocess of this interpreter with the function's stored environment
variables, plus `AWS_ENDPOINT_URL` (this moto) and `AWS_ENDPOINT_URL_BEDROCK_RUNTIME` (the
double). Which third-party packages it imports depends on the layers' binaries
(`runtime_paths`): see docs/emulator.md.

Every shim is listed in `SHIMS` with the moto 5.2.x gap it closes; docs/emulator.md has the
table and what stays unemulated.
"""

from __future__ import annotations

import argparse
import base64
import fnmatch
import hashlib
import importlib.machinery
import io
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `tests.doubles` when run as a script
    sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"
DEFAULT_PORT = 4566
DEFAULT_STATE_FILE = ROOT / "build" / "emulator.json"
# Lambda does not count a function's init (imports, cold start) in its timeout, up to 10 s.
INIT_ALLOWANCE_SECONDS = 10.0
# What the Lambda Python runtime provides besides the standard library (make build leaves
# these out of the layers: scripts/build_lambda.py EXCLUDED).
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")


@dataclass(frozen=True)
class Shim:
    name: str
    gap: str  # what moto 5.2.x lacks or gets wrong
    apply: Callable[[], None]


# -- runtime configuration the shims read (set by Emulator.start) -----------------------------
@dataclass
class _Config:
    moto_url: str = ""
    opensearch_url: str | None = None
    bedrock_url: str | None = None
    work_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "kass-emulator")
    python: str = sys.executable
    extra_env: dict[str, str] = field(default_factory=dict)


CONFIG = _Config()
_applied = False
_lock = threading.Lock()


def _now_ms() -> int:
    return int(time.time() * 1000)


def _body(response: Any) -> dict[str, Any]:
    return json.loads(response.body or "{}")


# == OpenSearch Serverless =====================================================================
def _aoss_backend(response: Any) -> Any:
    return response.opensearchserverless_backend


def _aoss_access_policies(backend: Any) -> dict[tuple[str, str], dict[str, Any]]:
    if not hasattr(backend, "kass_access_policies"):
        backend.kass_access_policies = {}
    return backend.kass_access_policies  # type: ignore[no-any-return]


def _shim_aoss_access_policies() -> None:
    """CreateAccessPolicy, GetAccessPolicy, UpdateAccessPolicy, DeleteAccessPolicy and
    ListAccessPolicies, kept in memory per account and region (data access policies)."""
    from moto.core.responses import ActionResult, EmptyResult
    from moto.opensearchserverless.exceptions import (
        ConflictException,
        ResourceNotFoundException,
        ValidationException,
    )
    from moto.opensearchserverless.responses import OpenSearchServiceServerlessResponse as R

    def detail(p: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in p.items() if v not in (None, "")}

    def find(self: Any, name: str, kind: str) -> dict[str, Any]:
        policy = _aoss_access_policies(_aoss_backend(self)).get((name, kind))
        if policy is None:
            raise ResourceNotFoundException(f"Policy with name {name} and type {kind} is not found")
        return policy

    def create_access_policy(self: Any) -> ActionResult:
        params = _body(self)
        name, kind = params["name"], params["type"]
        policies = _aoss_access_policies(_aoss_backend(self))
        if (name, kind) in policies:
            raise ConflictException(f"Policy with name {name} and type {kind} already exists")
        if kind != "data":
            raise ValidationException(
                f"1 validation error detected: Value '{kind}' at 'type' failed to satisfy "
                "constraint: Member must satisfy enum value set: [data]"
            )
        now = _now_ms()
        policies[(name, kind)] = {
            "type": kind,
            "name": name,
            "policyVersion": uuid.uuid4().hex[:20],
            "description": params.get("description"),
            "policy": json.loads(params["policy"]),
            "createdDate": now,
            "lastModifiedDate": now,
        }
        return ActionResult({"accessPolicyDetail": detail(policies[(name, kind)])})

    def get_access_policy(self: Any) -> ActionResult:
        params = _body(self)
        return ActionResult(
            {"accessPolicyDetail": detail(find(self, params["name"], params["type"]))}
        )

    def update_access_policy(self: Any) -> ActionResult:
        params = _body(self)
        policy = find(self, params["name"], params["type"])
        if params.get("policyVersion") != policy["policyVersion"]:
            raise ValidationException(
                "Policy version specified in the request refers to an older version and policy "
                "has since changed"
            )
        if "policy" in params:
            policy["policy"] = json.loads(params["policy"])
        if "description" in params:
            policy["description"] = params["description"]
        policy["policyVersion"] = uuid.uuid4().hex[:20]
        policy["lastModifiedDate"] = _now_ms()
        return ActionResult({"accessPolicyDetail": detail(policy)})

    def delete_access_policy(self: Any) -> EmptyResult:
        params = _body(self)
        find(self, params["name"], params["type"])
        del _aoss_access_policies(_aoss_backend(self))[(params["name"], params["type"])]
        return EmptyResult()

    def list_access_policies(self: Any) -> ActionResult:
        params = _body(self)
        resources = params.get("resource") or []
        summaries = []
        for policy in _aoss_access_policies(_aoss_backend(self)).values():
            if policy["type"] != params.get("type"):
                continue
            covered = [r for rule in _rules(policy["policy"]) for r in rule.get("Resource", [])]
            if resources and not any(r in covered for r in resources):
                continue
            summaries.append(detail({k: v for k, v in policy.items() if k != "policy"}))
        return ActionResult({"accessPolicySummaries": summaries})

    for function in (
        create_access_policy,
        get_access_policy,
        update_access_policy,
        delete_access_policy,
        list_access_policies,
    ):
        setattr(R, function.__name__, function)


def _rules(policy: Any) -> list[dict[str, Any]]:
    """The rules of a policy document: one statement (encryption) or a list of them."""
    statements = policy if isinstance(policy, list) else [policy]
    return [rule for s in statements for rule in s.get("Rules", [])]


def _shim_aoss_security_policies() -> None:
    """DeleteSecurityPolicy (not implemented by moto)."""
    from moto.core.responses import EmptyResult
    from moto.opensearchserverless.exceptions import ResourceNotFoundException
    from moto.opensearchserverless.responses import OpenSearchServiceServerlessResponse as R

    def delete_security_policy(self: Any) -> EmptyResult:
        params = _body(self)
        policies = _aoss_backend(self).security_policies
        for token, policy in list(policies.items()):
            if policy.name == params["name"] and policy.type == params["type"]:
                del policies[token]
                return EmptyResult()
        raise ResourceNotFoundException(
            f"Policy with name {params['name']} and type {params['type']} is not found"
        )

    R.delete_security_policy = delete_security_policy


def _shim_aoss_collections() -> None:
    """CreateCollection: moto reads `KmsARN` from the last policy naming the collection — a
    KeyError for an encryption policy with `AWSOwnedKey: true` (and a TypeError when that policy
    is the network one); it also ignores wildcards (`collection/kass-dev-*`). Here the
    encryption policy is matched like AOSS does (patterns) and an AWS-owned key reads `auto`.
    The collection endpoint is the OpenSearch double's URL when the launcher serves one, so
    the deployed functions reach it through the value Terraform passes them. BatchGetCollection
    by names: moto reports every non-matching collection as an error; fixed. UpdateCollection
    (description) is added."""
    from moto.core.responses import ActionResult
    from moto.opensearchserverless import models
    from moto.opensearchserverless.exceptions import ResourceNotFoundException, ValidationException
    from moto.opensearchserverless.responses import OpenSearchServiceServerlessResponse as R

    def encryption_policy(backend: Any, name: str) -> dict[str, Any]:
        for policy in backend.security_policies.values():
            if policy.type != "encryption":
                continue
            for rule in _rules(policy.policy):
                if rule.get("ResourceType", "collection") != "collection":
                    continue
                if any(fnmatch.fnmatchcase(f"collection/{name}", r) for r in rule["Resource"]):
                    return policy.policy  # type: ignore[no-any-return]
        raise ValidationException(
            f"No matching security policy of encryption type found for collection name: {name}. "
            "Please create security policy of encryption type for this collection."
        )

    original_init = models.Collection.__init__

    def collection_init(self: Any, *args: Any, **kwargs: Any) -> None:
        policy = dict(kwargs.pop("policy"))
        policy.setdefault("KmsARN", "auto")  # AWSOwnedKey: true
        original_init(self, *args, policy=policy, **kwargs)
        if CONFIG.opensearch_url:
            self.collection_endpoint = CONFIG.opensearch_url
            self.dashboard_endpoint = f"{CONFIG.opensearch_url}/_dashboards"

    def create_collection(
        self: Any,
        client_token: str,
        description: str,
        name: str,
        standby_replicas: str,
        tags: list[dict[str, str]],
        type: str,  # noqa: A002 - moto's signature
    ) -> Any:
        collection = models.Collection(
            client_token=client_token or uuid.uuid4().hex[:10],
            description=description,
            name=name,
            standby_replicas=standby_replicas,
            tags=tags,
            type=type,
            policy=encryption_policy(self, name),
            region=self.region_name,
            account_id=self.account_id,
        )
        self.collections[collection.id] = collection
        self.tag_resource(collection.arn, tags or [])
        return collection

    def batch_get_collection(
        self: Any, ids: list[str] | None, names: list[str] | None
    ) -> tuple[list[Any], list[dict[str, str]]]:
        if ids and names:
            raise ValidationException(
                "You need to provide IDs or names. You can't provide both IDs and names in the "
                "same request"
            )
        found, errors = [], []
        for key, wanted in (("id", ids or []), ("name", names or [])):
            for value in wanted:
                hits = [c for c in self.collections.values() if getattr(c, key) == value]
                found.extend(c.to_dict_batch() for c in hits)
                if not hits:
                    errors.append(
                        {
                            key: value,
                            "errorCode": "NOT_FOUND",
                            "errorMessage": "The specified Collection is not found.",
                        }
                    )
        return found, errors

    def update_collection(self: Any) -> ActionResult:
        params = _body(self)
        collection = self.opensearchserverless_backend.collections.get(params["id"])
        if collection is None:
            raise ResourceNotFoundException(f"Collection with ID {params['id']} cannot be found.")
        if "description" in params:
            collection.description = params["description"]
        collection.last_modified_date = _now_ms()
        return ActionResult({"updateCollectionDetail": collection.to_dict()})

    models.Collection.__init__ = collection_init
    models.OpenSearchServiceServerlessBackend.create_collection = create_collection
    models.OpenSearchServiceServerlessBackend.batch_get_collection = batch_get_collection
    R.update_collection = update_collection


def _shim_aoss_vpc_endpoints() -> None:
    """BatchGetVpcEndpoint, UpdateVpcEndpoint, DeleteVpcEndpoint and ListVpcEndpoints (moto
    has only CreateVpcEndpoint, so the endpoint could be created but never read or removed),
    and the EC2 interface endpoint AOSS makes under the same id (the provider reads it)."""
    from moto.core.responses import ActionResult
    from moto.opensearchserverless.exceptions import ResourceNotFoundException
    from moto.opensearchserverless.responses import OpenSearchServiceServerlessResponse as R

    def endpoints(self: Any) -> dict[str, Any]:
        return {e.id: e for e in self.opensearchserverless_backend.os_endpoints.values()}

    def full(e: Any) -> dict[str, Any]:
        if not hasattr(e, "created_date"):
            e.created_date = _now_ms()
        return {
            "id": e.id,
            "name": e.name,
            "vpcId": e.vpc_id,
            "subnetIds": e.subnet_ids or [],
            "securityGroupIds": e.security_group_ids or [],
            "status": e.status,
            "createdDate": e.created_date,
        }

    def get(self: Any, endpoint_id: str) -> Any:
        endpoint = endpoints(self).get(endpoint_id)
        if endpoint is None:
            raise ResourceNotFoundException(f"VpcEndpoint {endpoint_id} not found")
        return endpoint

    def batch_get_vpc_endpoint(self: Any) -> ActionResult:
        known = endpoints(self)
        ids = _body(self).get("ids", [])
        return ActionResult(
            {
                "vpcEndpointDetails": [full(known[i]) for i in ids if i in known],
                "vpcEndpointErrorDetails": [
                    {"id": i, "errorCode": "NOT_FOUND", "errorMessage": "VpcEndpoint not found"}
                    for i in ids
                    if i not in known
                ],
            }
        )

    def update_vpc_endpoint(self: Any) -> ActionResult:
        params = _body(self)
        endpoint = get(self, params["id"])
        subnets = set(endpoint.subnet_ids or [])
        subnets |= set(params.get("addSubnetIds", []))
        subnets -= set(params.get("removeSubnetIds", []))
        groups = set(endpoint.security_group_ids or [])
        groups |= set(params.get("addSecurityGroupIds", []))
        groups -= set(params.get("removeSecurityGroupIds", []))
        endpoint.subnet_ids, endpoint.security_group_ids = sorted(subnets), sorted(groups)
        detail = full(endpoint)
        detail["lastModifiedDate"] = _now_ms()
        return ActionResult({"UpdateVpcEndpointDetail": detail})

    def delete_vpc_endpoint(self: Any) -> ActionResult:
        endpoint = get(self, _body(self)["id"])
        backend = self.opensearchserverless_backend
        for token, e in list(backend.os_endpoints.items()):
            if e is endpoint:
                del backend.os_endpoints[token]
        ec2 = ec2_backends[backend.account_id][backend.region_name]
        ec2.delete_vpc_endpoints([endpoint.id])
        ec2.vpc_end_points.pop(endpoint.id, None)
        return ActionResult(
            {
                "deleteVpcEndpointDetail": {
                    "id": endpoint.id,
                    "name": endpoint.name,
                    "status": "DELETING",
                }
            }
        )

    def list_vpc_endpoints(self: Any) -> ActionResult:
        return ActionResult(
            {
                "vpcEndpointSummaries": [
                    {"id": e.id, "name": e.name, "status": e.status}
                    for e in endpoints(self).values()
                ]
            }
        )

    for function in (
        batch_get_vpc_endpoint,
        update_vpc_endpoint,
        delete_vpc_endpoint,
        list_vpc_endpoints,
    ):
        setattr(R, function.__name__, function)

    # AOSS makes an interface endpoint in the VPC under the same id, and the provider reads its
    # security groups from EC2 DescribeVpcEndpoints: mirror it in moto's EC2 backend.
    from moto.ec2.models import ec2_backends
    from moto.opensearchserverless import models

    original_create = models.OpenSearchServiceServerlessBackend.create_vpc_endpoint

    def create_vpc_endpoint(self: Any, *args: Any, **kwargs: Any) -> Any:
        endpoint = original_create(self, *args, **kwargs)
        ec2 = ec2_backends[self.account_id][self.region_name]
        mirror = ec2.create_vpc_endpoint(
            vpc_id=endpoint.vpc_id,
            service_name=f"com.amazonaws.{self.region_name}.aoss",
            endpoint_type="Interface",
            policy_document=None,
            route_table_ids=[],
            subnet_ids=endpoint.subnet_ids,
            security_group_ids=endpoint.security_group_ids,
        )
        ec2.vpc_end_points.pop(mirror.id)
        mirror.id = endpoint.id
        ec2.vpc_end_points[endpoint.id] = mirror
        return endpoint

    models.OpenSearchServiceServerlessBackend.create_vpc_endpoint = create_vpc_endpoint


# == Application Auto Scaling =================================================================
def _shim_appautoscaling_tags() -> None:
    """ListTagsForResource, TagResource, UntagResource (not implemented: the provider reads tags
    after RegisterScalableTarget, fails, and taints the target). Tags given to
    RegisterScalableTarget are kept; deregistering drops them."""
    from moto.applicationautoscaling.exceptions import AWSValidationException
    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse as R
    from moto.core.responses import ActionResult, EmptyResult

    def tags_of(self: Any) -> dict[str, dict[str, str]]:
        backend = self.applicationautoscaling_backend
        if not hasattr(backend, "kass_tags"):
            backend.kass_tags = {}
        return backend.kass_tags  # type: ignore[no-any-return]

    def arns(self: Any) -> dict[str, Any]:
        backend = self.applicationautoscaling_backend
        return {t.arn: t for by_id in backend.targets.values() for t in by_id.values()}

    def known(self: Any, arn: str) -> dict[str, str]:
        if arn not in arns(self):
            raise AWSValidationException(f"Resource {arn} does not exist")
        return tags_of(self).setdefault(arn, {})

    original_register = R.register_scalable_target
    original_deregister = R.deregister_scalable_target

    def register_scalable_target(self: Any) -> str:
        result = original_register(self)
        tags = _body(self).get("Tags")
        if tags:
            tags_of(self).setdefault(json.loads(result)["ScalableTargetARN"], {}).update(tags)
        return result  # type: ignore[no-any-return]

    def deregister_scalable_target(self: Any) -> str:
        before = set(arns(self))
        result = original_deregister(self)
        for arn in before - set(arns(self)):
            tags_of(self).pop(arn, None)
        return result  # type: ignore[no-any-return]

    def list_tags_for_resource(self: Any) -> ActionResult:
        return ActionResult({"Tags": dict(known(self, _body(self)["ResourceARN"]))})

    def tag_resource(self: Any) -> EmptyResult:
        params = _body(self)
        known(self, params["ResourceARN"]).update(params.get("Tags", {}))
        return EmptyResult()

    def untag_resource(self: Any) -> EmptyResult:
        params = _body(self)
        tags = known(self, params["ResourceARN"])
        for key in params.get("TagKeys", []):
            tags.pop(key, None)
        return EmptyResult()

    for function in (
        register_scalable_target,
        deregister_scalable_target,
        list_tags_for_resource,
        tag_resource,
        untag_resource,
    ):
        setattr(R, function.__name__, function)


# == CloudFront ===============================================================================
@dataclass
class _HeadersPolicy:
    id: str
    config: dict[str, Any]
    etag: str
    last_modified: datetime

    def result(self) -> dict[str, Any]:
        return {
            "Id": self.id,
            "LastModifiedTime": self.last_modified,
            "ResponseHeadersPolicyConfig": self.config,
        }


def _shim_cloudfront_response_headers_policies() -> None:
    """Create/Get/GetConfig/Update/Delete/ListResponseHeadersPolicies (moto has none): REST-XML
    routes added to moto's CloudFront URL map, bodies parsed and serialized by moto from
    botocore's model, ETag/If-Match checked like CloudFront."""
    from moto.cloudfront import urls
    from moto.cloudfront.exceptions import CloudFrontException
    from moto.cloudfront.responses import CloudFrontResponse as R
    from moto.core.responses import ActionResult, EmptyResult

    def error(code: str, message: str) -> CloudFrontException:
        return CloudFrontException(code, message)  # HTTP status: from botocore's error shape

    base = "{0}/2020-05-31/response-headers-policy"
    urls.url_paths.update(
        {
            base + "$": R.dispatch,
            base + "/(?P<Id>[^/]+)$": R.dispatch,
            base + "/(?P<Id>[^/]+)/config$": R.dispatch,
        }
    )

    def policies(self: Any) -> dict[str, _HeadersPolicy]:
        if not hasattr(self.backend, "kass_response_headers_policies"):
            self.backend.kass_response_headers_policies = {}
        return self.backend.kass_response_headers_policies  # type: ignore[no-any-return]

    def get(self: Any) -> _HeadersPolicy:
        policy = policies(self).get(self._get_param("Id"))
        if policy is None:
            raise error(
                "NoSuchResponseHeadersPolicy", "The response headers policy does not exist."
            )
        return policy

    def check_etag(self: Any, policy: _HeadersPolicy) -> None:
        if_match = self._get_param("IfMatch")
        if not if_match:
            raise error("InvalidIfMatchVersion", "The If-Match version is missing.")
        if if_match != policy.etag:
            raise error("PreconditionFailed", "The If-Match version does not match.")

    def create_response_headers_policy(self: Any) -> ActionResult:
        config = self._get_param("ResponseHeadersPolicyConfig", {})
        if any(p.config.get("Name") == config.get("Name") for p in policies(self).values()):
            raise error(
                "ResponseHeadersPolicyAlreadyExists",
                f"A response headers policy named {config.get('Name')} already exists.",
            )
        policy_id = str(uuid.uuid4())
        policy = _HeadersPolicy(policy_id, config, uuid.uuid4().hex[:14].upper(), datetime.now(UTC))
        policies(self)[policy_id] = policy
        location = (
            f"https://cloudfront.amazonaws.com/2020-05-31/response-headers-policy/{policy_id}"
        )
        return ActionResult(
            {"ResponseHeadersPolicy": policy.result(), "ETag": policy.etag, "Location": location}
        )

    def get_response_headers_policy(self: Any) -> ActionResult:
        policy = get(self)
        return ActionResult({"ResponseHeadersPolicy": policy.result(), "ETag": policy.etag})

    def get_response_headers_policy_config(self: Any) -> ActionResult:
        policy = get(self)
        return ActionResult({"ResponseHeadersPolicyConfig": policy.config, "ETag": policy.etag})

    def update_response_headers_policy(self: Any) -> ActionResult:
        policy = get(self)
        check_etag(self, policy)
        policy.config = self._get_param("ResponseHeadersPolicyConfig", {})
        policy.etag = uuid.uuid4().hex[:14].upper()
        policy.last_modified = datetime.now(UTC)
        return ActionResult({"ResponseHeadersPolicy": policy.result(), "ETag": policy.etag})

    def delete_response_headers_policy(self: Any) -> EmptyResult:
        policy = get(self)
        check_etag(self, policy)
        del policies(self)[policy.id]
        return EmptyResult()

    def list_response_headers_policies(self: Any) -> ActionResult:
        kind = self._get_param("Type")
        items = [
            {"Type": "custom", "ResponseHeadersPolicy": p.result()}
            for p in policies(self).values()
            if kind in (None, "custom")
        ]
        return ActionResult(
            {
                "ResponseHeadersPolicyList": {
                    "MaxItems": 100,
                    "Quantity": len(items),
                    "Items": items,
                }
            }
        )

    for function in (
        create_response_headers_policy,
        get_response_headers_policy,
        get_response_headers_policy_config,
        update_response_headers_policy,
        delete_response_headers_policy,
        list_response_headers_policies,
    ):
        setattr(R, function.__name__, function)


# == SageMaker ================================================================================
def _shim_sagemaker_instance_types() -> None:
    """CreateEndpointConfig: moto validates InstanceType against its own short list, which has
    no ml.g5/ml.g6 types; here against botocore's ProductionVariantInstanceType enum, the
    service's own list."""
    import botocore.session
    from moto.sagemaker import models

    valid = set(
        botocore.session.get_session()
        .get_service_model("sagemaker")
        .shape_for("ProductionVariantInstanceType")
        .enum
    )
    original = models.FakeEndpointConfig.validate_instance_type

    def validate_instance_type(self: Any, instance_type: str) -> None:
        if instance_type not in valid:
            original(self, instance_type)

    models.FakeEndpointConfig.validate_instance_type = validate_instance_type


# == S3 =======================================================================================
def _shim_s3_policy_conditions() -> None:
    """Bucket policies: moto ignores condition operators it does not know (all but
    StringEquals), supplies no request context, and answers DENIED for any statement whose
    condition does not hold, even a Deny; so the raw bucket's `Deny ... Bool
    aws:SecureTransport = false` denied every object request. Here a statement applies only
    when its condition holds (Deny wins, then Allow, else neutral), `Bool` is evaluated, and
    S3 requests carry aws:SecureTransport = true: the emulator's plain HTTP on 127.0.0.1
    stands for AWS's HTTPS endpoints, which the SDKs always use."""
    from moto.iam import policy_conditions
    from moto.iam.access_control import IAMPolicyStatement, PermissionResult
    from moto.s3 import models

    def bool_operation(expected_value: list[str] | str, actual_value: str) -> bool:
        values = expected_value if isinstance(expected_value, list) else [expected_value]
        return str(actual_value).lower() in {str(v).lower() for v in values}

    policy_conditions.CONDITION_OPERATIONS.setdefault("Bool", bool_operation)
    context = {"aws:SecureTransport": "true"}

    def applies(statement: dict[str, Any], action: str, resource: str) -> bool:
        checked = IAMPolicyStatement(statement)
        if "NotAction" in statement:
            if checked._check_element_matches("NotAction", action):
                return False
        elif not checked._check_element_matches("Action", action):
            return False
        if "Resource" in statement and not checked._check_element_matches("Resource", resource):
            return False
        return bool(checked._check_conditions(context))

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        statements = json.loads(self.policy.decode())["Statement"]
        if isinstance(statements, dict):
            statements = [statements]
        effects = {s["Effect"] for s in statements if applies(s, action, resource)}
        if "Deny" in effects:
            return PermissionResult.DENIED
        return PermissionResult.PERMITTED if "Allow" in effects else PermissionResult.NEUTRAL

    models.FakeBucket.get_permission = get_permission  # type: ignore[method-assign]


# == SQS ======================================================================================
def _shim_sqs_redrive_allow_policy() -> None:
    """RedriveAllowPolicy: SetQueueAttributes accepts it but GetQueueAttributes answers
    `InvalidAttributeName`, so aws_sqs_queue_redrive_allow_policy waits for it until timeout
    (on create; on destroy it waits for the attribute set to "" to disappear)."""
    from moto.sqs import models

    queue = models.Queue
    if "RedriveAllowPolicy" not in queue.BASE_ATTRIBUTES:
        queue.BASE_ATTRIBUTES = [*queue.BASE_ATTRIBUTES, "RedriveAllowPolicy"]
    queue.redrive_allow_policy = None  # the default until SetQueueAttributes sets it
    attributes = queue.attributes.fget

    def with_redrive_allow_policy(self: Any) -> dict[str, Any]:
        result = attributes(self)
        if not result.get("RedriveAllowPolicy"):  # unset, or removed by setting ""
            result.pop("RedriveAllowPolicy", None)
        return result  # type: ignore[no-any-return]

    queue.attributes = property(with_redrive_allow_policy)


# == Budgets ==================================================================================
def _shim_budgets_subscribers() -> None:
    """DescribeSubscribersForNotification and ListTagsForResource/TagResource/UntagResource
    (not implemented: the provider reads a budget's subscribers and tags after every create
    and refresh). Tags given to CreateBudget are kept."""
    from moto.budgets.exceptions import NotFoundException
    from moto.budgets.responses import BudgetsResponse as R
    from moto.core.responses import ActionResult, EmptyResult

    def describe_subscribers_for_notification(self: Any) -> ActionResult:
        params = _body(self)
        budget = self.backend.budgets[params["AccountId"]].get(params["BudgetName"])
        if budget is None:
            raise NotFoundException(f"Unable to get budget: {params['BudgetName']}")
        for notification in budget.notifications:
            if notification.details == params["Notification"]:
                return ActionResult({"Subscribers": notification.subscribers or []})
        raise NotFoundException("Unable to find notification")

    def tags_of(self: Any) -> dict[str, dict[str, str]]:
        if not hasattr(self.backend, "kass_tags"):
            self.backend.kass_tags = {}
        return self.backend.kass_tags  # type: ignore[no-any-return]

    def budget_arn(account_id: str, name: str) -> str:
        return f"arn:aws:budgets::{account_id}:budget/{name}"

    def known(self: Any, arn: str) -> dict[str, str]:
        account_id, _, name = arn.split(":", 4)[-1].partition(":budget/")
        if name not in self.backend.budgets[account_id]:
            raise NotFoundException(f"Unable to find resource {arn}")
        return tags_of(self).setdefault(arn, {})

    original_create, original_delete = R.create_budget, R.delete_budget

    def create_budget(self: Any) -> str:
        result = original_create(self)
        params = _body(self)
        arn = budget_arn(params["AccountId"], params["Budget"]["BudgetName"])
        tags_of(self)[arn] = {t["Key"]: t["Value"] for t in params.get("ResourceTags", [])}
        return result  # type: ignore[no-any-return]

    def delete_budget(self: Any) -> str:
        result = original_delete(self)
        params = _body(self)
        tags_of(self).pop(budget_arn(params["AccountId"], params["BudgetName"]), None)
        return result  # type: ignore[no-any-return]

    def list_tags_for_resource(self: Any) -> ActionResult:
        tags = known(self, _body(self)["ResourceARN"])
        return ActionResult({"ResourceTags": [{"Key": k, "Value": v} for k, v in tags.items()]})

    def tag_resource(self: Any) -> EmptyResult:
        params = _body(self)
        tags = known(self, params["ResourceARN"])
        tags.update({t["Key"]: t["Value"] for t in params.get("ResourceTags", [])})
        return EmptyResult()

    def untag_resource(self: Any) -> EmptyResult:
        params = _body(self)
        tags = known(self, params["ResourceARN"])
        for key in params.get("ResourceTagKeys", []):
            tags.pop(key, None)
        return EmptyResult()

    for function in (
        describe_subscribers_for_notification,
        create_budget,
        delete_budget,
        list_tags_for_resource,
        tag_resource,
        untag_resource,
    ):
        setattr(R, function.__name__, function)


# == IAM ======================================================================================
def _shim_iam_managed_policies() -> None:
    """AWS managed policies (arn:aws:iam::aws:policy/...): moto loads them only when asked, so
    attaching AWSLambdaVPCAccessExecutionRole fails with NoSuchEntity. Configuration, not a
    patch (process-wide: IAM backends created afterwards hold the ~1,000 managed policies)."""
    from moto import settings

    settings.default_user_config.setdefault("iam", {})["load_aws_managed_policies"] = True


# == Lambda ===================================================================================
def _shim_lambda_invoke() -> None:
    """Invoke runs the function's deployed zip and layers in a subprocess (`run_function`);
    moto needs a Docker engine for it. A handler exception answers FunctionError `Unhandled`
    with Lambda's error JSON (moto says `Handled`)."""
    from moto.awslambda import models

    def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
        self.logs_backend.ensure_log_group(self.logs_group_name)
        result = run_function(self, event if event is not None else {})
        self.save_logs(result.logs)
        return result.payload, result.error, result.logs

    def invoke(self: Any, body: Any, request_headers: Any, response_headers: Any) -> bytes:
        event = json.loads(body) if body else {}
        payload, errored, logs = self._invoke_lambda(event=event)
        if errored:
            response_headers["x-amz-function-error"] = "Unhandled"
        if request_headers.get("x-amz-invocation-type", "RequestResponse") == "RequestResponse":
            tail = logs.encode("utf-8")[-4096:]  # Lambda returns the last 4 KB of the log
            response_headers["x-amz-log-result"] = base64.b64encode(tail).decode("ascii")
        response_headers["x-amz-executed-version"] = str(self.version)
        return payload.encode("utf-8")

    models.LambdaFunction._invoke_lambda = _invoke_lambda
    models.LambdaFunction.invoke = invoke


SHIMS: tuple[Shim, ...] = (
    Shim(
        "opensearchserverless-access-policies",
        "CreateAccessPolicy/GetAccessPolicy/UpdateAccessPolicy/DeleteAccessPolicy/"
        "ListAccessPolicies not implemented",
        _shim_aoss_access_policies,
    ),
    Shim(
        "opensearchserverless-delete-security-policy",
        "DeleteSecurityPolicy not implemented",
        _shim_aoss_security_policies,
    ),
    Shim(
        "opensearchserverless-collections",
        "CreateCollection: KeyError 'KmsARN' with AWSOwnedKey, wildcard resources ignored; "
        "BatchGetCollection by name reports false errors; UpdateCollection not implemented; "
        "collection endpoint not reachable",
        _shim_aoss_collections,
    ),
    Shim(
        "opensearchserverless-vpc-endpoints",
        "BatchGetVpcEndpoint/UpdateVpcEndpoint/DeleteVpcEndpoint/ListVpcEndpoints not "
        "implemented; no EC2 interface endpoint behind it (the provider reads one)",
        _shim_aoss_vpc_endpoints,
    ),
    Shim(
        "application-autoscaling-tags",
        "ListTagsForResource/TagResource/UntagResource not implemented (target tainted)",
        _shim_appautoscaling_tags,
    ),
    Shim(
        "cloudfront-response-headers-policies",
        "no response headers policy operations at all",
        _shim_cloudfront_response_headers_policies,
    ),
    Shim(
        "sagemaker-instance-types",
        "CreateEndpointConfig rejects ml.g5.*/ml.g6.* instance types",
        _shim_sagemaker_instance_types,
    ),
    Shim(
        "s3-bucket-policy-conditions",
        "Bool conditions ignored and no request context: a Deny on aws:SecureTransport = false "
        "denies every object request",
        _shim_s3_policy_conditions,
    ),
    Shim(
        "sqs-redrive-allow-policy",
        "GetQueueAttributes rejects RedriveAllowPolicy (the provider waits for it until timeout)",
        _shim_sqs_redrive_allow_policy,
    ),
    Shim(
        "budgets-subscribers",
        "DescribeSubscribersForNotification, ListTagsForResource/TagResource/UntagResource "
        "not implemented",
        _shim_budgets_subscribers,
    ),
    Shim(
        "iam-aws-managed-policies",
        "AWS managed policies are not loaded unless configured (AttachRolePolicy: NoSuchEntity)",
        _shim_iam_managed_policies,
    ),
    Shim(
        "lambda-invoke-subprocess",
        "Invoke needs a Docker engine",
        _shim_lambda_invoke,
    ),
)


def apply_shims() -> None:
    """Patch moto in this process (idempotent). Call before the first request is served."""
    global _applied
    with _lock:
        if _applied:
            return
        for shim in SHIMS:
            shim.apply()
        _applied = True


# == running a deployed function ===============================================================
@dataclass(frozen=True)
class InvokeResult:
    payload: str  # the handler's JSON result, or Lambda's error JSON
    error: bool
    logs: str
    mode: str  # "layers" | "host-packages"


_BOOTSTRAP = r"""
import importlib, json, sys, time, traceback, uuid
spec = json.loads(sys.argv[1])
sys.path[:0] = spec["paths"]
class Context:
    function_name = spec["function_name"]
    function_version = spec["version"]
    invoked_function_arn = spec["arn"]
    memory_limit_in_mb = spec["memory"]
    aws_request_id = spec["request_id"]
    log_group_name = spec["log_group"]
    log_stream_name = spec["log_stream"]
    identity = client_context = None
    _deadline = None
    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.monotonic()) * 1000))
def fail(kind, message, trace):
    with open(spec["result_file"], "w", encoding="utf-8") as out:
        json.dump({"errorMessage": message, "errorType": kind,
                   "requestId": spec["request_id"], "stackTrace": trace}, out)
    sys.exit(1)
module_name, _, function_name = spec["handler"].rpartition(".")
try:
    handler = getattr(importlib.import_module(module_name), function_name)
except Exception as error:
    fail("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}",
         traceback.format_exception(error)[1:])
context = Context()
context._deadline = time.monotonic() + spec["timeout"]
event = json.load(sys.stdin)
try:
    result = handler(event, context)
except Exception as error:
    fail(type(error).__name__, str(error), traceback.format_exception(error)[1:])
with open(spec["result_file"], "w", encoding="utf-8") as out:
    json.dump(result, out)
"""


def _unpack(data: bytes, destination: Path) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        archive.extractall(destination)


def _code_dir(key: str, fill: Callable[[Path], None]) -> Path:
    """A cache directory per content (unpacked once, reused by every invoke)."""
    directory = CONFIG.work_dir / "code" / key
    if not directory.exists():
        partial = directory.with_name(f"{key}.{uuid.uuid4().hex}.tmp")
        partial.mkdir(parents=True)
        fill(partial)
        try:
            partial.rename(directory)
        except OSError:  # another invoke unpacked it first
            shutil.rmtree(partial, ignore_errors=True)
    return directory


_ELF_MACHINES = {"x86_64": 0x3E, "aarch64": 0xB7, "arm64": 0xB7}


def incompatible_binaries(tree: Path, limit: int = 5) -> list[str]:
    """Extension modules and shared libraries under `tree` this interpreter cannot load: an
    ELF built for another machine, or a CPython extension tagged for another version."""
    import platform

    machine = _ELF_MACHINES.get(platform.machine())
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    bad: list[str] = []
    for path in tree.rglob("*.so*"):
        name = path.name
        if ".cpython-" in name and not name.endswith(suffixes):
            bad.append(str(path.relative_to(tree)))
        else:
            with path.open("rb") as f:
                header = f.read(20)
            elf = header[:4] == b"\x7fELF" and machine is not None
            if elf and int.from_bytes(header[18:20], "little") != machine:
                bad.append(str(path.relative_to(tree)))
        if len(bad) >= limit:
            break
    return bad


def _host_site_packages() -> list[str]:
    paths = sysconfig.get_paths()
    return list(dict.fromkeys([paths["purelib"], paths["platlib"]]))


def _runtime_dir() -> Path:
    """Only what the Lambda Python runtime provides beyond the standard library (boto3 & co.),
    linked from this interpreter's site-packages."""

    def fill(directory: Path) -> None:
        for site in _host_site_packages():
            for name in RUNTIME_PACKAGES:
                for candidate in (Path(site) / name, Path(site) / f"{name}.py"):
                    target = directory / candidate.name
                    if candidate.exists() and not target.exists():
                        target.symlink_to(candidate)

    key = hashlib.sha256(json.dumps(_host_site_packages()).encode()).hexdigest()[:16]
    return _code_dir(f"runtime-{key}", fill)


def _first_party(python_dir: Path) -> Path:
    """The layer entries no pip distribution owns (no *.dist-info RECORD lists them): the
    project's own packages, staged by `make build` (kass)."""
    owned: set[str] = set()
    for record in python_dir.glob("*.dist-info/RECORD"):
        for line in record.read_text(encoding="utf-8").splitlines():
            top = PurePosixPath(line.split(",", 1)[0]).parts
            if top:
                owned.add(top[0])
    directory = python_dir.parent / "first-party"
    if not directory.exists():
        directory.mkdir()
        for entry in python_dir.iterdir():
            if (
                entry.name in owned
                or entry.name == "__pycache__"
                or entry.name.endswith((".dist-info", ".libs", ".data"))
            ):
                continue
            (directory / entry.name).symlink_to(entry)
    return directory


def runtime_paths(task: Path, opt: Path | None) -> tuple[list[str], str]:
    """sys.path of an invocation, and its mode:
    - `layers`: every binary in the layers loads here: [task, /opt/python, runtime packages]
      — the deployed code and dependencies, exactly;
    - `host-packages`: the layers were built for another Lambda target (arm64, 3.12): the
      function's code and the layers' first-party packages (kass) as deployed, then this
      interpreter's site-packages for third-party dependencies in place of the layers' ones."""
    python = opt / "python" if opt is not None else None
    if python is None or not python.is_dir():
        return [str(task), str(_runtime_dir())], "layers"
    if not incompatible_binaries(python, limit=1):
        return [str(task), str(python), str(_runtime_dir())], "layers"
    return [str(task), str(_first_party(python)), *_host_site_packages()], "host-packages"


def _layer_bytes(function: Any) -> list[tuple[str, bytes]]:
    from moto.awslambda.models import lambda_backends

    backend = lambda_backends[function.account_id][function.region]
    layers = []
    for layer in function.layers:
        version = backend.layers_versions_by_arn(layer["Arn"])
        layers.append((layer["Arn"], version.code_bytes))
    return layers


def function_environment(function: Any) -> dict[str, str]:
    """What the handler's process sees: Lambda's reserved variables, the function's own
    (as stored by CreateFunction/UpdateFunctionConfiguration) and the emulator endpoints."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "HOME": str(CONFIG.work_dir),
        "AWS_REGION": function.region,
        "AWS_DEFAULT_REGION": function.region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.run_time}",
        "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
        "AWS_LAMBDA_FUNCTION_VERSION": str(function.version),
        "AWS_LAMBDA_LOG_GROUP_NAME": function.logs_group_name,
        "AWS_ACCESS_KEY_ID": "emulator",
        "AWS_SECRET_ACCESS_KEY": "emulator",
        "AWS_SESSION_TOKEN": "emulator",
        "_HANDLER": function.handler or "",
        "PYTHONDONTWRITEBYTECODE": "1",  # keep the unpacked code as deployed
    }
    env.update({k: str(v) for k, v in (function.environment_vars or {}).items()})
    env["AWS_ENDPOINT_URL"] = CONFIG.moto_url
    if CONFIG.bedrock_url:
        # The function's own setting wins (tf-emulate passes the double's URL through
        # Terraform, as a deployment would pass a private endpoint name).
        env.setdefault("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", CONFIG.bedrock_url)
    env.update(CONFIG.extra_env)
    return env


def run_function(function: Any, event: Any) -> InvokeResult:
    """Run a moto LambdaFunction's deployed handler on `event` in a subprocess."""
    if function.package_type != "Zip" or not function.code_bytes:
        message = "The emulator runs zip functions only (no image or empty code)"
        return InvokeResult(_error_json("Runtime.InvalidEntrypoint", message), True, message, "-")
    task = _code_dir(
        f"task-{hashlib.sha256(function.code_bytes).hexdigest()[:24]}",
        lambda d: _unpack(function.code_bytes, d),
    )
    layers = _layer_bytes(function)
    opt = None
    if layers:
        # By content, not ARN: a fresh emulator reuses version ARNs (…:layer:kass-dev-core:1)
        # for new bytes, and the work directory may outlive it (tf-emulate keeps one).
        digests = "".join(hashlib.sha256(data).hexdigest() for _, data in layers)
        key = hashlib.sha256(digests.encode()).hexdigest()[:24]

        def fill(directory: Path) -> None:
            for _, data in layers:  # later layers overwrite earlier ones, as in /opt
                _unpack(data, directory)

        opt = _code_dir(f"opt-{key}", fill)
    paths, mode = runtime_paths(task, opt)
    request_id = str(uuid.uuid4())
    timeout = float(function.timeout)
    with tempfile.TemporaryDirectory(dir=CONFIG.work_dir) as scratch:
        result_file = Path(scratch) / "result.json"
        spec = {
            "paths": paths,
            "handler": function.handler or "handler.lambda_handler",
            "function_name": function.function_name,
            "version": str(function.version),
            "arn": function.function_arn,
            "memory": int(function.memory_size),
            "request_id": request_id,
            "log_group": function.logs_group_name,
            "log_stream": f"emulator/{request_id}",
            "timeout": timeout,
            "result_file": str(result_file),
        }
        started = time.monotonic()
        try:
            done = subprocess.run(
                [CONFIG.python, "-S", "-c", _BOOTSTRAP, json.dumps(spec)],
                input=json.dumps(event),
                capture_output=True,
                text=True,
                cwd=task,
                env=function_environment(function),
                timeout=timeout + INIT_ALLOWANCE_SECONDS,
            )
        except subprocess.TimeoutExpired as expired:
            logs = _text(expired.stdout) + _text(expired.stderr)
            message = f"Task timed out after {timeout:.2f} seconds"
            return InvokeResult(_error_json("Sandbox.Timedout", message), True, logs, mode)
        elapsed = (time.monotonic() - started) * 1000
        logs = (
            f"START RequestId: {request_id} Version: {function.version} (emulator, {mode})\n"
            + done.stdout
            + done.stderr
            + f"END RequestId: {request_id}\nREPORT RequestId: {request_id}\t"
            f"Duration: {elapsed:.2f} ms\n"
        )
        if result_file.exists():
            payload = result_file.read_text(encoding="utf-8")
            return InvokeResult(payload, done.returncode != 0, logs, mode)
        message = (
            f"RequestId: {request_id} Error: Runtime exited with error: "
            f"exit status {done.returncode}"
        )
        return InvokeResult(_error_json("Runtime.ExitError", message), True, logs, mode)


def _text(value: str | bytes | None) -> str:
    if value is None:
        return ""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _error_json(kind: str, message: str) -> str:
    return json.dumps({"errorMessage": message, "errorType": kind})


# == the launcher ==============================================================================
class Emulator:
    """moto (with the shims) + the OpenSearch and Bedrock runtime doubles, on 127.0.0.1."""

    def __init__(
        self,
        port: int = DEFAULT_PORT,
        *,
        opensearch_port: int = 0,
        bedrock_port: int = 0,
        work_dir: Path | None = None,
        verbose: bool = False,
    ) -> None:
        self.verbose = verbose
        self.port, self.opensearch_port, self.bedrock_port = port, opensearch_port, bedrock_port
        self._own_work_dir = work_dir is None
        self.work_dir = work_dir or Path(tempfile.mkdtemp(prefix="kass-emulator-"))
        self._moto: Any = None
        self._opensearch: Any = None
        self._bedrock: Any = None
        self.urls: dict[str, str] = {}

    def start(self) -> Emulator:
        from moto.server import ThreadedMotoServer
        from tests.doubles.bedrock_runtime import start_bedrock_double
        from tests.doubles.opensearch import OpenSearchDouble

        apply_shims()
        # werkzeug logs every request at INFO; --verbose keeps them (which call failed, and how)
        logging.getLogger("werkzeug").setLevel(logging.INFO if self.verbose else logging.WARNING)
        self._opensearch = OpenSearchDouble(port=self.opensearch_port).start()
        self._bedrock, bedrock_url = start_bedrock_double(self.bedrock_port, HOST)
        self._moto = ThreadedMotoServer(ip_address=HOST, port=self.port, verbose=False)
        self._moto.start()
        host, port = self._moto.get_host_and_port()
        self.urls = {
            "moto": f"http://{host}:{port}",
            "opensearch": f"http://{HOST}:{self._opensearch.port}",
            "bedrock_runtime": bedrock_url,
        }
        self.work_dir.mkdir(parents=True, exist_ok=True)
        CONFIG.moto_url = self.urls["moto"]
        CONFIG.opensearch_url = self.urls["opensearch"]
        CONFIG.bedrock_url = self.urls["bedrock_runtime"]
        CONFIG.work_dir = self.work_dir
        return self

    def stop(self) -> None:
        for server in (self._moto, self._bedrock, self._opensearch):
            if server is not None:
                server.stop()
        self._moto = self._bedrock = self._opensearch = None
        if self._own_work_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def opensearch(self) -> Any:
        return self._opensearch

    @property
    def bedrock(self) -> Any:
        return self._bedrock

    def state(self) -> dict[str, Any]:
        """The state file's content: URLs, the client environment, the shims, this process."""
        return {
            "pid": os.getpid(),
            "moto_url": self.urls["moto"],
            "opensearch_url": self.urls["opensearch"],
            "bedrock_runtime_url": self.urls["bedrock_runtime"],
            "environment": {
                "AWS_ENDPOINT_URL": self.urls["moto"],
                "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": self.urls["bedrock_runtime"],
                "AWS_ACCESS_KEY_ID": "emulator",
                "AWS_SECRET_ACCESS_KEY": "emulator",
            },
            "shims": {shim.name: shim.gap for shim in SHIMS},
            "work_dir": str(self.work_dir),
        }


def write_state(path: Path, state: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".tmp")
    partial.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    partial.replace(path)  # readers never see half a file


@dataclass
class _Stop:
    event: threading.Event = field(default_factory=threading.Event)

    def __call__(self, signum: int, frame: Any) -> None:
        self.event.set()


def serve(
    port: int,
    state_file: Path,
    work_dir: Path | None = None,
    verbose: bool = False,
    exit_with_parent: bool = False,
) -> int:
    stop = _Stop()
    parent = os.getppid()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    emulator = Emulator(port, work_dir=work_dir, verbose=verbose).start()
    try:
        write_state(state_file, emulator.state())
        print(
            f"emulator: moto {emulator.urls['moto']} | opensearch {emulator.urls['opensearch']}"
            f" | bedrock-runtime {emulator.urls['bedrock_runtime']} | state {state_file}",
            flush=True,
        )
        while not stop.event.wait(0.5):
            # A parent killed without cleanup (SIGKILL) must not leave the emulator behind.
            if exit_with_parent and os.getppid() != parent:
                print("emulator: parent process gone, stopping", flush=True)
                break
    finally:
        state_file.unlink(missing_ok=True)
        emulator.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="serve until SIGTERM/SIGINT")
    run.add_argument("--port", type=int, default=DEFAULT_PORT, help="moto's port (0: any free)")
    run.add_argument("--state-file", type=Path, default=DEFAULT_STATE_FILE)
    run.add_argument("--work-dir", type=Path, help="unpacked function code (default: a temp dir)")
    run.add_argument("--verbose", action="store_true", help="log every request")
    run.add_argument(
        "--exit-with-parent", action="store_true", help="stop when the parent process exits"
    )
    commands.add_parser("shims", help="list the shims and the moto gaps they close")
    args = parser.parse_args(argv)
    if args.command == "shims":
        for shim in SHIMS:
            print(f"{shim.name}: {shim.gap}")
        return 0
    return serve(args.port, args.state_file, args.work_dir, args.verbose, args.exit_with_parent)


if __name__ == "__main__":
    sys.exit(main())
