"""Cold start of each Lambda function: its init (importing handler.py) in a fresh interpreter,
as a ratio to a bare `import boto3` measured in the same run (the floor every function pays).

    .venv/bin/python scripts/bench_lambda.py [--runs 5] [--dist DIR ...]

Each run is a new process with the AWS profile's environment (dummy credentials, an OpenSearch
endpoint nothing listens on; handlers build their clients on first request, so nothing connects)
and the variables Lambda itself sets (LAMBDA_TASK_ROOT & co., which switch the Powertools Tracer
and the X-Ray SDK to their in-Lambda behaviour). A process ends with os._exit right after init,
so interpreter teardown is not counted. Cases alternate run by run, so machine load hits all
alike; figures are medians. Targets (issue 3): vector_search <= 1.6x, document_processor <= 2x,
orchestrator <= 4x the floor.

Always measured: the repository's handlers on the venv (its packages and cached bytecode).
Each `--dist DIR` adds the built artifacts of DIR, laid out as Lambda does: the function zip's
handler.py, its layers' `python/` first on sys.path, then only the SDK the runtime provides
(RUNTIME_PROVIDED, linked from this interpreter); no site-packages, and no bytecode written
(/opt is read-only in Lambda): what the layers ship is what is used. DIR must be built for this
interpreter, e.g. (add --no-bytecode to see layers without .pyc)
    KASS_LAMBDA_PYTHON_VERSION=3.11 KASS_LAMBDA_ARCHITECTURE=x86_64 \\
        .venv/bin/python scripts/build_lambda.py --dist /tmp/kass-dist --work /tmp/kass-build
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from build_lambda import FUNCTION_LAYERS, LAYERS  # scripts/ is on sys.path when run as a script
from kass.api.routes import FUNCTIONS, handler_file

TARGETS = {"vector_search": 1.6, "document_processor": 2.0, "orchestrator": 4.0}
# What the Lambda Python runtime provides besides the standard library (boto3 and its imports).
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
# Top-level modules worth naming in the import listing: they explain most of the time.
NOTABLE = (
    "boto3", "botocore", "aws_xray_sdk", "opensearchpy", "langchain", "langchain_core",
    "langchain_aws", "langgraph", "langsmith", "langchain_text_splitters", "numpy", "pydantic",
    "requests", "yaml",
)  # fmt: skip

# The child: put the layers on sys.path, run the init (import boto3, or the handler module),
# optionally list the top-level modules the init imported, and leave without teardown.
CHILD = """
import sys, os
before = set(sys.modules)
entries, handler, listing = sys.argv[1:4]
if entries:
    sys.path[:0] = entries.split(os.pathsep)
if handler == "-":
    import boto3
else:
    import importlib.util
    spec = importlib.util.spec_from_file_location("handler", handler)
    module = importlib.util.module_from_spec(spec)
    sys.modules["handler"] = module
    spec.loader.exec_module(module)
if listing == "1":
    print(" ".join(sorted({name.split(".")[0] for name in set(sys.modules) - before})))
sys.stdout.flush()
os._exit(0)
"""


@dataclass
class Case:
    function: str  # or "floor"
    variant: str
    handler: str  # handler.py path, or "-" for the bare `import boto3`
    task_root: Path
    python: list[str]
    sys_path: list[str] = field(default_factory=list)
    write_bytecode: bool = True
    times: list[float] = field(default_factory=list)
    modules: list[str] = field(default_factory=list)


def lambda_env(function: str, task_root: Path, write_bytecode: bool) -> dict[str, str]:
    """The AWS profile's settings plus what Lambda sets; nothing of the caller's KASS_* leaks."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    env.update(
        KASS_PROFILE="aws",
        KASS_AWS_REGION="us-east-1",
        KASS_AWS_OPENSEARCH_ENDPOINT="http://127.0.0.1:9",  # nothing listens; nothing connects
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_SESSION_TOKEN="testing",
        AWS_REGION="us-east-1",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        POWERTOOLS_SERVICE_NAME=function,
        POWERTOOLS_METRICS_NAMESPACE="kass",
        AWS_LAMBDA_FUNCTION_NAME=f"kass-bench-{function}",
        AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE="1024",
        AWS_EXECUTION_ENV=f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}",
        LAMBDA_TASK_ROOT=str(task_root),
    )
    if not write_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_child(case: Case, cwd: Path, listing: bool) -> str:
    flag = "1" if listing else "0"
    command = [*case.python, "-c", CHILD, os.pathsep.join(case.sys_path), case.handler, flag]
    env = lambda_env(case.function, case.task_root, case.write_bytecode)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{case.function} ({case.variant}): init failed\n{done.stderr[-3000:]}")
    if not listing:
        case.times.append(elapsed)
    return done.stdout


