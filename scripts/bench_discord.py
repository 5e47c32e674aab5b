"""Discord handler cold start to its first response (issue 6 target: ≤ 300 ms; Discord's deadline
is 3 s), against the floor every Python Lambda pays (`import boto3`), side by side.

    .venv/bin/python scripts/bench_discord.py [--runs 9]

Each run is a fresh interpreter that imports `lambda_functions/discord_handler/handler.py` with
the aws profile's settings and answers one signed PING (Ed25519 over timestamp + body, a key
made here), as a cold Lambda would; the floor runs alternate with it. The handler runs from the
source tree and the venv (not the built zips): the figure is the handler's own import and
verification cost.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from nacl.signing import SigningKey

ROOT = Path(__file__).resolve().parents[1]
HANDLER = ROOT / "lambda_functions" / "discord_handler" / "handler.py"

# The child: load the handler as Lambda does, answer the PING, check it was a PONG, leave.
CHILD = """
import importlib.util, json, os, sys
spec = importlib.util.spec_from_file_location("handler", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules["handler"] = module
spec.loader.exec_module(module)
from kass.serve.context import LocalLambdaContext
reply = module.lambda_handler(json.loads(sys.argv[2]), LocalLambdaContext("discord_handler"))
if json.loads(reply["body"]) != {"type": 1}:
    sys.exit(f"not a PONG: {reply}")
os._exit(0)
"""


def signed_ping(key: SigningKey) -> dict[str, object]:
    body = json.dumps({"id": "1", "application_id": "2", "type": 1, "token": "t", "version": 1})
    stamp = str(int(time.time()))
    signature = key.sign(stamp.encode() + body.encode()).signature.hex()
    return {
        "httpMethod": "POST",
        "path": "/discord",
        "body": body,
        "isBase64Encoded": False,
        "headers": {"X-Signature-Ed25519": signature, "X-Signature-Timestamp": stamp},
    }


def timed(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args().runs
    key = SigningKey.generate()
    env = {
        **os.environ,
        "KASS_PROFILE": "aws",
        "KASS_DISCORD_PUBLIC_KEY": key.verify_key.encode().hex(),
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "discord_handler",
        "POWERTOOLS_SERVICE_NAME": "discord_handler",
    }
    ping = [sys.executable, "-c", CHILD, str(HANDLER), json.dumps(signed_ping(key))]
    floor = [sys.executable, "-c", "import boto3"]
    pongs, floors = [], []
    for _ in range(runs):  # alternated, so a busy moment weighs on both
        pongs.append(timed(ping, env))
        floors.append(timed(floor, env))
    median_pong, median_floor = statistics.median(pongs), statistics.median(floors)
    print(f"Discord handler cold start, {runs} runs each (s)")
    print(f"{'case':<36}{'median':>8}{'min':>8}{'max':>8}")
    print(f"{'cold start to PONG':<36}{median_pong:>8.3f}{min(pongs):>8.3f}{max(pongs):>8.3f}")
    print(f"{'import boto3 (floor)':<36}{median_floor:>8.3f}{min(floors):>8.3f}{max(floors):>8.3f}")
    print(f"ratio to the floor: {median_pong / median_floor:.2f}; target: PONG <= 0.300 s")
    print(f"command: .venv/bin/python scripts/bench_discord.py --runs {runs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
