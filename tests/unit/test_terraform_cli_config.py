"""scripts/terraform_cli_config.py: finding the provider mirror and writing the CLI config."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "terraform_cli_config.py"
_spec = importlib.util.spec_from_file_location("terraform_cli_config", SCRIPT)
assert _spec and _spec.loader
cli_config = importlib.util.module_from_spec(_spec)
sys.modules["terraform_cli_config"] = cli_config
_spec.loader.exec_module(cli_config)

PLATFORM = "linux_amd64"
PATTERN = '"registry.terraform.io/hashicorp/*"'


def make_mirror(root: Path, version: str = "5.100.0", os_arch: str = PLATFORM) -> Path:
    provider = root / "registry.terraform.io" / "hashicorp" / "aws" / version / os_arch
    provider.mkdir(parents=True)
    (provider / f"terraform-provider-aws_v{version}_x5").write_bytes(b"")
    return root


def no_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Point the fixed search directories into the temp dir, so the machine's own do not count."""
    monkeypatch.setattr(cli_config, "FIXED_DIRS", (str(tmp_path / "opt-tf-plugins"),))
    monkeypatch.setattr(
        cli_config,
        "SYSTEM_DIRS",
        (str(tmp_path / "usr-local-share"), str(tmp_path / "usr-share")),
    )


def write(tmp_path: Path, environ: dict[str, str], *, cache: bool = True) -> tuple[Path, str]:
    output = tmp_path / "build" / "terraform.rc"
    mirror, _ = cli_config.write_config(
        output,
        environ=environ,
        home=tmp_path / "home",
        os_arch=PLATFORM,
        cache_dir=tmp_path / "build" / "cache" if cache else None,
    )
    return output, mirror


def test_given_mirror_in_env_var_when_written_then_config_uses_it_for_hashicorp_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_defaults(monkeypatch, tmp_path)
    mirror = make_mirror(tmp_path / "custom")
    make_mirror(tmp_path / "opt-tf-plugins")  # later in the order: not chosen

    output, chosen = write(tmp_path, {"KASS_TF_PLUGIN_MIRROR": str(mirror)})

    text = output.read_text()
    assert chosen == mirror.resolve()
    assert f'path    = "{mirror.resolve()}"' in text
    assert f"include = [{PATTERN}]" in text
    assert f"exclude = [{PATTERN}]" in text  # everything else: direct
    assert "plugin_cache_dir" not in text
    assert not (tmp_path / "build" / "cache").exists()


def test_given_no_env_var_when_written_then_search_order_is_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_defaults(monkeypatch, tmp_path)
    home_mirror = make_mirror(tmp_path / "home" / ".terraform.d" / "plugins")
    make_mirror(tmp_path / "usr-share")

    _, chosen = write(tmp_path, {})

    assert chosen == home_mirror.resolve()


def test_given_fixed_dir_and_home_mirror_when_written_then_fixed_dir_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_defaults(monkeypatch, tmp_path)
    fixed = make_mirror(tmp_path / "opt-tf-plugins")
    make_mirror(tmp_path / "home" / ".terraform.d" / "plugins")

    _, chosen = write(tmp_path, {})

    assert chosen == fixed.resolve()


def test_given_xdg_data_home_when_searched_then_its_plugins_dir_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_defaults(monkeypatch, tmp_path)
    xdg = make_mirror(tmp_path / "xdg" / "terraform" / "plugins")

    _, chosen = write(tmp_path, {"XDG_DATA_HOME": str(tmp_path / "xdg")})

    assert chosen == xdg.resolve()


def test_given_no_mirror_when_written_then_direct_only_with_a_plugin_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_defaults(monkeypatch, tmp_path)

    output, chosen = write(tmp_path, {})

    text = output.read_text()
    assert chosen is None
    assert "filesystem_mirror" not in text
    assert "direct {}" in text
    assert f'plugin_cache_dir = "{tmp_path / "build" / "cache"}"' in text
    assert "plugin_cache_may_break_dependency_lock_file = true" in text
    assert (tmp_path / "build" / "cache").is_dir()  # Terraform ignores a missing cache dir


