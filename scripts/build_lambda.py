"""`make build`: the Lambda layers and function zips under dist/, sizes in dist/sizes.json.

    .venv/bin/python scripts/build_lambda.py [--dist DIR] [--work DIR] [--force]

- `dist/layers/core.zip`: the `kass` package and the dependencies of every function
  (pyproject `[project.dependencies]` + the `aws` extra); `dist/layers/connectors.zip`: the
  `connectors` extra's dependencies that core does not hold; `dist/layers/agent.zip`: the `agent`
  extra's that neither holds; `dist/layers/discord.zip`: the `discord` extra's (PyNaCl) that none
  of those holds. The layers stack in that order (a function carries a prefix of them), so no
  file is in two layers and a shared package has one version. Layout `python/...`.
- `dist/functions/<name>.zip`: `lambda_functions/<name>/handler.py` as `handler.py`
  (Lambda handler `handler.lambda_handler`).
- `dist/sizes.json`: unzipped bytes per function (code + its layers) against Lambda's 250 MB limit
  and our targets; the build fails only on the limit.

The target runtime comes from `KASS_LAMBDA_PYTHON_VERSION` / `KASS_LAMBDA_ARCHITECTURE`
(kass.settings.LambdaSettings). pip resolves for that target, then installs the resolved
versions with `--no-deps` minus EXCLUDED, so packages that a dependency pulls but Lambda provides
or we never import stay out. The install is cached under `build/lambda/<target>/` and redone only
when the requirements, the target or the exclusions change. Zips are deterministic (sorted
entries, fixed timestamps and modes), so an unchanged build keeps Terraform's source hashes.
Decisions and figures: docs/adr/0006-lambda-packaging.md.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from kass.api.routes import FUNCTIONS, FUNCTIONS_DIR
from kass.settings import LambdaSettings

ROOT = Path(__file__).resolve().parents[1]
MB = 1024 * 1024  # Lambda's "250 MB" is 262,144,000 bytes, so its MB is MiB; ours too
LIMIT_BYTES = 250 * MB  # function code + all its layers, unzipped
# Stacked: each adds only what those before lack. discord is last because only discord_handler,
# which needs the three below too (its worker runs the chat use case), carries it.
LAYERS = ("core", "connectors", "agent", "discord")

# Which layers each function carries (a prefix of LAYERS), and the size it should stay under.
FUNCTION_LAYERS: dict[str, tuple[str, ...]] = {
    "orchestrator": ("core", "connectors", "agent"),  # the agents act on GitLab, Slack, Backlog
    "vector_search": ("core",),
    "document_processor": ("core",),
    "data_fetcher": ("core", "connectors"),
    "discord_handler": LAYERS,  # PyNaCl to verify; its worker runs the orchestrator's chat
    "stream_handler": ("core", "connectors", "agent"),  # the orchestrator's chat, streamed
}
TARGET_BYTES: dict[str, int] = {
    "orchestrator": 200 * MB,
    "vector_search": 80 * MB,
    "document_processor": 80 * MB,
    "data_fetcher": 80 * MB,  # no target of its own in the issue; core's plus the small SDKs
    "discord_handler": 200 * MB,  # the orchestrator's plus PyNaCl (~1 MB)
    "stream_handler": 200 * MB,  # the orchestrator's layers
}

# Distributions never packaged, even when a dependency requires them (canonical names).
EXCLUDED: dict[str, str] = {
    # The Lambda Python runtime ships the SDK and what it imports; a second copy costs ~25 MB.
    "boto3": "provided by the Lambda runtime",
    "botocore": "provided by the Lambda runtime (pulled by aws-xray-sdk)",
    "s3transfer": "provided by the Lambda runtime",
    "jmespath": "provided by the Lambda runtime with boto3 (pulled by aws-lambda-powertools)",
    # opensearch-py 3.x requires its gRPC transport's packages, but opensearchpy never imports
    # them: the REST client we use runs without (checked by importing it without them).
    "opensearch-protobufs": "opensearch-py's gRPC transport; never imported by the REST client",
    "grpcio": "only for opensearch-protobufs (17 MB of native code)",
    "protobuf": "only for opensearch-protobufs",
    # langsmith (via langchain-core) imports zstandard inside try/except, for compressed trace
    # upload to LangSmith, which we do not use: 22 MB for two native backends.
    "zstandard": "langsmith's optional trace compression; we send no LangSmith traces",
}

# Runtime (AL2 for python3.11, AL2023 for 3.12+) glibc: the newest manylinux tag a wheel may use.
GLIBC_MINOR = {"3.11": 26, "3.12": 34, "3.13": 34}
MACHINE = {"arm64": "aarch64", "x86_64": "x86_64"}

ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # earliest a zip can hold; a fixed date keeps bytes stable
LAYOUT_VERSION = 2  # bump when the install or strip rules change, to invalidate the cache


class BuildError(Exception):
    """A build that cannot go on; the message says what to fix."""


@dataclass(frozen=True)
class Target:
    python_version: str
    architecture: str

    @classmethod
    def from_settings(cls, settings: LambdaSettings) -> Target:
        return cls(settings.python_version, settings.architecture)

    @property
    def key(self) -> str:
        return f"py{self.python_version}-{self.architecture}"

    @property
    def bytecode_tag(self) -> str:
        return "cpython-" + self.python_version.replace(".", "")

    def platforms(self) -> list[str]:
        """manylinux tags the runtime accepts, newest first (pip does not expand custom tags)."""
        machine = MACHINE[self.architecture]
        newest = GLIBC_MINOR[self.python_version]
        tags = [f"manylinux_2_{minor}_{machine}" for minor in range(newest, 16, -1)]
        tags.append(f"manylinux2014_{machine}")
        if machine == "x86_64":  # older aliases exist only for x86_64
            tags += ["manylinux_2_12_x86_64", "manylinux2010_x86_64"]
            tags += ["manylinux_2_5_x86_64", "manylinux1_x86_64"]
        return tags

    def pip_options(self) -> list[str]:
        options = ["--implementation", "cp", "--python-version", self.python_version]
        options += ["--only-binary=:all:"]
        for tag in self.platforms():
            options += ["--platform", tag]
        return options


# -- requirements -------------------------------------------------------------------------------
def layer_requirements(pyproject: Path) -> dict[str, list[str]]:
    """Requirement strings per layer, from pyproject (the one source of truth), minus EXCLUDED."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    extras = project.get("optional-dependencies", {})
    core = [*project.get("dependencies", []), *extras.get("aws", [])]
    return {
        "core": _without_excluded(core),
        "connectors": _without_excluded(extras.get("connectors", [])),
        "agent": _without_excluded(extras.get("agent", [])),
        "discord": _without_excluded(extras.get("discord", [])),
    }


