"""`make tf-emulate`: apply terraform/envs/dev against the AWS emulator, invoke the deployed
functions, destroy, and report the wall time of each phase.

    .venv/bin/python scripts/tf_emulate.py [--opensearch-engine serverless|domain]
        [--no-sagemaker] [--chat-tier extractive|haiku] [--keep-scratch]

1. Start `scripts/emulator.py serve` (moto + shims + the OpenSearch/Bedrock doubles) in the
   background on 127.0.0.1 and wait for its state file.
2. Write a scratch copy of envs/dev under build/tf-emulate/ at the same depth as the real one
   (`terraform/envs/dev`, with `terraform/modules`, `monitoring` and `web` symlinked beside it),
   so the module sources stay relative and `../../../monitoring` and `../../../web` resolve. Add
   an override file (every service endpoint -> moto, dummy credentials, local backend) and
   emulator variables (moto's account id, the serverless engine, the SageMaker tier, ...).
3. `terraform init` offline (TF_CLI_CONFIG_FILE=build/terraform.rc) and `apply`.
4. Check the outputs against moto; put a raw document in the bucket and invoke
   document_processor with the SQS-wrapped EventBridge event, then the orchestrator (POST /chat),
   vector_search (POST /search) and data_fetcher (unknown connector) with boto3 `Invoke`; then
   discord_handler with a Discord PING signed by a key pair made here (its public half is the
   `discord_public_key` variable), expecting the PONG, and the same request tampered, 401;
   stream_handler as the WebSocket API's `$connect` authorizer (the page's key as `?api_key=`),
   then `$connect` (a row in the connections table) and `$disconnect` (the row gone). Reads the
   page's config.json back from the web bucket: the deployed API and WebSocket URLs and key.
5. `terraform destroy`, check that moto holds no kass-dev- resource, stop the emulator.

Any failure exits 1 with a one-line reason (terraform's output is in build/tf-emulate/*.log);
the emulator is stopped on every path, including Ctrl-C and SIGTERM.
"""

from __future__ import annotations

import argparse
import base64
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ENV = "dev"
PREFIX = f"kass-{ENV}-"
MOTO_ACCOUNT = "123456789012"  # what moto's STS answers; the env's allowed_account_ids guard
WORK = ROOT / "build" / "tf-emulate"
EVENTS = ROOT / "tests" / "events"
STATE_FILE_TIMEOUT = 60.0
MAX_ATTEMPTS = 3  # the provider's max_retries (see `override`)

# Every AWS service the modules call (the provider's endpoint names).
SERVICES = (
    "apigateway",
    "apigatewayv2",
    "applicationautoscaling",
    "budgets",
    "cloudfront",
    "cloudwatch",
    "dynamodb",
    "ec2",
    "events",
    "iam",
    "kms",
    "lambda",
    "logs",
    "opensearch",
    "opensearchserverless",
    "s3",
    "sagemaker",
    "scheduler",
    "secretsmanager",
    "sns",
    "sqs",
    "sts",
    "wafv2",
)

# The document the run ingests and then asks about.
DOC_ID = "tf-emulate-login-bug"
DOC_SOURCE = "backlog"
QUESTION = "Why did login fail after the 2.3 release?"


class Failure(Exception):
    """A one-line reason for exiting non-zero."""


class Interrupted(BaseException):  # not caught as a failure: stops everything, exit 130
    pass