def test_given_no_mirror_and_no_cache_when_written_then_only_direct(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_defaults(monkeypatch, tmp_path)

    output, _ = write(tmp_path, {}, cache=False)

    assert "plugin_cache_dir" not in output.read_text()


def test_given_mirror_for_another_platform_only_when_searched_then_it_does_not_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_defaults(monkeypatch, tmp_path)
    make_mirror(tmp_path / "opt-tf-plugins", os_arch="darwin_arm64")

    _, chosen = write(tmp_path, {})

    assert chosen is None


def test_given_directory_without_aws_provider_when_searched_then_it_does_not_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_defaults(monkeypatch, tmp_path)
    (tmp_path / "opt-tf-plugins" / "registry.terraform.io" / "hashicorp" / "random").mkdir(
        parents=True
    )

    _, chosen = write(tmp_path, {})

    assert chosen is None


def test_given_packed_mirror_when_searched_then_its_versions_are_found(tmp_path: Path) -> None:
    provider = tmp_path / "registry.terraform.io" / "hashicorp" / "aws"
    provider.mkdir(parents=True)
    (provider / f"terraform-provider-aws_5.100.0_{PLATFORM}.zip").write_bytes(b"")
    (provider / "terraform-provider-aws_5.99.0_darwin_arm64.zip").write_bytes(b"")

    assert cli_config.mirror_versions(tmp_path, PLATFORM) == ["5.100.0"]


def test_given_env_var_without_provider_when_written_then_it_is_an_error_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_defaults(monkeypatch, tmp_path)
    make_mirror(tmp_path / "opt-tf-plugins")

    with pytest.raises(cli_config.ConfigError, match="KASS_TF_PLUGIN_MIRROR"):
        write(tmp_path, {"KASS_TF_PLUGIN_MIRROR": str(tmp_path / "empty")})


def test_given_unchanged_config_when_written_again_then_file_is_not_rewritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_defaults(monkeypatch, tmp_path)
    make_mirror(tmp_path / "opt-tf-plugins")
    output, _ = write(tmp_path, {})
    os.utime(output, (1_000_000, 1_000_000))

    write(tmp_path, {})

    assert output.stat().st_mtime == 1_000_000


def test_given_cli_when_run_then_it_prints_the_chosen_mirror(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    no_defaults(monkeypatch, tmp_path)
    mirror = make_mirror(tmp_path / "m")
    monkeypatch.setenv("KASS_TF_PLUGIN_MIRROR", str(mirror))
    output = tmp_path / "out" / "terraform.rc"

    code = cli_config.main(["--output", str(output), "--platform", PLATFORM])

    assert code == 0
    assert f"mirror {mirror.resolve()}" in capsys.readouterr().out
    assert output.is_file()


def test_given_bad_env_var_when_cli_runs_then_exit_code_is_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KASS_TF_PLUGIN_MIRROR", str(tmp_path / "nothing"))

    code = cli_config.main(["--output", str(tmp_path / "rc"), "--platform", PLATFORM])

    assert code == 2
    assert "KASS_TF_PLUGIN_MIRROR" in capsys.readouterr().err


@pytest.mark.parametrize("with_mirror", [True, False])
def test_given_written_config_when_terraform_reads_it_then_it_reports_no_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, with_mirror: bool
) -> None:
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not installed")
    no_defaults(monkeypatch, tmp_path)
    environ = {"KASS_TF_PLUGIN_MIRROR": str(make_mirror(tmp_path / "m"))} if with_mirror else {}
    output, _ = write(tmp_path, environ)

    result = subprocess.run(
        [terraform, "version"],
        env={**os.environ, "TF_CLI_CONFIG_FILE": str(output)},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0
    assert "problems with the CLI configuration" not in result.stdout + result.stderr