def _without_excluded(requirements: Iterable[str]) -> list[str]:
    return [r for r in requirements if canonicalize_name(Requirement(r).name) not in EXCLUDED]


def installable(pins: Mapping[str, str]) -> dict[str, str]:
    """The resolved distributions that go into a layer: all but EXCLUDED."""
    return {name: version for name, version in pins.items() if name not in EXCLUDED}


def layer_only(layer: str, pins: Mapping[str, str], below: Mapping[str, str]) -> dict[str, str]:
    """What a layer adds: its resolution minus what the layers below hold (never overlapping).

    A shared distribution must resolve to the version below, since the layers share one sys.path.
    """
    clashes = [
        f"{name} {pins[name]} (below: {below[name]})"
        for name in sorted(pins.keys() & below.keys())
        if pins[name] != below[name]
    ]
    if clashes:
        raise BuildError(f"{layer} layer needs other versions than below: " + ", ".join(clashes))
    return {name: v for name, v in pins.items() if name not in below}


# -- pip ----------------------------------------------------------------------------------------
def _pip(args: Sequence[str]) -> None:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:  # pip's output only on failure: it is long and mostly index noise
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-8000:])
        raise BuildError(f"pip failed ({done.returncode}): {' '.join(command[:6])} ...")


def resolve(
    requirements: Sequence[str], target: Target, work: Path, constraints: Mapping[str, str]
) -> dict[str, str]:
    """Resolve for the Lambda target without installing: canonical name -> version."""
    work.mkdir(parents=True, exist_ok=True)
    report = work / "report.json"
    options = ["install", "--dry-run", "--quiet", "--report", str(report)]
    options += ["--target", str(work / "unused"), *target.pip_options()]
    if constraints:
        constraint_file = work / "constraints.txt"
        constraint_file.write_text("".join(f"{n}=={v}\n" for n, v in sorted(constraints.items())))
        options += ["--constraint", str(constraint_file)]
    _pip([*options, *requirements])
    installs = json.loads(report.read_text(encoding="utf-8"))["install"]
    return {
        canonicalize_name(item["metadata"]["name"]): item["metadata"]["version"]
        for item in installs
    }