# -- the emulator ------------------------------------------------------------------------------
@contextmanager
def emulator(port: int, log: Path) -> Iterator[dict[str, Any]]:
    """The launcher in the background until the block ends (however it ends)."""
    state_file = WORK / "emulator.json"
    state_file.unlink(missing_ok=True)
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "scripts" / "emulator.py"),
                "serve",
                "--port",
                str(port),
                "--state-file",
                str(state_file),
                "--work-dir",
                str(WORK / "lambda"),
                "--exit-with-parent",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,  # Ctrl-C reaches this script, which stops it in order
        )
    try:
        deadline = time.monotonic() + STATE_FILE_TIMEOUT
        while not state_file.exists():
            if process.poll() is not None:
                raise Failure(f"emulator exited with {process.returncode} (see {rel(log)})")
            if time.monotonic() > deadline:
                raise Failure(f"emulator wrote no state file in {STATE_FILE_TIMEOUT:.0f} s")
            time.sleep(0.2)
        yield json.loads(state_file.read_text(encoding="utf-8"))
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# -- the scratch root --------------------------------------------------------------------------
def scratch_root(state: dict[str, Any], args: argparse.Namespace) -> Path:
    """build/tf-emulate/root/terraform/envs/dev: envs/dev's files, the override, the variables."""
    base = WORK / "root"
    (base / "terraform" / "envs").mkdir(parents=True, exist_ok=True)
    for link, target in (
        (base / "terraform" / "modules", ROOT / "terraform" / "modules"),
        (base / "monitoring", ROOT / "monitoring"),
        (base / "web", ROOT / "web"),
    ):
        if not link.is_symlink():
            link.unlink(missing_ok=True)
            link.symlink_to(target, target_is_directory=True)
    root = base / "terraform" / "envs" / ENV  # the env validates its directory's name
    root.mkdir(exist_ok=True)
    for old in root.glob("*.tf*"):  # keep .terraform/ and the lock file: a faster init
        if old.name != ".terraform.lock.hcl" and old.is_file():
            old.unlink()
    source = ROOT / "terraform" / "envs" / ENV
    for path in sorted(source.glob("*.tf")) + [source / "terraform.tfvars"]:
        shutil.copy2(path, root / path.name)
    lock = source / ".terraform.lock.hcl"
    if lock.exists():
        shutil.copy2(lock, root / lock.name)
    (root / "emulator_override.tf").write_text(override(state["moto_url"]), encoding="utf-8")
    (root / "emulator.auto.tfvars.json").write_text(
        json.dumps(variables(state, args), indent=2) + "\n", encoding="utf-8"
    )
    return root


def override(moto_url: str) -> str:
    endpoints = "\n".join(f'    {s} = "{moto_url}"' for s in SERVICES)
    return f"""# Written by scripts/tf_emulate.py: envs/{ENV} against the emulator at {moto_url}.
terraform {{
  backend "local" {{
    path = "terraform.tfstate"
  }}
}}

provider "aws" {{
  access_key                  = "emulator"
  secret_key                  = "emulator"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  # The account guard (allowed_account_ids) needs the account id: moto's STS answers it.
  skip_requesting_account_id = false
  s3_use_path_style          = true
  # The provider passes this as the SDK's maximum attempts: 1 would mean no retry at all, and
  # about one apply in two on this busy 2-core machine lost a request to a dropped keep-alive
  # connection ("use of closed network connection"). 3 attempts absorb that and keep calls the
  # emulator does not implement failing within seconds (25 by default: minutes of backoff).
  max_retries = {MAX_ATTEMPTS}

  endpoints {{
{endpoints}
  }}
}}
"""


def build_target() -> tuple[str, str]:
    """(lambda_runtime, lambda_architecture) that `make build` wrote dist/ for."""
    sizes = ROOT / "dist" / "sizes.json"
    if not sizes.exists():
        raise Failure("dist/sizes.json missing: run `make build` first")
    target = json.loads(sizes.read_text(encoding="utf-8"))["target"]
    return f"python{target['python_version']}", target["architecture"]


