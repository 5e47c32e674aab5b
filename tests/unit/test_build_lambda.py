"""scripts/build_lambda.py: the pure parts of `make build` (no pip, no network)."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import zipfile
from pathlib import Path, PurePosixPath

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build_lambda.py"
_spec = importlib.util.spec_from_file_location("build_lambda", SCRIPT)
assert _spec and _spec.loader
build = importlib.util.module_from_spec(_spec)
sys.modules["build_lambda"] = build  # dataclasses look their module up by name
_spec.loader.exec_module(build)

MB = build.MB
ARM_312 = build.Target("3.12", "arm64")

PYPROJECT = """
[project]
name = "demo"
dependencies = ["pydantic>=2.7,<3", "numpy>=1.26"]

[project.optional-dependencies]
local = ["torch==2.13.0"]
aws = ["boto3>=1.34", "opensearch-py>=3.2,<4", "requests>=2.31"]
agent = ["langchain>=1.0,<2", "langchain-aws>=1.0,<2"]
connectors = ["python-gitlab>=8,<9", "httpx>=0.27,<1"]
discord = ["PyNaCl>=1.5,<2"]
"""


def write(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# -- requirements -------------------------------------------------------------------------------
def test_given_pyproject_when_deriving_requirements_then_core_is_dependencies_and_aws_without_boto3(
    tmp_path,
):
    pyproject = write(tmp_path / "pyproject.toml", PYPROJECT)

    requirements = build.layer_requirements(pyproject)

    assert requirements["core"] == [
        "pydantic>=2.7,<3",
        "numpy>=1.26",
        "opensearch-py>=3.2,<4",
        "requests>=2.31",
    ]
    assert requirements["agent"] == ["langchain>=1.0,<2", "langchain-aws>=1.0,<2"]
    assert requirements["connectors"] == ["python-gitlab>=8,<9", "httpx>=0.27,<1"]
    assert requirements["discord"] == ["PyNaCl>=1.5,<2"]


def test_given_resolution_pulling_runtime_and_unused_packages_when_selecting_then_they_stay_out():
    resolved = {
        "numpy": "2.4.6",
        "botocore": "1.44.5",
        "jmespath": "1.1.0",
        "grpcio": "1.85.1",
        "zstandard": "0.25.0",
        "requests": "2.34.2",
    }

    assert build.installable(resolved) == {"numpy": "2.4.6", "requests": "2.34.2"}


def test_given_agent_sharing_packages_below_when_deoverlapping_then_agent_adds_only_its_own():
    below = {"langchain-core": "1.7.2", "pydantic": "2.14.3", "httpx": "0.28.1"}
    agent = {"langchain": "1.4.7", "langchain-core": "1.7.2", "httpx": "0.28.1"}

    assert build.layer_only("agent", agent, below) == {"langchain": "1.4.7"}


def test_given_agent_needing_other_version_than_below_when_deoverlapping_then_build_fails():
    with pytest.raises(
        build.BuildError, match=r"agent layer .* pydantic 2\.9\.0 \(below: 2\.14\.3\)"
    ):
        build.layer_only("agent", {"pydantic": "2.9.0"}, {"pydantic": "2.14.3"})


# -- target -------------------------------------------------------------------------------------
def test_given_python_312_arm64_when_listing_platforms_then_al2023_glibc_tags_for_aarch64_only():
    tags = ARM_312.platforms()

    assert tags[0] == "manylinux_2_34_aarch64"
    assert {"manylinux_2_28_aarch64", "manylinux2014_aarch64"} <= set(tags)
    assert all(tag.endswith("_aarch64") for tag in tags)


def test_given_python_311_when_listing_platforms_then_no_tag_newer_than_amazon_linux_2_glibc():
    tags = build.Target("3.11", "x86_64").platforms()

    assert tags[0] == "manylinux_2_26_x86_64"
    assert "manylinux_2_28_x86_64" not in tags
    assert "manylinux2014_x86_64" in tags


def test_given_same_inputs_when_stamping_then_equal_and_any_change_gives_another_stamp(tmp_path):
    requirements = {"core": ["numpy>=1.26"], "agent": ["langchain>=1"]}
    bytecode = build.Bytecode(tmp_path / "python3.12", "3.12.1")
    stamp = build.stamp_of(requirements, ARM_312, bytecode)

    assert build.stamp_of(dict(requirements), ARM_312, bytecode) == stamp
    assert build.stamp_of({**requirements, "core": ["numpy>=2"]}, ARM_312, bytecode) != stamp
    assert build.stamp_of(requirements, build.Target("3.12", "x86_64"), bytecode) != stamp
    assert build.stamp_of(requirements, ARM_312, None) != stamp


def test_given_unchanged_stamp_and_trees_when_installing_then_pip_is_not_run(tmp_path, monkeypatch):
    requirements = {"core": ["numpy"], "agent": ["langchain"]}
    work = tmp_path / ARM_312.key
    for layer in build.LAYERS:
        (work / layer / "python").mkdir(parents=True)
    write(work / "stamp", build.stamp_of(requirements, ARM_312, None))

    def no_pip(args):
        raise AssertionError(f"pip ran: {args}")

    monkeypatch.setattr(build, "_pip", no_pip)
    trees = build.install_layers(requirements, ARM_312, tmp_path, bytecode=None)

    assert trees == {layer: work / layer / "python" for layer in build.LAYERS}


# -- what goes into a layer ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "tag", "kept"),
    [
        ("numpy/__init__.py", None, True),
        ("numpy-2.4.6.dist-info/RECORD", None, True),
        ("numpy/testing/__init__.py", None, True),
        ("numpy/_core/tests/test_api.py", None, False),
        ("numpy/__init__.pyi", None, False),
        ("bin/f2py", None, False),
        ("pydantic/__pycache__/main.cpython-311.pyc", None, False),
        ("pydantic/__pycache__/main.cpython-311.pyc", "cpython-312", False),
        ("pydantic/__pycache__/main.cpython-312.pyc", "cpython-312", True),
        ("pydantic/__pycache__/main.cpython-312.opt-1.pyc", "cpython-312", False),
        ("pydantic/main.pyc", "cpython-312", False),
    ],
)
def test_given_installed_file_when_filtering_then_only_what_lambda_reads_is_kept(path, tag, kept):
    assert build.keep(PurePosixPath(path), tag) is kept


def test_given_tree_when_zipped_twice_with_other_mtimes_then_bytes_are_identical(tmp_path):
    tree = tmp_path / "tree"
    write(tree / "pkg" / "b.py", "b = 2\n")
    write(tree / "pkg" / "a.py", "a = 1\n")
    write(tree / "pkg" / "__pycache__" / "a.cpython-311.pyc", "stale")
    first, second = tmp_path / "first.zip", tmp_path / "second.zip"

    build.write_zip(first, build.tree_entries(tree, "python"))
    for file in tree.rglob("*.py"):
        os.utime(file, (1_000_000_000, 1_000_000_000))
    build.write_zip(second, build.tree_entries(tree, "python"))

    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        assert archive.namelist() == ["python/pkg/a.py", "python/pkg/b.py"]
        assert {info.date_time for info in archive.infolist()} == {build.ZIP_DATE}


def test_given_a_file_in_two_layers_when_checking_overlap_then_build_fails(tmp_path):
    file = write(tmp_path / "module.py")
    layers = {
        "core": [("python/typing_extensions.py", file)],
        "agent": [("python/langchain/__init__.py", file), ("python/typing_extensions.py", file)],
    }

    with pytest.raises(build.BuildError, match=r"agent and core layers both hold"):
        build.check_no_overlap(layers)
    build.check_no_overlap({"core": layers["core"], "agent": layers["agent"][:1]})


def test_given_unchanged_content_when_zipping_again_then_file_is_left_alone(tmp_path):
    source = write(tmp_path / "handler.py", "def lambda_handler(event, context): ...\n")
    archive = tmp_path / "functions" / "f.zip"

    assert build.write_zip(archive, [("handler.py", source)]) is True
    assert build.write_zip(archive, [("handler.py", source)]) is False
    write(source, "def lambda_handler(event, context): return 1\n")
    assert build.write_zip(archive, [("handler.py", source)]) is True


def test_given_two_files_for_one_zip_name_when_zipping_then_build_fails(tmp_path):
    one, two = write(tmp_path / "one.py"), write(tmp_path / "two.py")

    with pytest.raises(build.BuildError, match="more than one file"):
        build.write_zip(tmp_path / "x.zip", [("python/m.py", one), ("python/m.py", two)])


RECORD_LINE = "demo-1.0.dist-info/RECORD,,\n"


def test_given_installed_distributions_when_sizing_then_bytes_go_to_their_owner(tmp_path):
    tree = tmp_path / "python"
    write(tree / "demo" / "__init__.py", "x" * 100)
    write(tree / "demo" / "__pycache__" / "__init__.cpython-312.pyc", "y" * 40)
    info = tree / "demo-1.0.dist-info"
    write(info / "METADATA", "Metadata-Version: 2.1\nName: Demo\nVersion: 1.0\n")
    write(info / "RECORD", "demo/__init__.py,,\ndemo-1.0.dist-info/METADATA,,\n" + RECORD_LINE)
    write(tree / "loose.py", "z" * 7)

    sizes = build.package_sizes(tree, "cpython-312")

    info_bytes = sum(file.stat().st_size for file in info.iterdir())
    assert sizes == {"demo": 100 + 40 + info_bytes, "(unowned)": 7}


# -- functions and sizes ------------------------------------------------------------------------
def test_given_a_missing_handler_when_collecting_sources_then_build_fails_naming_the_file(tmp_path):
    write(tmp_path / "vector_search" / "handler.py")

    with pytest.raises(build.BuildError, match=r"orchestrator/handler\.py does not exist"):
        build.handler_sources(["vector_search", "orchestrator"], tmp_path)


def test_given_handlers_when_collecting_sources_then_each_function_has_its_file(tmp_path):
    handler = write(tmp_path / "vector_search" / "handler.py")

    assert build.handler_sources(["vector_search"], tmp_path) == {"vector_search": handler}


def test_given_the_route_table_when_checking_layers_then_every_function_has_layers_and_a_target():
    from kass.api.routes import FUNCTIONS

    build.check_layer_table(FUNCTIONS)
    assert set(FUNCTIONS) <= set(build.TARGET_BYTES)
    with pytest.raises(build.BuildError, match="webhook_relay"):
        build.check_layer_table([*FUNCTIONS, "webhook_relay"])


def test_given_the_layer_table_then_discord_stacks_last_and_only_discord_handler_carries_it():
    assert build.LAYERS == ("core", "connectors", "agent", "discord")
    assert build.FUNCTION_LAYERS["discord_handler"] == build.LAYERS
    assert build.FUNCTION_LAYERS["orchestrator"] == ("core", "connectors", "agent")
    assert [f for f, layers in build.FUNCTION_LAYERS.items() if "discord" in layers] == [
        "discord_handler"
    ]
    assert build.TARGET_BYTES["discord_handler"] == 200 * MB


def test_given_a_function_skipping_a_lower_layer_when_checking_then_build_fails(monkeypatch):
    monkeypatch.setitem(build.FUNCTION_LAYERS, "data_fetcher", ("core", "agent"))

    with pytest.raises(build.BuildError, match="data_fetcher .* not a prefix"):
        build.check_layer_table(["data_fetcher"])


def test_given_function_zips_and_layer_sizes_when_reporting_then_totals_limits_and_targets_follow(
    tmp_path,
):
    code = {}
    for function in ("orchestrator", "vector_search"):
        archive = tmp_path / f"{function}.zip"
        handler = write(tmp_path / function / "handler.py", "h" * 500)
        build.write_zip(archive, [("handler.py", handler)])
        code[function] = build.unzipped_bytes(archive)
    layers = {"core": 82 * MB, "connectors": 3 * MB, "agent": 197 * MB}

    report = build.size_report(code, layers, ARM_312)

    search = report["functions"]["vector_search"]
    assert search == {
        "code_bytes": 500,
        "layers": {"core": 82 * MB},
        "total_unzipped_bytes": 82 * MB + 500,
        "limit_bytes": 262_144_000,
        "target_bytes": 80 * MB,
        "over_target": True,
        "over_limit": False,
    }
    assert report["functions"]["orchestrator"]["total_unzipped_bytes"] == 282 * MB + 500
    assert build.over_limit(report) == ["orchestrator"]
    assert build.over_target(report) == ["orchestrator", "vector_search"]
    assert report["target"] == {
        "python_version": "3.12",
        "architecture": "arm64",
        "bytecode_compiled_by": None,
    }
    json.dumps(report)  # what dist/sizes.json holds must be JSON


def test_given_sizes_within_targets_when_reporting_then_nothing_is_flagged():
    report = build.size_report({"vector_search": 1_000}, {"core": 10 * MB}, ARM_312)

    assert build.over_limit(report) == []
    assert build.over_target(report) == []
    assert "vector_search" in build.format_report(report)
