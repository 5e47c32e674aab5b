"""`make tf-config`: write build/terraform.rc, the Terraform CLI config of every tf-* target.

    python3 scripts/terraform_cli_config.py [--output build/terraform.rc] [--platform linux_amd64]

Terraform must initialize offline on machines that hold the hashicorp providers in a local
filesystem mirror, and from the registry as usual everywhere else. The first directory below
that holds `registry.terraform.io/hashicorp/aws/<version>/<os_arch>/` (unpacked layout) or
`registry.terraform.io/hashicorp/aws/terraform-provider-aws_<version>_<os_arch>.zip` (packed)
is the mirror:

1. `$KASS_TF_PLUGIN_MIRROR` (an error when set but holding no provider for this platform),
2. `/opt/tf-plugins`,
3. `~/.terraform.d/plugins`, `$XDG_DATA_HOME/terraform/plugins` (`~/.local/share/...`),
   `/usr/local/share/terraform/plugins`, `/usr/share/terraform/plugins` (Terraform's own
   implied mirror directories on Linux).

With a mirror, `registry.terraform.io/hashicorp/*` installs from it and every other provider
`direct` from its registry. Without one, the config holds only `direct {}` and a plugin cache
under build/, so the registry is used as usual and the 700 MB aws provider is downloaded once,
not once per root (`plugin_cache_may_break_dependency_lock_file`: a root without a lock file
entry also takes the cached package, recording only this platform's checksum — commit an
environment's lock file made with `terraform providers lock -platform=...` for every platform).
No machine path is required: the mirror is found, never assumed.

The plugin cache is left out when a mirror exists: Terraform links an unpacked mirror's
provider into `.terraform/` without copying it, and with a cache in between each `init` was
slower here (6.5 s instead of 2.2 s). Run the tf-* targets with
`TF_CLI_CONFIG_FILE=build/terraform.rc` (the Makefile exports it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / "build" / "terraform.rc"
DEFAULT_CACHE = ROOT / "build" / "terraform-plugin-cache"
ENV_MIRROR = "KASS_TF_PLUGIN_MIRROR"
HOSTNAME = "registry.terraform.io"
NAMESPACE = "hashicorp"
PROBE = "aws"  # the provider whose presence makes a directory count as a mirror
FIXED_DIRS = ("/opt/tf-plugins",)
SYSTEM_DIRS = ("/usr/local/share/terraform/plugins", "/usr/share/terraform/plugins")

_GOOS = {"linux": "linux", "darwin": "darwin", "windows": "windows", "freebsd": "freebsd"}
_GOARCH = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "i386": "386",
    "i686": "386",
    "armv7l": "arm",
}


class ConfigError(Exception):
    """A setting that cannot be honoured (e.g. KASS_TF_PLUGIN_MIRROR without the provider)."""


def terraform_platform(terraform: str | None = None) -> str:
    """`<os>_<arch>` as Terraform names it: asked from `terraform version -json` when Terraform is
    on PATH (the provider must match Terraform's build, not Python's), else from Python."""
    binary = terraform or shutil.which("terraform")
    if binary:
        try:
            result = subprocess.run(
                [binary, "version", "-json"], capture_output=True, text=True, timeout=30
            )
            value = json.loads(result.stdout).get("platform")
            if isinstance(value, str) and "_" in value:
                return value
        except (OSError, subprocess.SubprocessError, ValueError):
            pass
    system = platform.system().lower()
    machine = platform.machine().lower()
    return f"{_GOOS.get(system, system)}_{_GOARCH.get(machine, machine)}"


def candidate_dirs(environ: Mapping[str, str], home: Path) -> list[tuple[Path, str]]:
    """Directories to search, in order, each with where it came from."""
    candidates: list[tuple[Path, str]] = []
    if environ.get(ENV_MIRROR):
        candidates.append((Path(environ[ENV_MIRROR]).expanduser(), ENV_MIRROR))
    candidates.extend((Path(path), "default") for path in FIXED_DIRS)
    candidates.append((home / ".terraform.d" / "plugins", "default"))
    data_home = Path(environ["XDG_DATA_HOME"]) if environ.get("XDG_DATA_HOME") else None
    data_dir = data_home or home / ".local" / "share"
    candidates.append((data_dir / "terraform" / "plugins", "default"))
    candidates.extend((Path(path), "default") for path in SYSTEM_DIRS)
    return candidates


def mirror_versions(root: Path, os_arch: str) -> list[str]:
    """Versions of hashicorp/aws the mirror at `root` holds for `os_arch` (either layout)."""
    provider_dir = root / HOSTNAME / NAMESPACE / PROBE
    if not provider_dir.is_dir():
        return []
    versions: set[str] = set()
    for entry in provider_dir.iterdir():
        if entry.is_dir() and (entry / os_arch).is_dir():  # unpacked: <version>/<os_arch>/
            versions.add(entry.name)
        prefix, suffix = f"terraform-provider-{PROBE}_", f"_{os_arch}.zip"
        if entry.is_file() and entry.name.startswith(prefix) and entry.name.endswith(suffix):
            versions.add(entry.name[len(prefix) : -len(suffix)])  # packed
    return sorted(versions)


def find_mirror(
    candidates: Sequence[tuple[Path, str]], os_arch: str
) -> tuple[Path, list[str]] | None:
    """The first candidate holding the aws provider for `os_arch`, with its versions."""
    for path, origin in candidates:
        versions = mirror_versions(path, os_arch)
        if versions:
            return path.resolve(), versions
        if origin == ENV_MIRROR:
            raise ConfigError(
                f"{ENV_MIRROR}={path} holds no {HOSTNAME}/{NAMESPACE}/{PROBE}/<version>/{os_arch}/ "
                f"(nor a packed terraform-provider-{PROBE}_<version>_{os_arch}.zip); "
                f"point it at a provider mirror or unset it"
            )
    return None


def _hcl_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid HCL quoted string


def render_config(mirror: Path | None, cache_dir: Path | None) -> str:
    """The CLI config text: mirror for hashicorp/*, direct for the rest; or direct only."""
    pattern = _hcl_string(f"{HOSTNAME}/{NAMESPACE}/*")
    lines = [
        "# Written by scripts/terraform_cli_config.py (`make tf-config`); rewritten on every run.",
    ]
    if mirror is not None:
        lines += [
            f"# Providers {HOSTNAME}/{NAMESPACE}/* come from the local mirror; the rest direct.",
            "provider_installation {",
            "  filesystem_mirror {",
            f"    path    = {_hcl_string(str(mirror))}",
            f"    include = [{pattern}]",
            "  }",
            "  direct {",
            f"    exclude = [{pattern}]",
            "  }",
            "}",
        ]
    else:
        lines.append("# No provider mirror found: every provider comes from its registry.")
        if cache_dir is not None:
            lines += [
                f"plugin_cache_dir = {_hcl_string(str(cache_dir))}",
                "# Use the cache for roots without a lock file entry too (the modules commit no",
                "# lock file); else Terraform >= 1.4 downloads the provider again for each.",
                "plugin_cache_may_break_dependency_lock_file = true",
            ]
        lines += ["provider_installation {", "  direct {}", "}"]
    return "\n".join(lines) + "\n"


def write_config(
    output: Path,
    *,
    environ: Mapping[str, str],
    home: Path,
    os_arch: str,
    cache_dir: Path | None,
) -> tuple[Path | None, list[str]]:
    """Write the config to `output`; returns the mirror used (or None) and its aws versions."""
    found = find_mirror(candidate_dirs(environ, home), os_arch)
    mirror, versions = found if found else (None, [])
    if mirror is None and cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)  # Terraform ignores a missing cache dir
    output.parent.mkdir(parents=True, exist_ok=True)
    text = render_config(mirror, cache_dir if mirror is None else None)
    if not output.exists() or output.read_text(encoding="utf-8") != text:
        output.write_text(text, encoding="utf-8")
    return mirror, versions


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument(
        "--platform", help="Terraform platform, e.g. linux_amd64 (default: terraform's own)"
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=DEFAULT_CACHE,
        help="plugin cache used when there is no mirror (default: build/terraform-plugin-cache)",
    )
    parser.add_argument("--no-cache", action="store_true", help="no plugin cache at all")
    args = parser.parse_args(argv)
    os_arch = args.platform or terraform_platform()
    cache_dir = None if args.no_cache else args.cache_dir.resolve()
    try:
        mirror, versions = write_config(
            args.output, environ=os.environ, home=Path.home(), os_arch=os_arch, cache_dir=cache_dir
        )
    except ConfigError as error:
        print(f"terraform_cli_config: {error}", file=sys.stderr)
        return 2
    if mirror is not None:
        print(
            f"Terraform providers: mirror {mirror} ({HOSTNAME}/{NAMESPACE}/{PROBE} "
            f"{', '.join(versions)} for {os_arch}); other providers direct"
        )
    else:
        cache = f"; plugin cache {cache_dir}" if cache_dir else ""
        print(
            f"Terraform providers: no local mirror for {os_arch} found "
            f"(set {ENV_MIRROR} to use one): registry as usual{cache}"
        )
    print(f"wrote {args.output} (export TF_CLI_CONFIG_FILE={args.output.resolve()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
