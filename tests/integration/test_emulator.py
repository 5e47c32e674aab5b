"""scripts/emulator.py, the launcher of `make tf-emulate`: each shim through a real boto3 client,
and Lambda invoke running a deployed zip (+ layer) in a subprocess, without Docker."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import emulator  # noqa: E402

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
ROLE = f"arn:aws:iam::{ACCOUNT}:role/kass-test-fn"


@pytest.fixture(scope="module")
def emu(tmp_path_factory) -> Iterator[emulator.Emulator]:
    with emulator.Emulator(port=0, work_dir=tmp_path_factory.mktemp("emulator")) as running:
        yield running


def client(emu: emulator.Emulator, service: str):
    return boto3.client(
        service,
        endpoint_url=emu.urls["moto"],
        region_name=REGION,
        aws_access_key_id="emulator",
        aws_secret_access_key="emulator",
    )


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


# -- OpenSearch Serverless --------------------------------------------------------------------
def test_given_a_data_access_policy_when_created_read_updated_and_deleted_then_like_aoss(emu):
    aoss = client(emu, "opensearchserverless")
    document = [
        {
            "Rules": [
                {
                    "ResourceType": "index",
                    "Resource": ["index/kass-t1/*"],
                    "Permission": ["aoss:ReadDocument", "aoss:WriteDocument"],
                }
            ],
            "Principal": [ROLE],
        }
    ]

    created = aoss.create_access_policy(
        name="kass-t1-data", type="data", policy=json.dumps(document)
    )
    read = aoss.get_access_policy(name="kass-t1-data", type="data")
    listed = aoss.list_access_policies(type="data", resource=["index/kass-t1/*"])
    updated = aoss.update_access_policy(
        name="kass-t1-data",
        type="data",
        policyVersion=created["accessPolicyDetail"]["policyVersion"],
        description="scoped to the function roles",
    )
    aoss.delete_access_policy(name="kass-t1-data", type="data")

    assert read["accessPolicyDetail"]["policy"] == document
    assert (
        read["accessPolicyDetail"]["policyVersion"]
        == created["accessPolicyDetail"]["policyVersion"]
    )
    assert [p["name"] for p in listed["accessPolicySummaries"]] == ["kass-t1-data"]
    assert updated["accessPolicyDetail"]["description"] == "scoped to the function roles"
    with pytest.raises(aoss.exceptions.ResourceNotFoundException):
        aoss.get_access_policy(name="kass-t1-data", type="data")


def test_given_an_aws_owned_key_policy_when_a_collection_is_created_then_it_reads_auto(emu):
    aoss = client(emu, "opensearchserverless")
    aoss.create_security_policy(
        name="kass-t2-enc",
        type="encryption",
        policy=json.dumps(
            {
                "Rules": [{"ResourceType": "collection", "Resource": ["collection/kass-t2-*"]}],
                "AWSOwnedKey": True,
            }
        ),
    )
    aoss.create_security_policy(
        name="kass-t2-net",
        type="network",
        policy=json.dumps(
            [
                {
                    "Rules": [
                        {"ResourceType": "collection", "Resource": ["collection/kass-t2-chunks"]}
                    ],
                    "AllowFromPublic": True,
                }
            ]
        ),
    )

    created = aoss.create_collection(name="kass-t2-chunks", type="VECTORSEARCH")
    found = aoss.batch_get_collection(names=["kass-t2-chunks"])
    aoss.delete_security_policy(name="kass-t2-net", type="network")

    assert created["createCollectionDetail"]["kmsKeyArn"] == "auto"
    assert found["collectionErrorDetails"] == []
    # The deployed functions reach the OpenSearch double through the collection endpoint.
    assert found["collectionDetails"][0]["collectionEndpoint"] == emu.urls["opensearch"]
    with pytest.raises(aoss.exceptions.ResourceNotFoundException):
        aoss.get_security_policy(name="kass-t2-net", type="network")


# -- Application Auto Scaling ------------------------------------------------------------------
def test_given_a_scalable_target_with_tags_when_tagged_and_untagged_then_listed(emu):
    scaling = client(emu, "application-autoscaling")
    arn = scaling.register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId="endpoint/kass-t3/variant/AllTraffic",
        ScalableDimension="sagemaker:variant:DesiredInstanceCount",
        MinCapacity=0,
        MaxCapacity=1,
        Tags={"environment": "dev"},
    )["ScalableTargetARN"]

    scaling.tag_resource(ResourceARN=arn, Tags={"owner": "platform"})
    scaling.untag_resource(ResourceARN=arn, TagKeys=["environment"])

    assert scaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"owner": "platform"}


# -- S3 bucket policies -------------------------------------------------------------------------
def test_given_deny_on_insecure_transport_when_objects_put_then_only_unconditional_deny_refuses(
    emu,
):
    s3 = client(emu, "s3")
    s3.create_bucket(Bucket="kass-t1-raw")

    def deny(condition: dict | None) -> str:
        statement = {
            "Sid": "Deny",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::kass-t1-raw", "arn:aws:s3:::kass-t1-raw/*"],
        }
        if condition:
            statement["Condition"] = condition
        return json.dumps({"Version": "2012-10-17", "Statement": [statement]})

    s3.put_bucket_policy(
        Bucket="kass-t1-raw", Policy=deny({"Bool": {"aws:SecureTransport": "false"}})
    )
    s3.put_object(Bucket="kass-t1-raw", Key="raw/a.json", Body=b"{}")
    s3.put_bucket_policy(Bucket="kass-t1-raw", Policy=deny(None))
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket="kass-t1-raw", Key="raw/b.json", Body=b"{}")

    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


# -- CloudFront --------------------------------------------------------------------------------
def test_given_a_response_headers_policy_when_round_tripped_then_etags_guard_changes(emu):
    cloudfront = client(emu, "cloudfront")
    config = {
        "Name": "kass-t4-security",
        "Comment": "security headers",
        "SecurityHeadersConfig": {
            "FrameOptions": {"Override": True, "FrameOption": "DENY"},
            "StrictTransportSecurity": {
                "Override": True,
                "AccessControlMaxAgeSec": 31536000,
                "IncludeSubdomains": True,
            },
        },
    }

    created = cloudfront.create_response_headers_policy(ResponseHeadersPolicyConfig=config)
    policy_id = created["ResponseHeadersPolicy"]["Id"]
    read = cloudfront.get_response_headers_policy(Id=policy_id)
    updated = cloudfront.update_response_headers_policy(
        Id=policy_id, IfMatch=read["ETag"], ResponseHeadersPolicyConfig={**config, "Comment": "v2"}
    )
    with pytest.raises(ClientError) as stale:
        cloudfront.delete_response_headers_policy(Id=policy_id, IfMatch=read["ETag"])
    cloudfront.delete_response_headers_policy(Id=policy_id, IfMatch=updated["ETag"])

    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201 and created["ETag"]
    assert read["ResponseHeadersPolicy"]["ResponseHeadersPolicyConfig"] == config
    assert updated["ResponseHeadersPolicy"]["ResponseHeadersPolicyConfig"]["Comment"] == "v2"
    assert stale.value.response["Error"]["Code"] == "PreconditionFailed"
    with pytest.raises(ClientError) as gone:
        cloudfront.get_response_headers_policy(Id=policy_id)
    assert gone.value.response["Error"]["Code"] == "NoSuchResponseHeadersPolicy"


# -- Lambda invoke -----------------------------------------------------------------------------
HANDLER = """
import os
import greeting  # from the layer


