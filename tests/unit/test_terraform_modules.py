"""terraform/modules: layout, documented interfaces, and no drift from the Python adapters.

The modules are read with `hcl2` from bc-python-hcl2 (the parser checkov itself uses; a dev
dependency), which wraps every attribute value in a one-element list.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from kass.adapters.aws.dynamodb import TABLES
from kass.settings import AwsSettings

hcl2 = pytest.importorskip("hcl2", reason="bc-python-hcl2 (dev extra) reads the modules")

MODULES_DIR = Path(__file__).resolve().parents[2] / "terraform" / "modules"
MODULES = sorted(p.name for p in MODULES_DIR.iterdir() if p.is_dir() and any(p.glob("*.tf")))
REQUIRED_FILES = ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md")
PREFIX_PATTERN = "^kass-(dev|staging|prod)"


def load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        parsed: dict[str, Any] = hcl2.load(handle)
    return parsed


def blocks(module: str, kind: str) -> dict[str, dict[str, Any]]:
    """Every `kind` block (variable, output, ...) of the module by name, across its .tf files."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted((MODULES_DIR / module).glob("*.tf")):
        for entry in load(path).get(kind, []):
            found.update(entry)
    return found


def attr(block: dict[str, Any], name: str) -> Any:
    value = block[name]
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def readme_table(module: str, heading: str) -> set[str]:
    """Names in the first column (`name`) of the table under `## <heading>` in the README."""
    text = (MODULES_DIR / module / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"^## {heading}\s*$(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, f"{module}/README.md has no '## {heading}' section"
    return set(re.findall(r"^\|\s*`([A-Za-z0-9_]+)`\s*\|", match.group(1), re.MULTILINE))


def test_given_modules_dir_then_it_holds_modules() -> None:
    assert MODULES, "no module under terraform/modules"


@pytest.mark.parametrize("module", MODULES)
def test_given_module_then_it_has_the_standard_files(module: str) -> None:
    missing = [name for name in REQUIRED_FILES if not (MODULES_DIR / module / name).is_file()]
    assert not missing, f"terraform/modules/{module} lacks {', '.join(missing)}"


@pytest.mark.parametrize("module", MODULES)
def test_given_module_then_versions_pin_terraform_and_the_mirrored_aws_provider(
    module: str,
) -> None:
    (terraform,) = load(MODULES_DIR / module / "versions.tf")["terraform"]
    assert attr(terraform, "required_version") == ">= 1.6"
    providers = attr(terraform, "required_providers")
    aws = attr(providers, "aws")
    assert aws["source"] == "hashicorp/aws"
    assert aws["version"] == "~> 5.100"


@pytest.mark.parametrize("module", MODULES)
def test_given_module_then_every_variable_is_typed_and_described(module: str) -> None:
    for name, variable in blocks(module, "variable").items():
        assert "type" in variable, f"{module}: variable {name} has no type"
        assert attr(variable, "description").strip(), f"{module}: variable {name} undescribed"


@pytest.mark.parametrize("module", MODULES)
def test_given_module_then_every_output_is_described(module: str) -> None:
    for name, output in blocks(module, "output").items():
        assert attr(output, "description").strip(), f"{module}: output {name} undescribed"


@pytest.mark.parametrize("module", MODULES)
def test_given_module_then_name_prefix_is_validated_as_kass_env(module: str) -> None:
    variable = blocks(module, "variable").get("name_prefix")
    assert variable is not None, f"{module}: no name_prefix variable"
    conditions = [attr(rule, "condition") for rule in variable.get("validation", [])]
    assert any(PREFIX_PATTERN in condition for condition in conditions), (
        f"{module}: name_prefix is not validated against {PREFIX_PATTERN}"
    )


@pytest.mark.parametrize("module", MODULES)
def test_given_module_readme_then_its_tables_list_exactly_the_variables_and_outputs(
    module: str,
) -> None:
    assert readme_table(module, "Inputs") == set(blocks(module, "variable")), (
        f"{module}/README.md Inputs table is out of sync with its variables"
    )
    assert readme_table(module, "Outputs") == set(blocks(module, "output")), (
        f"{module}/README.md Outputs table is out of sync with its outputs"
    )


# -- dynamodb: the tables must be exactly those of kass.adapters.aws.dynamodb ------------------


def _dynamodb_tables() -> dict[str, dict[str, Any]]:
    resources: dict[str, dict[str, Any]] = {}
    for entry in load(MODULES_DIR / "dynamodb" / "main.tf").get("resource", []):
        resources.update(entry.get("aws_dynamodb_table", {}))
    return resources


def _key_schema(block: dict[str, Any]) -> list[tuple[str, str]]:
    schema = [(attr(block, "hash_key"), "HASH")]
    if "range_key" in block:
        schema.append((attr(block, "range_key"), "RANGE"))
    return schema


def _python_key_schema(key_schema: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(key["AttributeName"], key["KeyType"]) for key in key_schema]


def test_given_dynamodb_module_then_it_defines_exactly_the_python_tables() -> None:
    assert set(_dynamodb_tables()) == set(TABLES)


@pytest.mark.parametrize("kind", sorted(TABLES))
def test_given_dynamodb_table_then_keys_attributes_and_billing_match_python(kind: str) -> None:
    definition_of, _ = TABLES[kind]
    expected = definition_of(f"kass-dev-{kind}")
    table = _dynamodb_tables()[kind]

    assert _key_schema(table) == _python_key_schema(expected["KeySchema"])
    attributes = {(attr(a, "name"), attr(a, "type")) for a in table.get("attribute", [])}
    assert attributes == {
        (a["AttributeName"], a["AttributeType"]) for a in expected["AttributeDefinitions"]
    }
    assert attr(table, "billing_mode") == expected["BillingMode"]


@pytest.mark.parametrize("kind", sorted(TABLES))
def test_given_dynamodb_table_then_global_indexes_match_python(kind: str) -> None:
    definition_of, _ = TABLES[kind]
    expected = definition_of(f"kass-dev-{kind}").get("GlobalSecondaryIndexes", [])
    indexes = _dynamodb_tables()[kind].get("global_secondary_index", [])

    assert len(indexes) == len(expected)
    by_name = {attr(index, "name"): index for index in indexes}
    for python_index in expected:
        index = by_name[python_index["IndexName"]]
        assert _key_schema(index) == _python_key_schema(python_index["KeySchema"])
        projection = python_index["Projection"]
        assert attr(index, "projection_type") == projection["ProjectionType"]
        assert sorted(
            attr(index, "non_key_attributes") if "non_key_attributes" in index else []
        ) == (sorted(projection.get("NonKeyAttributes", [])))


@pytest.mark.parametrize("kind", sorted(TABLES))
def test_given_dynamodb_table_then_ttl_attribute_matches_python(kind: str) -> None:
    _, ttl_attribute = TABLES[kind]
    ttl = _dynamodb_tables()[kind].get("ttl", [])

    if ttl_attribute is None:
        assert not ttl or not attr(ttl[0], "enabled"), f"{kind} has no TTL in Python"
    else:
        assert len(ttl) == 1
        assert attr(ttl[0], "attribute_name") == ttl_attribute
        assert attr(ttl[0], "enabled") is True


# Rows that die with their WebSocket connection: nothing to recover (an inline checkov skip).
WITHOUT_PITR = {"connections"}


@pytest.mark.parametrize("kind", sorted(TABLES))
def test_given_dynamodb_table_then_it_is_encrypted_recoverable_and_protected(kind: str) -> None:
    table = _dynamodb_tables()[kind]

    if kind in WITHOUT_PITR:
        assert "point_in_time_recovery" not in table
    else:
        assert attr(attr(table, "point_in_time_recovery"), "enabled") is True
    encryption = attr(table, "server_side_encryption")
    assert attr(encryption, "enabled") is True
    assert attr(encryption, "kms_key_arn") == "${var.kms_key_arn}"
    assert attr(table, "deletion_protection_enabled") == "${var.deletion_protection}"


def test_given_dynamodb_names_then_prefix_kass_dev_gives_the_settings_defaults() -> None:
    (locals_block,) = load(MODULES_DIR / "dynamodb" / "main.tf")["locals"]
    names = attr(locals_block, "table_names")
    defaults = AwsSettings.model_fields
    for kind in TABLES:
        assert names[kind] == f"${{var.name_prefix}}-{kind}"
        assert defaults[f"{kind}_table"].default == f"kass-dev-{kind}"


@pytest.mark.parametrize(
    ("module", "output"), [("dynamodb", "environment_variables"), ("s3", "environment_variables")]
)
def test_given_environment_output_then_every_key_is_a_kass_aws_setting(
    module: str, output: str
) -> None:
    value = attr(blocks(module, "output")[output], "value")
    settings = {f"KASS_AWS_{name.upper()}" for name in AwsSettings.model_fields}
    assert set(value) <= settings, f"{module}.{output} sets unknown settings"


# -- scripts/terraform_validate_root.py: the one root `make tf-validate` validates modules by ---

_spec = importlib.util.spec_from_file_location(
    "terraform_validate_root", MODULES_DIR.parents[1] / "scripts" / "terraform_validate_root.py"
)
assert _spec and _spec.loader
validate_root = importlib.util.module_from_spec(_spec)
sys.modules["terraform_validate_root"] = validate_root  # dataclasses look their module up
_spec.loader.exec_module(validate_root)


@pytest.mark.parametrize("module", MODULES)
def test_given_real_module_then_script_finds_the_same_required_variables_as_hcl(
    module: str,
) -> None:
    expected = {name for name, v in blocks(module, "variable").items() if "default" not in v}

    found = validate_root.read_module(MODULES_DIR / module)

    assert set(found.required) == expected


def test_given_modules_when_root_rendered_then_each_is_called_with_unknown_required_inputs(
    tmp_path: Path,
) -> None:
    modules = tmp_path / "modules"
    (modules / "alpha").mkdir(parents=True)
    (modules / "alpha" / "variables.tf").write_text(
        'variable "name_prefix" {\n  type = string\n}\n\n'
        'variable "size" {\n  type    = number\n  default = 1\n\n'
        '  validation {\n    condition     = var.size > 0\n    error_message = "x"\n  }\n}\n'
    )
    (modules / "beta").mkdir()
    (modules / "beta" / "versions.tf").write_text(
        'terraform {\n  required_providers {\n    aws = {\n      source = "hashicorp/aws"\n'
        "      configuration_aliases = [aws.us_east_1]\n    }\n  }\n}\n"
    )
    (modules / "not-a-module").mkdir()
    output = tmp_path / "build" / "root"

    found = validate_root.write_root(modules, output)
    text = (output / "main.tf").read_text()

    assert [m.name for m in found] == ["alpha", "beta"]
    assert 'source = "../../modules/alpha"' in text
    assert "name_prefix = var.alpha__name_prefix" in text
    assert "size =" not in text  # has a default
    assert 'variable "alpha__name_prefix" {}' in text
    assert 'provider "aws" {\n  alias = "us_east_1"\n}' in text
    assert "providers = { aws = aws, aws.us_east_1 = aws.us_east_1 }" in text


def test_given_unchanged_modules_when_root_written_again_then_file_is_not_rewritten(
    tmp_path: Path,
) -> None:
    output = tmp_path / "root"
    validate_root.write_root(MODULES_DIR, output)
    main = output / "main.tf"
    os.utime(main, (1_000_000, 1_000_000))

    validate_root.write_root(MODULES_DIR, output)

    assert main.stat().st_mtime == 1_000_000  # so `terraform init` is not redone