def venv_cases() -> list[Case]:
    python = [sys.executable]
    floor = Case("floor", "import boto3", "-", Path.cwd(), python)
    handlers = [(f, handler_file(f)) for f in FUNCTIONS]
    return [floor, *(Case(f, "venv", str(h), h.parent, python) for f, h in handlers)]


def runtime_dir(workdir: Path) -> Path:
    """Stands in for the runtime's own SDK: links to this interpreter's copies."""
    runtime = workdir / "runtime"
    if runtime.is_dir():
        return runtime
    runtime.mkdir(parents=True)
    for name in RUNTIME_PROVIDED:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise SystemExit(f"{name} is not importable here; it stands in for the runtime's")
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (runtime / source.name).symlink_to(source)
    return runtime


def built_cases(dist: Path, workdir: Path) -> list[Case]:
    """Unpack DIR's zips the way Lambda does and point one case per function at them."""
    target = json.loads((dist / "sizes.json").read_text(encoding="utf-8"))["target"]
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    machine = {"x86_64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine())
    if (target["python_version"], target["architecture"]) != (here, machine):
        raise SystemExit(
            f"{dist} was built for python{target['python_version']} {target['architecture']}; "
            f"this interpreter is python{here} {machine}: rebuild with KASS_LAMBDA_PYTHON_VERSION="
            f"{here} KASS_LAMBDA_ARCHITECTURE={machine}"
        )
    variant = "zips, .pyc" if target.get("bytecode_compiled_by") else "zips, no .pyc"
    unpacked = workdir / f"dist{len(list(workdir.glob('dist*')))}"
    for layer in LAYERS:
        with zipfile.ZipFile(dist / "layers" / f"{layer}.zip") as archive:
            archive.extractall(unpacked / "opt" / layer)
    runtime = runtime_dir(workdir)
    cases = []
    for function in FUNCTIONS:
        task = unpacked / "task" / function
        with zipfile.ZipFile(dist / "functions" / f"{function}.zip") as archive:
            archive.extractall(task)
        layers = [str(unpacked / "opt" / layer / "python") for layer in FUNCTION_LAYERS[function]]
        python = [sys.executable, "-S"]  # no site-packages: only the layers and the runtime
        handler = str(task / "handler.py")
        case = Case(function, variant, handler, task, python, [*layers, str(runtime)], False)
        cases.append(case)
    return cases


def format_table(cases: Sequence[Case], command: str, runs: int) -> str:
    floor = cases[0]
    base = statistics.median(floor.times)
    lines = [
        f"Lambda cold start (init = import handler.py); median of {runs} runs",
        f"command: {command}",
        f"python {platform.python_version()} {platform.machine()}",
        f"{'function':<20}{'variant':<16}{'median s':>9}{'ratio':>7}{'target':>8}  ok",
        f"{'floor':<20}{floor.variant:<16}{base:>9.3f}{1.0:>7.2f}",
    ]
    for function in FUNCTIONS:
        for case in (c for c in cases if c.function == function):
            median = statistics.median(case.times)
            target = TARGETS.get(function)
            ratio = median / base
            verdict = "-" if target is None else "yes" if ratio <= target else "NO"
            shown = "-" if target is None else f"<= {target:g}"
            lines.append(
                f"{function:<20}{case.variant:<16}{median:>9.3f}{ratio:>7.2f}{shown:>8}  {verdict}"
            )
    lines += ["", "top-level modules imported at init (+ = imported), venv:"]
    for case in cases:
        if case.variant in ("venv", "import boto3"):
            imported = set(case.modules)
            marks = " ".join(f"{'+' if name in imported else '-'}{name}" for name in NOTABLE)
            lines.append(f"  {case.function:<20}{len(imported):>4} modules  {marks}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--dist", type=Path, action="append", default=[], help="also measure DIR's built zips"
    )
    args = parser.parse_args(argv)
    shown_args = list(argv) if argv is not None else sys.argv[1:]
    command = shlex.join([".venv/bin/python", "scripts/bench_lambda.py", *shown_args])

    with tempfile.TemporaryDirectory(prefix="kass-bench-lambda-") as tmp:
        workdir = Path(tmp)
        cases = venv_cases()
        for dist in args.dist:
            cases += built_cases(dist, workdir)
        cwd = workdir  # not the repository: its .env must not reach the functions' settings
        for case in cases:  # warm-up (page cache; venv bytecode) and the module listing
            case.modules = run_child(case, cwd, listing=True).split()
        for _ in range(args.runs):
            for case in cases:
                run_child(case, cwd, listing=False)
        print(format_table(cases, command, args.runs))
    return 0


# API overhead (POST /chat through `kass serve`) is measured by scripts/bench_api.py; this
# script only starts interpreters.

if __name__ == "__main__":
    sys.exit(main())