def lambda_handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {
        "echo": event,
        "table": os.environ["KASS_AWS_CACHE_TABLE"],
        "endpoint": os.environ["AWS_ENDPOINT_URL"],
        "greeting": greeting.WORD,
        "function": context.function_name,
    }
"""


@pytest.fixture(scope="module")
def function(emu) -> str:
    lam = client(emu, "lambda")
    client(emu, "iam").create_role(
        RoleName="kass-test-fn",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    layer = lam.publish_layer_version(
        LayerName="kass-test-core",
        Content={"ZipFile": zipped({"python/greeting.py": "WORD = 'hello from the layer'\n"})},
        CompatibleRuntimes=["python3.12"],
    )["LayerVersionArn"]
    lam.create_function(
        FunctionName="kass-test-echo",
        Runtime="python3.12",
        Role=ROLE,
        Handler="handler.lambda_handler",
        Code={"ZipFile": zipped({"handler.py": HANDLER})},
        Layers=[layer],
        Environment={"Variables": {"KASS_AWS_CACHE_TABLE": "kass-test-cache"}},
        Timeout=10,
    )
    return "kass-test-echo"


def test_given_a_deployed_zip_and_layer_when_invoked_then_the_payload_is_the_handlers_result(
    emu, function
):
    response = client(emu, "lambda").invoke(
        FunctionName=function, Payload=json.dumps({"question": "why?"}).encode()
    )

    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == {
        "echo": {"question": "why?"},
        "table": "kass-test-cache",
        "endpoint": emu.urls["moto"],
        "greeting": "hello from the layer",
        "function": function,
    }


def test_given_a_handler_that_raises_when_invoked_then_unhandled_function_error(emu, function):
    response = client(emu, "lambda").invoke(
        FunctionName=function, Payload=json.dumps({"fail": True}).encode(), LogType="Tail"
    )

    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "ValueError" and error["errorMessage"] == "asked to fail"
    assert any("lambda_handler" in line for line in error["stackTrace"])


def test_given_layers_built_for_another_target_when_resolving_paths_then_host_packages(tmp_path):
    python = tmp_path / "opt" / "python"
    (python / "kass").mkdir(parents=True)
    (python / "kass" / "__init__.py").write_text("")
    (python / "numpy").mkdir()
    (python / "numpy" / "_core.cpython-312-aarch64-linux-gnu.so").write_bytes(b"\x7fELF")
    (python / "numpy-2.0.dist-info").mkdir()
    (python / "numpy-2.0.dist-info" / "RECORD").write_text("numpy/__init__.py,,\n")
    task = tmp_path / "task"
    task.mkdir()

    paths, mode = emulator.runtime_paths(task, tmp_path / "opt")

    assert mode == "host-packages"
    first_party = Path(paths[1])
    assert paths[0] == str(task) and sorted(p.name for p in first_party.iterdir()) == ["kass"]
    assert paths[2:] == emulator._host_site_packages()


# -- the CLI -----------------------------------------------------------------------------------
def test_given_serve_when_started_then_state_file_names_the_urls_and_sigterm_removes_it(tmp_path):
    state = tmp_path / "emulator.json"
    process = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "scripts" / "emulator.py"),
            "serve",
            "--port",
            "0",
            "--state-file",
            str(state),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 30
        while not state.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
        urls = json.loads(state.read_text())
        buckets = boto3.client(
            "s3",
            endpoint_url=urls["moto_url"],
            region_name=REGION,
            aws_access_key_id="emulator",
            aws_secret_access_key="emulator",
        ).list_buckets()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)

    assert buckets["Buckets"] == []
    assert set(urls) >= {
        "moto_url",
        "opensearch_url",
        "bedrock_runtime_url",
        "environment",
        "shims",
    }
    assert process.returncode == 0 and not state.exists()