def pip_install(pins: Mapping[str, str], target: Target, destination: Path) -> None:
    """Install exactly `pins` (no dependency resolution: that was done by `resolve`)."""
    destination.mkdir(parents=True, exist_ok=True)
    options = ["install", "--quiet", "--no-deps", "--no-compile", "--target", str(destination)]
    _pip([*options, *target.pip_options(), *(f"{n}=={v}" for n, v in sorted(pins.items()))])


def stamp_of(
    requirements: Mapping[str, Sequence[str]], target: Target, bytecode: Bytecode | None = None
) -> str:
    """Hash of everything the installed trees depend on; same stamp, same trees."""
    inputs = {
        "requirements": {layer: sorted(reqs) for layer, reqs in requirements.items()},
        "target": [target.python_version, target.architecture, target.platforms()],
        "excluded": sorted(EXCLUDED),
        "bytecode": bytecode.version if bytecode else None,
        "layout": LAYOUT_VERSION,
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def install_layers(
    requirements: Mapping[str, Sequence[str]],
    target: Target,
    work: Path,
    bytecode: Bytecode | None,
    force: bool = False,
) -> dict[str, Path]:
    """The `python/` tree of each layer's dependencies, reused while the stamp is unchanged."""
    work = work / target.key
    trees = {layer: work / layer / "python" for layer in LAYERS}
    stamp_file = work / "stamp"
    stamp = stamp_of(requirements, target, bytecode)
    unchanged = stamp_file.is_file() and stamp_file.read_text() == stamp
    if unchanged and not force and all(tree.is_dir() for tree in trees.values()):
        print(f"dependencies unchanged for {target.key}: reusing {work}")
        return trees
    shutil.rmtree(work, ignore_errors=True)
    print(f"resolving and installing dependencies for {target.key} (pip) ...", flush=True)
    below: dict[str, str] = {}
    plan: dict[str, dict[str, str]] = {}
    for layer in LAYERS:
        # Constrained to the versions below, so a shared package has one version in all layers.
        pins = resolve(requirements[layer], target, work / f"resolve-{layer}", below)
        plan[layer] = installable(layer_only(layer, pins, below))
        below.update(pins)
    for layer, pins in plan.items():
        pip_install(pins, target, trees[layer])
        if bytecode:
            bytecode.compile(trees[layer])
        lock = "".join(f"{name}=={version}\n" for name, version in sorted(pins.items()))
        (work / f"{layer}.lock.txt").write_text(lock)
    stamp_file.write_text(stamp)  # last: an interrupted install is never reused
    return trees


# -- bytecode -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Bytecode:
    """The target's Python, which compiles the layers: /opt is read-only in Lambda, so without
    shipped .pyc every cold start compiles each imported module again (~2x the init time,
    docs/performance.md). Hash-based pycs: valid whatever the files' mtimes after unzipping."""

    python: Path
    version: str  # e.g. 3.12.1; pycs are only valid for the minor version they were made by

    def compile(self, tree: Path) -> None:
        command = [str(self.python), "-m", "compileall", "-q", "-j", "0"]
        command += ["--invalidation-mode", "unchecked-hash"]  # layers never change once built
        command += ["-s", str(tree), "-p", "/opt/python", str(tree)]  # the path Lambda shows
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:  # a file that cannot compile cannot be imported either
            failed = [line for line in done.stdout.splitlines() if "Error" in line]
            print(f"note: compileall could not compile {len(failed)} file(s) in {tree}")


def python_version(python: str | Path) -> str | None:
    """`major.minor.micro` of an interpreter, or None if it does not run (e.g. a pyenv shim)."""
    try:
        done = subprocess.run(
            [str(python), "-c", "import platform; print(platform.python_version())"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def find_bytecode_python(version: str, explicit: Path | None = None) -> Bytecode | None:
    """`explicit`, else `python3.X` on PATH, else a pyenv install of 3.X (newest first)."""
    if explicit:
        candidates: list[str | Path] = [explicit]
    else:
        on_path = shutil.which(f"python{version}")
        installs = (Path.home() / ".pyenv" / "versions").glob(f"{version}.*/bin/python{version}")
        pyenv = [path for path in installs if _is_version(path.parts[-3])]
        pyenv.sort(key=lambda path: Version(path.parts[-3]), reverse=True)
        candidates = [*([on_path] if on_path else []), *pyenv]
    for candidate in candidates:
        full = python_version(candidate)
        if full and full.rsplit(".", 1)[0] == version:
            return Bytecode(Path(candidate), full)
    if explicit:
        raise BuildError(f"{explicit} is not a working Python {version}")
    return None


def _is_version(text: str) -> bool:
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True


def stage_package(source: Path, destination: Path, bytecode: Bytecode | None) -> Path:
    """A clean copy of our package (the working tree's __pycache__ is the build machine's)."""
    shutil.rmtree(destination.parent, ignore_errors=True)
    shutil.copytree(source, destination, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    if bytecode:
        bytecode.compile(destination.parent)
    return destination.parent


# -- trees and zips -----------------------------------------------------------------------------
def keep(relative: PurePosixPath, bytecode_tag: str | None = None) -> bool:
    """Whether a file of an installed tree goes into a layer. Conservative: only what Python
    never reads at run time. dist-info stays (importlib.metadata reads versions from it)."""
    parts = relative.parts
    if parts[0] == "bin":
        return False  # console scripts with the build machine's interpreter in their shebang
    if parts[0] == "numpy" and "tests" in parts[1:-1]:
        return False  # numpy's own test suite (~7 MB, never imported; numpy.testing stays)
    if relative.suffix == ".pyi":
        return False  # type stubs, read by type checkers only
    if "__pycache__" in parts or relative.suffix in {".pyc", ".pyo"}:
        # Only bytecode of the target's Python that the build made (see Bytecode).
        return (
            bytecode_tag is not None
            and parts[-2:-1] == ("__pycache__",)
            and relative.name.endswith(f".{bytecode_tag}.pyc")
        )
    return True


def kept_files(root: Path, bytecode_tag: str | None = None) -> list[tuple[PurePosixPath, Path]]:
    """(path relative to `root`, file) for the files under `root` that go into a layer."""
    found = []
    for path in root.rglob("*"):
        relative = PurePosixPath(path.relative_to(root).as_posix())
        if path.is_file() and keep(relative, bytecode_tag):
            found.append((relative, path))
    return found


def tree_entries(
    root: Path, prefix: str, bytecode_tag: str | None = None
) -> list[tuple[str, Path]]:
    """(zip name, file) for the kept files under `root`, named `prefix/relative/path`."""
    return [(f"{prefix}/{rel}", path) for rel, path in kept_files(root, bytecode_tag)]


def check_no_overlap(layers: Mapping[str, Sequence[tuple[str, Path]]]) -> None:
    """Layers unpack into the same /opt: a path in two layers would silently be overwritten."""
    seen: dict[str, str] = {}
    for layer, entries in layers.items():
        clashes = sorted(name for name, _ in entries if name in seen)
        if clashes:
            raise BuildError(f"{layer} and {seen[clashes[0]]} layers both hold {clashes[:5]}")
        seen.update((name, layer) for name, _ in entries)


def write_zip(destination: Path, entries: Iterable[tuple[str, Path]]) -> bool:
    """Deterministic zip: same files, same bytes. Returns whether `destination` changed."""
    ordered = sorted(entries)
    duplicates = sorted(n for n, count in Counter(n for n, _ in ordered).items() if count > 1)
    if duplicates:
        raise BuildError(f"{destination.name}: more than one file for {duplicates[:5]}")
    destination.parent.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.NamedTemporaryFile(dir=destination.parent, suffix=".tmp", delete=False) as tmp,
        zipfile.ZipFile(tmp, "w") as archive,
    ):
        for name, path in ordered:
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so the mode below is honoured
            executable = path.stat().st_mode & 0o111
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            with path.open("rb") as source, archive.open(info, "w") as target:
                shutil.copyfileobj(source, target, 1 << 20)
    temporary = Path(tmp.name)
    if destination.is_file() and _digest(destination) == _digest(temporary):
        temporary.unlink()  # keep the old file (and its mtime) when nothing changed
        return False
    temporary.chmod(0o644)  # NamedTemporaryFile creates 0600
    temporary.replace(destination)
    return True


def _digest(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def unzipped_bytes(archive: Path) -> int:
    with zipfile.ZipFile(archive) as zipped:
        return sum(info.file_size for info in zipped.infolist())


def handler_sources(functions: Iterable[str], functions_dir: Path) -> dict[str, Path]:
    """Each function's handler file; a missing one fails the build before anything is built."""
    missing = [f for f in functions if not (functions_dir / f / "handler.py").is_file()]
    if missing:
        paths = ", ".join(str(functions_dir / f / "handler.py") for f in missing)
        raise BuildError(f"no handler for {', '.join(missing)}: {paths} does not exist")
    return {f: functions_dir / f / "handler.py" for f in functions}


def check_layer_table(functions: Iterable[str]) -> None:
    unknown = [f for f in functions if f not in FUNCTION_LAYERS]
    if unknown:
        raise BuildError(f"no layers listed for {', '.join(unknown)}: add it to FUNCTION_LAYERS")
    # A layer leaves out what the layers below it hold, so it works only on top of all of them.
    unstacked = [f for f in functions if FUNCTION_LAYERS[f] != LAYERS[: len(FUNCTION_LAYERS[f])]]
    if unstacked:
        raise BuildError(f"layers of {', '.join(unstacked)} are not a prefix of {LAYERS}")


def package_sizes(tree: Path, bytecode_tag: str | None = None) -> dict[str, int]:
    """Kept bytes per installed distribution (from its RECORD), largest first."""
    owner: dict[str, str] = {}
    for dist in importlib.metadata.distributions(path=[str(tree)]):
        name = canonicalize_name(dist.metadata["Name"])
        for file in dist.files or ():
            owner[PurePosixPath(file.as_posix()).as_posix()] = name
    sizes: Counter[str] = Counter()
    for relative, path in kept_files(tree, bytecode_tag):
        if relative.parent.name == "__pycache__":  # compiled after install: not in RECORD
            relative = relative.parent.parent / (relative.name.split(".")[0] + ".py")
        sizes[owner.get(relative.as_posix(), "(unowned)")] += path.stat().st_size
    return dict(sorted(sizes.items(), key=lambda item: (-item[1], item[0])))


# -- sizes --------------------------------------------------------------------------------------
def size_report(
    code_bytes: Mapping[str, int],
    layer_bytes: Mapping[str, int],
    target: Target,
    layer_details: Mapping[str, Mapping[str, Any]] | None = None,
    bytecode: Bytecode | None = None,
) -> dict[str, Any]:
    """The content of dist/sizes.json (unzipped bytes, what Lambda's limit counts)."""
    functions = {}
    for function, code in code_bytes.items():
        layers = {layer: layer_bytes[layer] for layer in FUNCTION_LAYERS[function]}
        total = code + sum(layers.values())
        target_bytes = TARGET_BYTES.get(function)
        functions[function] = {
            "code_bytes": code,
            "layers": layers,
            "total_unzipped_bytes": total,
            "limit_bytes": LIMIT_BYTES,
            "target_bytes": target_bytes,
            "over_target": target_bytes is not None and total > target_bytes,
            "over_limit": total > LIMIT_BYTES,
        }
    return {
        "target": {
            "python_version": target.python_version,
            "architecture": target.architecture,
            "bytecode_compiled_by": bytecode.version if bytecode else None,
        },
        "layers": {
            layer: {"unzipped_bytes": size, **(layer_details or {}).get(layer, {})}
            for layer, size in layer_bytes.items()
        },
        "functions": functions,
    }


def over_limit(report: Mapping[str, Any]) -> list[str]:
    return [name for name, f in report["functions"].items() if f["over_limit"]]


def over_target(report: Mapping[str, Any]) -> list[str]:
    return [name for name, f in report["functions"].items() if f["over_target"]]


def format_report(report: Mapping[str, Any]) -> str:
    def mb(n: int | None) -> str:
        return "-" if n is None else f"{n / MB:.1f}"

    target = report["target"]
    compiled = target["bytecode_compiled_by"]
    lines = [
        f"Lambda target: python{target['python_version']} {target['architecture']}, "
        + (f".pyc by Python {compiled}" if compiled else "no .pyc")
        + f" (unzipped MB = MiB; limit {LIMIT_BYTES:,} bytes)",
        f"{'function':<20}{'code':>8}"
        + "".join(f"{layer:>11}" for layer in LAYERS)
        + f"{'total':>9}{'target':>8}  status",
    ]
    for name, f in report["functions"].items():
        status = "OVER LIMIT" if f["over_limit"] else "over target" if f["over_target"] else "ok"
        lines.append(
            f"{name:<20}{f['code_bytes'] / 1024:>6.1f}KB"
            + "".join(f"{mb(f['layers'].get(layer)):>11}" for layer in LAYERS)
            + f"{mb(f['total_unzipped_bytes']):>9}"
            f"{mb(f['target_bytes']):>8}  {status}"
        )
    for layer, details in report["layers"].items():
        top = list(details.get("packages", {}).items())[:8]
        listed = ", ".join(f"{name} {size / MB:.1f}" for name, size in top)
        lines.append(f"layer {layer}: {mb(details['unzipped_bytes'])} MB unzipped; top: {listed}")
    return "\n".join(lines)


# -- main ---------------------------------------------------------------------------------------
def build(
    dist: Path, work: Path, target: Target, bytecode: Bytecode | None, force: bool = False
) -> dict[str, Any]:
    check_layer_table(FUNCTIONS)
    handlers = handler_sources(FUNCTIONS, FUNCTIONS_DIR)
    requirements = layer_requirements(ROOT / "pyproject.toml")
    trees = install_layers(requirements, target, work, bytecode, force)
    kass = stage_package(FUNCTIONS_DIR / "kass", work / target.key / "kass/python/kass", bytecode)

    tag = target.bytecode_tag if bytecode else None
    layer_entries = {layer: tree_entries(trees[layer], "python", tag) for layer in LAYERS}
    layer_entries["core"] += tree_entries(kass, "python", tag)
    check_no_overlap(layer_entries)
    layer_bytes, details = {}, {}
    for layer, entries in layer_entries.items():
        archive = dist / "layers" / f"{layer}.zip"
        write_zip(archive, entries)
        layer_bytes[layer] = unzipped_bytes(archive)
        packages = package_sizes(trees[layer], tag)
        if layer == "core":
            kass_bytes = sum(p.stat().st_size for _, p in kept_files(kass, tag))
            packages = dict(sorted({**packages, "kass": kass_bytes}.items(), key=lambda i: -i[1]))
        details[layer] = {"zip_bytes": archive.stat().st_size, "packages": packages}

    code_bytes = {}
    for function, handler in handlers.items():
        archive = dist / "functions" / f"{function}.zip"
        write_zip(archive, [("handler.py", handler)])
        code_bytes[function] = unzipped_bytes(archive)

    report = size_report(code_bytes, layer_bytes, target, details, bytecode)
    (dist / "sizes.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output directory")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "lambda", help="pip cache")
    parser.add_argument("--force", action="store_true", help="reinstall dependencies")
    parser.add_argument(
        "--bytecode-python", type=Path, help="the target's Python (default: found on PATH/pyenv)"
    )
    parser.add_argument("--no-bytecode", action="store_true", help="ship layers without .pyc")
    args = parser.parse_args(argv)
    target = Target.from_settings(LambdaSettings())
    try:
        bytecode = None
        if not args.no_bytecode:
            bytecode = find_bytecode_python(target.python_version, args.bytecode_python)
            if bytecode is None:
                print(
                    f"WARNING: no Python {target.python_version} found (PATH, ~/.pyenv): layers "
                    "ship without .pyc, and every cold start compiles what it imports (~2x "
                    "init). Pass --bytecode-python or install that Python.",
                    file=sys.stderr,
                )
        report = build(args.dist, args.work, target, bytecode, args.force)
    except BuildError as error:
        print(f"build failed: {error}", file=sys.stderr)
        return 1
    print(format_report(report))
    print(f"wrote {args.dist}/layers, {args.dist}/functions, {args.dist}/sizes.json")
    for name in over_target(report):
        print(f"WARNING: {name} is over its size target", file=sys.stderr)
    if over_limit(report):
        print(f"FAILED: over Lambda's limit: {', '.join(over_limit(report))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