def variables(state: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    runtime, architecture = build_target()
    services = ["bedrock-runtime"]
    if args.opensearch_engine == "serverless":
        services.append("aoss")
    if args.sagemaker:
        services.append("sagemaker.runtime")
    values: dict[str, Any] = {
        "account_id": MOTO_ACCOUNT,
        "dist_dir": str(ROOT / "dist"),
        "lambda_runtime": runtime,
        "lambda_architecture": architecture,
        "opensearch_engine": args.opensearch_engine,
        "vpc_enabled": True,
        "vpc_interface_endpoint_services": services,
        "sagemaker_enabled": args.sagemaker,
        "chat_tier": args.chat_tier,
        "deletion_protection": False,
        "force_destroy": True,
        "discord_public_key": discord_key().verify_key.encode().hex(),
        # The same setting a deployment would use to reach Bedrock through a private endpoint
        # name; the OpenSearch endpoint comes from the collection, as in AWS.
        "function_environment_overrides": {
            "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": state["bedrock_runtime_url"],
        },
    }
    if args.sagemaker:
        values["sagemaker_image_uri"] = (
            "763104351884.dkr.ecr.ap-northeast-1.amazonaws.com/"
            "huggingface-pytorch-tgi-inference:2.4.0-tgi2.4.0-gpu-py311-cu124-ubuntu22.04"
        )
    return values


# -- terraform ---------------------------------------------------------------------------------
def terraform(root: Path, log: Path, *command: str) -> str:
    env = {
        **os.environ,
        "TF_CLI_CONFIG_FILE": str(ROOT / "build" / "terraform.rc"),
        "CHECKPOINT_DISABLE": "1",
        "TF_IN_AUTOMATION": "1",
        # No developer credentials or profile reach the provider.
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }
    env.pop("AWS_PROFILE", None)
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(
            ["terraform", *command, "-no-color"], cwd=root, env=env, stdout=out, stderr=out
        )
        try:
            returncode = process.wait()
        except BaseException:  # interrupted: terraform stops its provider plugin on SIGTERM
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            raise
    text = log.read_text(encoding="utf-8")
    if returncode != 0:
        errors = [line for line in text.splitlines() if line.startswith("Error:")]
        first = errors[0] if errors else f"exit status {returncode}"
        raise Failure(f"terraform {command[0]}: {first} (see {rel(log)})")
    return text


def outputs(root: Path) -> dict[str, Any]:
    text = terraform(root, WORK / "output.log", "output", "-json")
    return {name: value["value"] for name, value in json.loads(text).items()}


# -- AWS (moto) --------------------------------------------------------------------------------
def clients(state: dict[str, Any], region: str) -> Callable[[str], Any]:
    import boto3

    session = boto3.Session(
        aws_access_key_id="emulator", aws_secret_access_key="emulator", region_name=region
    )

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=state["moto_url"])

    return client


def check_outputs(out: dict[str, Any], client: Callable[[str], Any]) -> list[str]:
    """The outputs name kass-dev- resources that exist in moto."""
    names = [out["raw_bucket_name"], *out["table_names"].values(), *out["function_names"].values()]
    bad = [n for n in names if not n.startswith(PREFIX)]
    if bad:
        raise Failure(f"outputs not prefixed {PREFIX}: {bad}")
    if not str(out["api_url"]).startswith("https://"):
        raise Failure(f"api_url is not an https URL: {out['api_url']!r}")
    if not str(out["websocket_url"]).startswith("wss://"):
        raise Failure(f"websocket_url is not a wss URL: {out['websocket_url']!r}")
    client("s3").head_bucket(Bucket=out["raw_bucket_name"])
    for table in out["table_names"].values():
        client("dynamodb").describe_table(TableName=table)
    for function in out["function_names"].values():
        client("lambda").get_function(FunctionName=function)
    return names


MODES: set[str] = set()  # which packages the invoked functions imported (emulator's START line)


def invoke(client: Callable[[str], Any], function: str, event: Any) -> tuple[Any, str | None]:
    """(payload, FunctionError) of a RequestResponse invoke."""
    response = client("lambda").invoke(
        FunctionName=function, Payload=json.dumps(event).encode(), LogType="Tail"
    )
    payload = json.loads(response["Payload"].read() or b"null")
    tail = base64.b64decode(response.get("LogResult", "")).decode("utf-8", "replace")
    MODES.update(m for m in ("host-packages", "layers") if f"(emulator, {m})" in tail)
    if response.get("FunctionError"):
        (WORK / f"invoke-{function}.log").write_text(tail, encoding="utf-8")
    return payload, response.get("FunctionError")


def expect(condition: bool, reason: str) -> None:
    if not condition:
        raise Failure(reason)


def event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def rest_event(method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    request = event("apigw_rest_post_chat.json")
    request["httpMethod"] = request["requestContext"]["httpMethod"] = method
    request["path"] = request["resource"] = request["requestContext"]["resourcePath"] = path
    request["requestContext"]["requestId"] = str(uuid.uuid4())
    request["body"] = json.dumps(body)
    return request


@functools.cache
def discord_key() -> Any:
    """The Discord application's signing key for this run (Discord holds it in reality)."""
    from nacl.signing import SigningKey

    return SigningKey.generate()


def discord_event(interaction: dict[str, Any], *, tampered: bool = False) -> dict[str, Any]:
    """POST /discord as API Gateway passes it on: Discord's signature headers, no API key."""
    request = rest_event("POST", "/discord", interaction)
    stamp = str(int(time.time()))
    signed = discord_key().sign(stamp.encode() + request["body"].encode())
    if tampered:
        request["body"] = request["body"].replace('"type": 1', '"type": 2')
    signature = {"X-Signature-Ed25519": signed.signature.hex(), "X-Signature-Timestamp": stamp}
    for field, wrap in (("headers", str), ("multiValueHeaders", lambda v: [v])):
        headers = {k: v for k, v in request[field].items() if k.lower() != "x-api-key"}
        request[field] = {**headers, **{k: wrap(v) for k, v in signature.items()}}
    return request


def invoke_functions(
    state: dict[str, Any], out: dict[str, Any], client: Callable[[str], Any], region: str
) -> dict[str, str]:
    """Ingest one document through the deployed functions and ask about it."""
    from kass.models import Document
    from kass.raw_keys import doc_key

    functions, bucket = out["function_names"], out["raw_bucket_name"]
    results: dict[str, str] = {}
    document = Document(
        id=DOC_ID,
        source=DOC_SOURCE,
        url="https://example.backlog.com/view/TFE-1",
        title="TFE-1 Login fails after the 2.3 release",
        text=(
            "Login failed after the 2.3 release because the session cookie lost its SameSite "
            "attribute, so browsers dropped it on the redirect from the identity provider. "
            "The fix shipped in 2.3.1."
        ),
        metadata={"project": "TFE", "status": "Closed"},
    )
    key = doc_key(DOC_SOURCE, DOC_ID)
    client("s3").put_object(
        Bucket=bucket,
        Key=key,
        Body=document.model_dump_json().encode(),
        ContentType="application/json",
    )

    # What EventBridge puts on the queue for the put, as document_processor receives it.
    change = event("eventbridge_s3_object_created.json")
    change.update(id=str(uuid.uuid4()), account=MOTO_ACCOUNT, region=region)
    change["resources"] = [f"arn:aws:s3:::{bucket}"]
    change["detail"]["bucket"]["name"] = bucket
    change["detail"]["object"]["key"] = key
    queue_arn = client("sqs").get_queue_attributes(
        QueueUrl=out["document_events_queue_url"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    record = event("sqs_batch.json")["Records"][0]
    record.update(messageId=str(uuid.uuid4()), body=json.dumps(change), awsRegion=region)
    record["eventSourceARN"] = queue_arn
    payload, error = invoke(client, functions["document_processor"], {"Records": [record]})
    expect(error is None, f"document_processor failed: {brief(payload)}")
    expect(
        payload == {"batchItemFailures": []},
        f"document_processor reported failures: {brief(payload)}",
    )
    settings = client("lambda").get_function_configuration(
        FunctionName=functions["document_processor"]
    )["Environment"]["Variables"]
    chunks = indexed_chunks(state["opensearch_url"], settings["KASS_AWS_OPENSEARCH_INDEX"])
    expect(chunks > 0, f"the OpenSearch double holds no chunk of {DOC_ID} after processing")
    results["document_processor"] = f"{chunks} chunk(s) of {DOC_ID} indexed"

    payload, error = invoke(
        client, functions["orchestrator"], rest_event("POST", "/chat", {"message": QUESTION})
    )
    expect(error is None, f"orchestrator failed: {brief(payload)}")
    expect(payload.get("statusCode") == 200, f"POST /chat answered {brief(payload)}")
    answer = json.loads(payload["body"])
    cited = [c.get("doc_id") for c in answer.get("citations", [])]
    expect(DOC_ID in cited, f"POST /chat did not cite {DOC_ID}: {brief(answer)}")
    results["orchestrator"] = f"POST /chat 200, tier {answer.get('tier')}, cites {DOC_ID}"

    payload, error = invoke(
        client, functions["vector_search"], rest_event("POST", "/search", {"query": "SameSite"})
    )
    expect(error is None, f"vector_search failed: {brief(payload)}")
    expect(payload.get("statusCode") == 200, f"POST /search answered {brief(payload)}")
    found = [r.get("doc_id") for r in json.loads(payload["body"]).get("results", [])]
    expect(DOC_ID in found, f"POST /search did not find {DOC_ID}: {brief(payload['body'])}")
    results["vector_search"] = f"POST /search 200, finds {DOC_ID}"

    # A schedule naming no connector this build knows: reported, not raised (no retry helps).
    payload, error = invoke(client, functions["data_fetcher"], {"connector": "tf-emulate-none"})
    expect(error is None, f"data_fetcher crashed on an unknown connector: {brief(payload)}")
    expect(
        isinstance(payload, dict) and payload.get("error") == "invalid_input",
        f"data_fetcher did not reject an unknown connector: {brief(payload)}",
    )
    results["data_fetcher"] = f"unknown connector -> {payload['error']}: {payload['message']}"

    # What Discord sends before it saves an Interactions Endpoint URL: a signed PING, and a
    # request with a bad signature that must be refused.
    ping = {"id": "1250000000000000001", "application_id": "1240000000000000000", "type": 1}
    ping |= {"token": "dGYtZW11bGF0ZQ", "version": 1}
    payload, error = invoke(client, functions["discord_handler"], discord_event(ping))
    expect(error is None, f"discord_handler failed on a PING: {brief(payload)}")
    expect(
        payload.get("statusCode") == 200 and json.loads(payload["body"]) == {"type": 1},
        f"a signed PING did not get the PONG: {brief(payload)}",
    )
    payload, error = invoke(
        client, functions["discord_handler"], discord_event(ping, tampered=True)
    )
    expect(error is None, f"discord_handler failed on a tampered PING: {brief(payload)}")
    expect(payload.get("statusCode") == 401, f"a tampered PING was not refused: {brief(payload)}")
    results["discord_handler"] = 'signed PING 200 {"type": 1}, tampered 401'
    return results


def check_web_page(out: dict[str, Any], client: Callable[[str], Any]) -> str:
    """The page's files and the config.json Terraform generated, read back from the bucket."""
    s3, bucket = client("s3"), out["web_bucket_name"]
    body = s3.get_object(Bucket=bucket, Key="config.json")["Body"].read()
    config = json.loads(body)
    expected = {
        "apiUrl": out["api_url"],
        "streamUrl": out["websocket_url"],
        "apiKey": out["api_key_values"]["web"],
    }
    expect(config == expected, f"config.json is {brief(config)}, not the deployed API's")
    pages = [p for p in (ROOT / "web").rglob("*") if p.is_file() and not p.name.startswith(".")]
    files = {p.relative_to(ROOT / "web").as_posix() for p in pages} | {"config.json"}
    stored = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    expect(stored == files, f"the web bucket holds {sorted(stored)}, web/ has {sorted(files)}")
    index_type = s3.head_object(Bucket=bucket, Key="index.html")["ContentType"]
    expect(index_type.startswith("text/html"), f"index.html is served as {index_type!r}")
    return f"{len(stored)} objects; config.json names the deployed API, WebSocket URL and web key"


def invoke_stream_handler(out: dict[str, Any], client: Callable[[str], Any], region: str) -> str:
    """A WebSocket connection's life as API Gateway invokes stream_handler: the $connect
    authorizer with the page's key in the query string, $connect, then $disconnect."""
    function, table = out["function_names"]["stream_handler"], out["table_names"]["connections"]
    url = urllib.parse.urlsplit(out["websocket_url"])
    host, stage = str(url.hostname), url.path.strip("/")
    api_id, key = host.split(".")[0], out["api_key_values"]["web"]
    connection_id = base64.b64encode(uuid.uuid4().bytes[:12]).decode()  # API Gateway's shape

    authorizer = event("apigw_websocket_connect_authorizer.json")
    authorizer["methodArn"] = (
        f"arn:aws:execute-api:{region}:{MOTO_ACCOUNT}:{api_id}/{stage}/$connect"
    )
    authorizer["queryStringParameters"] = {"api_key": key}
    authorizer["multiValueQueryStringParameters"] = {"api_key": [key]}
    authorizer["headers"]["Host"] = host
    authorizer["multiValueHeaders"]["Host"] = [host]
    context = authorizer["requestContext"]
    context.update(
        domainName=host,
        stage=stage,
        apiId=api_id,
        connectionId=connection_id,
        requestId=str(uuid.uuid4()),
    )
    payload, error = invoke(client, function, authorizer)
    expect(error is None, f"stream_handler failed as the authorizer: {brief(payload)}")
    allowed = [s.get("Effect") for s in payload.get("policyDocument", {}).get("Statement", [])]
    expect(
        allowed == ["Allow"] and payload.get("usageIdentifierKey") == key,
        f"the authorizer did not allow the web key as usage identifier: {brief(payload)}",
    )

    # $connect as API Gateway passes it after the authorizer: its principal in the context.
    connect = {k: v for k, v in authorizer.items() if k not in ("type", "methodArn")}
    connect["requestContext"] = {**context, "authorizer": {"principalId": payload["principalId"]}}
    connect["isBase64Encoded"] = False
    payload, error = invoke(client, function, connect)
    expect(error is None, f"stream_handler failed on $connect: {brief(payload)}")
    expect(payload.get("statusCode") == 200, f"$connect answered {brief(payload)}")
    row = connection_row(client, table, connection_id)
    expect(row is not None, f"$connect stored no row for {connection_id} in {table}")

    disconnect = {
        "headers": {"Host": host},
        "multiValueHeaders": {"Host": [host]},
        "isBase64Encoded": False,
        "requestContext": {
            **context,
            "routeKey": "$disconnect",
            "eventType": "DISCONNECT",
            "requestId": str(uuid.uuid4()),
            "disconnectStatusCode": 1000,
            "disconnectReason": "Client closed",
        },
    }
    payload, error = invoke(client, function, disconnect)
    expect(error is None, f"stream_handler failed on $disconnect: {brief(payload)}")
    expect(payload.get("statusCode") == 200, f"$disconnect answered {brief(payload)}")
    expect(
        connection_row(client, table, connection_id) is None,
        f"$disconnect left the row of {connection_id} in {table}",
    )
    return f"authorizer Allow (web key), $connect -> row in {table}, $disconnect -> row gone"


def connection_row(client: Callable[[str], Any], table: str, connection_id: str) -> Any:
    response = client("dynamodb").get_item(
        TableName=table, Key={"connection_id": {"S": connection_id}}, ConsistentRead=True
    )
    return response.get("Item")


def indexed_chunks(opensearch_url: str, index: str) -> int:
    """Chunk records of the document in the double, read over HTTP like any client."""
    query = {"bool": {"filter": [{"term": {"doc_id": DOC_ID}}, {"term": {"kind": "chunk"}}]}}
    request = urllib.request.Request(
        f"{opensearch_url}/{index}/_search",
        data=json.dumps({"query": query, "size": 0}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(json.load(response)["hits"]["total"]["value"])


def brief(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "..."


def leftovers(client: Callable[[str], Any]) -> list[str]:
    """kass-dev- resources moto still holds (KMS keys only pending deletion are gone, as in AWS)."""
    found: list[str] = []
    found += [b["Name"] for b in client("s3").list_buckets()["Buckets"]]
    found += client("dynamodb").list_tables()["TableNames"]
    found += [f["FunctionName"] for f in client("lambda").list_functions()["Functions"]]
    found += [layer["LayerName"] for layer in client("lambda").list_layers()["Layers"]]
    found += [q.rsplit("/", 1)[-1] for q in client("sqs").list_queues().get("QueueUrls", [])]
    found += [t["TopicArn"].rsplit(":", 1)[-1] for t in client("sns").list_topics()["Topics"]]
    found += [r["RoleName"] for r in client("iam").list_roles()["Roles"]]
    found += [p["PolicyName"] for p in client("iam").list_policies(Scope="Local")["Policies"]]
    found += [g["logGroupName"] for g in client("logs").describe_log_groups()["logGroups"]]
    found += [a["AliasName"] for a in client("kms").list_aliases()["Aliases"]]
    found += [r["Name"] for r in client("events").list_rules()["Rules"]]
    found += [s["Name"] for s in client("scheduler").list_schedules()["Schedules"]]
    found += [a["name"] for a in client("apigateway").get_rest_apis()["items"]]
    found += [a["Name"] for a in client("apigatewayv2").get_apis()["Items"]]
    found += [
        c["name"] for c in client("opensearchserverless").list_collections()["collectionSummaries"]
    ]
    found += [d["DomainName"] for d in client("opensearch").list_domain_names()["DomainNames"]]
    found += [e["EndpointName"] for e in client("sagemaker").list_endpoints()["Endpoints"]]
    found += [m["ModelName"] for m in client("sagemaker").list_models()["Models"]]
    found += [a["AlarmName"] for a in client("cloudwatch").describe_alarms()["MetricAlarms"]]
    found += [
        d["DashboardName"] for d in client("cloudwatch").list_dashboards()["DashboardEntries"]
    ]
    for vpc in client("ec2").describe_vpcs()["Vpcs"]:
        found += [t["Value"] for t in vpc.get("Tags", []) if t["Key"] == "Name"]
    return sorted(n for n in found if PREFIX in n)


# -- the run -----------------------------------------------------------------------------------
def rel(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


class Timer:
    def __init__(self) -> None:
        self.phases: list[tuple[str, float]] = []
        self.started = time.monotonic()

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        print(f"tf-emulate: {name} ...", flush=True)
        start = time.monotonic()
        try:
            yield
        finally:
            self.phases.append((name, time.monotonic() - start))

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def summary(self) -> str:
        parts = [f"{name} {seconds:.1f} s" for name, seconds in self.phases]
        return " | ".join([*parts, f"total {time.monotonic() - self.started:.1f} s"])


def run(args: argparse.Namespace) -> int:
    for needed, hint in (
        (ROOT / "dist" / "functions" / "orchestrator.zip", "run `make build`"),
        (ROOT / "build" / "terraform.rc", "run `make tf-config`"),
    ):
        if not needed.exists():
            raise Failure(f"{rel(needed)} missing: {hint}")
    if shutil.which("terraform") is None:
        raise Failure("terraform not found on PATH")
    WORK.mkdir(parents=True, exist_ok=True)
    timer = Timer()
    try:
        return _run(args, timer)
    except BaseException:
        print(f"tf-emulate: phases before the failure: {timer.summary()}", flush=True)
        raise


def _run(args: argparse.Namespace, timer: Timer) -> int:
    with emulator(args.port, WORK / "emulator.log") as state:
        print(f"tf-emulate: emulator at {state['moto_url']} ({timer.elapsed():.1f} s)", flush=True)
        root = scratch_root(state, args)
        region = hcl_string(root / "terraform.tfvars", "region")
        client = clients(state, region)
        with timer.phase("init"):
            terraform(root, WORK / "init.log", "init", "-input=false")
        with timer.phase("apply"):
            applied = terraform(root, WORK / "apply.log", "apply", "-auto-approve", "-input=false")
        print(f"tf-emulate: {last_line(applied, 'Apply complete!')}", flush=True)
        with timer.phase("invoke"):
            out = outputs(root)
            names = check_outputs(out, client)
            print(f"tf-emulate: outputs ok ({len(names)} names checked in moto)", flush=True)
            print(f"tf-emulate:   web page: {check_web_page(out, client)}", flush=True)
            result = invoke_stream_handler(out, client, region)
            print(f"tf-emulate:   stream_handler: {result}", flush=True)
            if args.opensearch_engine == "domain":
                # moto's domain endpoint is https:// and not the double: nothing could index.
                print("tf-emulate: invoke skipped (the domain's endpoint is not the double)")
            else:
                expect(
                    out["opensearch_endpoint"] == state["opensearch_url"],
                    f"opensearch_endpoint {out['opensearch_endpoint']!r} is not the double's URL",
                )
                for function, result in invoke_functions(state, out, client, region).items():
                    print(f"tf-emulate:   {function}: {result}", flush=True)
        with timer.phase("destroy"):
            destroyed = terraform(
                root, WORK / "destroy.log", "destroy", "-auto-approve", "-input=false"
            )
        print(f"tf-emulate: {last_line(destroyed, 'Destroy complete!')}", flush=True)
        left = leftovers(client)
        expect(not left, f"moto still holds {len(left)} kass-dev- resource(s): {left[:8]}")
    print(f"tf-emulate: ok ({mode()}) | {timer.summary()}", flush=True)
    if not args.keep_scratch:
        (root / "terraform.tfstate").unlink(missing_ok=True)
    return 0


def hcl_string(tfvars: Path, name: str) -> str:
    for line in tfvars.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        if key.strip() == name:
            return value.split("#")[0].strip().strip('"')
    raise Failure(f"{name} not set in {rel(tfvars)}")


def last_line(text: str, prefix: str) -> str:
    found = [line for line in text.splitlines() if line.startswith(prefix)]
    return found[-1] if found else prefix


def mode() -> str:
    """Which packages the invoked functions imported (docs/emulator.md)."""
    return "functions ran with " + ("+".join(sorted(MODES)) or "an unlogged package mode")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--opensearch-engine",
        choices=("serverless", "domain"),
        default="serverless",
        help="domain: the managed domain (the provider waits ~10 min each way in moto)",
    )
    parser.add_argument(
        "--no-sagemaker", dest="sagemaker", action="store_false", help="leave the 7B tier off"
    )
    parser.add_argument(
        "--chat-tier",
        choices=("extractive", "haiku"),
        default="extractive",
        help="extractive: no model; haiku: Converse on the Bedrock runtime double",
    )
    parser.add_argument("--port", type=int, default=0, help="moto's port (0: any free port)")
    parser.add_argument(
        "--keep-scratch", action="store_true", help="keep build/tf-emulate/root (state, logs)"
    )
    args = parser.parse_args(argv)

    def interrupt(signum: int, frame: Any) -> None:
        raise Interrupted(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, interrupt)
    try:
        return run(args)
    except Failure as failure:
        print(f"tf-emulate: FAILED: {failure}", file=sys.stderr)
        return 1
    except Exception as error:  # a boto3 or I/O error mid-run: one line, the trace in a file
        import traceback

        WORK.mkdir(parents=True, exist_ok=True)
        (WORK / "error.log").write_text(traceback.format_exc(), encoding="utf-8")
        reason = " ".join(str(error).split()) or type(error).__name__
        print(f"tf-emulate: FAILED: {reason} (trace: {rel(WORK / 'error.log')})", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, Interrupted):
        print("tf-emulate: interrupted; emulator stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
