"""terraform/envs: three environments that cannot drift apart or away from the Python code.

The environments share their code (main, variables, outputs, versions, backend, tests): only
terraform.tfvars and backend.hcl differ. Read with `hcl2` (bc-python-hcl2, as in
test_terraform_modules.py), which wraps attribute values in one-element lists.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic_settings import BaseSettings

from kass import settings as kass_settings
from kass.api.routes import FUNCTIONS, HTTP_ROUTES

hcl2 = pytest.importorskip("hcl2", reason="bc-python-hcl2 (dev extra) reads the environments")

ROOT = Path(__file__).resolve().parents[2]
ENVS_DIR = ROOT / "terraform" / "envs"
ENVS = ("dev", "staging", "prod")
SHARED = (
    "main.tf",
    "variables.tf",
    "outputs.tf",
    "versions.tf",
    "backend.tf",
    "tests/env.tftest.hcl",
)

_spec = importlib.util.spec_from_file_location("build_lambda", ROOT / "scripts" / "build_lambda.py")
assert _spec and _spec.loader
build_lambda = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("build_lambda", build_lambda)
_spec.loader.exec_module(build_lambda)


def load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        parsed: dict[str, Any] = hcl2.load(handle)
    return parsed


def unwrap(value: Any) -> Any:
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def modules(env: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for entry in load(ENVS_DIR / env / "main.tf")["module"]:
        found.update(entry)
    return found


def tfvars(env: str) -> dict[str, Any]:
    return {k: unwrap(v) for k, v in load(ENVS_DIR / env / "terraform.tfvars").items()}


def test_given_envs_dir_then_it_holds_exactly_dev_staging_prod() -> None:
    assert sorted(p.name for p in ENVS_DIR.iterdir() if p.is_dir()) == sorted(ENVS)


@pytest.mark.parametrize("name", SHARED)
def test_given_shared_file_then_it_is_identical_in_every_env(name: str) -> None:
    texts = {env: (ENVS_DIR / env / name).read_bytes() for env in ENVS}
    assert texts["staging"] == texts["dev"] and texts["prod"] == texts["dev"], (
        f"terraform/envs/*/{name} differ: staging and prod link to dev's file; "
        "values belong in terraform.tfvars"
    )


def test_given_fixture_zips_then_they_are_identical_in_every_env() -> None:
    def zips(env: str) -> dict[str, bytes]:
        base = ENVS_DIR / env / "tests" / "fixtures" / "zips"
        return {str(p.relative_to(base)): p.read_bytes() for p in sorted(base.rglob("*.zip"))}

    assert zips("dev") and zips("staging") == zips("dev") == zips("prod")


@pytest.mark.parametrize("env", ENVS)
def test_given_env_then_tfvars_and_backend_name_it_and_its_account(env: str) -> None:
    values = tfvars(env)
    backend = {k: unwrap(v) for k, v in load(ENVS_DIR / env / "backend.hcl").items()}
    assert values["environment"] == env
    assert backend["key"] == f"kass/{env}/terraform.tfstate"
    assert backend["bucket"] == f"kass-tfstate-{values['account_id']}"
    assert backend["region"] == values["region"]
    assert backend["use_lockfile"] is True and backend["encrypt"] is True


def test_given_envs_then_each_has_its_own_account_id() -> None:
    accounts = [tfvars(env)["account_id"] for env in ENVS]
    assert len(set(accounts)) == len(accounts)


def test_given_main_tf_then_its_routes_are_kass_api_routes() -> None:
    (local_blocks,) = load(ENVS_DIR / "dev" / "main.tf")["locals"]
    routes = unwrap(local_blocks["http_routes"])
    assert [
        (r["method"], r["path"], r["function"], r.get("api_key_required", True)) for r in routes
    ] == [(r.method, r.path, r.function, r.api_key_required) for r in HTTP_ROUTES]


def test_given_main_tf_then_it_deploys_every_function_from_its_zip_with_its_layers() -> None:
    lambdas = {
        name: body
        for name, body in modules("dev").items()
        if unwrap(body["source"]) == "../../modules/lambda"
    }
    assert set(lambdas) == set(FUNCTIONS)
    for name, body in lambdas.items():
        assert unwrap(body["name"]) == name
        assert unwrap(body["zip_path"]) == f"${{local.dist_dir}}/functions/{name}.zip"
        layers = re.findall(r"module\.(\w+)_layer\.arn", str(body["layer_arns"]))
        assert tuple(layers) == build_lambda.FUNCTION_LAYERS[name], name
    layer_zips = {
        unwrap(body["name"]): unwrap(body["zip_path"])
        for body in modules("dev").values()
        if unwrap(body["source"]) == "../../modules/lambda_layer"
    }
    assert layer_zips == {
        layer: f"${{local.dist_dir}}/layers/{layer}.zip" for layer in build_lambda.LAYERS
    }


def test_given_main_tf_then_stream_handler_answers_like_the_orchestrator() -> None:
    found = modules("dev")
    stream, orchestrator = found["stream_handler"], found["orchestrator"]
    # The same settings, but the page's origin: only REST responses need CORS headers.
    orchestrator_env = unwrap(orchestrator["environment_variables"])
    assert unwrap(stream["environment_variables"]) == orchestrator_env.replace("local.env_web,", "")
    statements = re.findall(r"(?:local|module)\.\w+", str(stream["policy_statements"]))
    assert statements == ["local.chat_policy_statements", "local.stream_handler_statements"]
    assert unwrap(orchestrator["policy_statements"]) == "${local.chat_policy_statements}"
    websocket = unwrap(found["api"]["websocket_function"])
    assert websocket == {
        "function_name": "${module.stream_handler.function_name}",
        "invoke_arn": "${module.stream_handler.invoke_arn}",
        "role_name": "${module.stream_handler.role_name}",
    }


def main_locals(env: str = "dev") -> dict[str, Any]:
    found: dict[str, Any] = {}
    for entry in load(ENVS_DIR / env / "main.tf")["locals"]:
        found.update({name: unwrap(value) for name, value in entry.items()})
    return found


def test_given_main_tf_then_stream_handler_hands_turns_to_itself_idempotently() -> None:
    """$default's asynchronous self-invocation: its own ARN only, records in the idempotency
    table, and a short event age (a turn nobody waits for any more is not run)."""
    names = main_locals()
    own = names["stream_handler_arn"]
    assert own.endswith(":function:${local.name_prefix}-stream-handler")
    statements = names["stream_handler_statements"]
    assert statements[:2] == ["${local.connections_statement}", "${local.idempotency_statement}"]
    invoking = [s for s in statements[2:] if "lambda:InvokeFunction" in s["actions"]]
    assert invoking == [
        {
            "sid": "InvokeOwnTurns",
            "actions": ["lambda:InvokeFunction"],
            "resources": ["${local.stream_handler_arn}", "${local.stream_handler_arn}:*"],
        }
    ]
    assert names["idempotency_statement"]["resources"] == ["${local.tables.idempotency}"]
    stream = modules("dev")["stream_handler"]
    assert unwrap(stream["async_max_event_age_seconds"]) <= 120
    assert unwrap(stream["async_max_retry_attempts"]) <= 1
    timeout = tfvars("dev")["functions"]["stream_handler"]["timeout_seconds"]
    assert timeout >= unwrap(stream["async_max_event_age_seconds"]), (
        "a timed-out turn is not retried: by then its event is older than the maximum age"
    )


def test_given_main_tf_then_the_functions_the_page_calls_allow_its_origin() -> None:
    found = modules("dev")
    for function in ("orchestrator", "vector_search"):  # the REST routes the page calls
        assert "local.env_web" in str(found[function]["environment_variables"]), function
    text = (ENVS_DIR / "dev" / "main.tf").read_text(encoding="utf-8")
    assert "env_web    = { KASS_CORS_ALLOW_ORIGIN = local.web_origin }" in text
    assert unwrap(found["api"]["cors_allow_origin"]) == "${local.web_origin}"


@pytest.mark.parametrize("env", ENVS)
def test_given_env_then_the_page_has_its_api_key_and_discord_none(env: str) -> None:
    names = tfvars(env)["api_key_names"]
    assert "web" in names, "the web page's config.json carries the 'web' key"
    assert "discord" not in names, "POST /discord is keyless: Discord signs its requests"


def _setting_names() -> set[str]:
    names: set[str] = set()
    for obj in vars(kass_settings).values():
        if isinstance(obj, type) and issubclass(obj, BaseSettings) and obj is not BaseSettings:
            prefix = obj.model_config.get("env_prefix", "")
            names.update(f"{prefix}{field}".upper() for field in obj.model_fields)
    return names


def test_given_main_tf_then_every_kass_variable_it_sets_is_a_setting() -> None:
    text = (ENVS_DIR / "dev" / "main.tf").read_text(encoding="utf-8")
    code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    used = set(re.findall(r"\b(KASS_[A-Z0-9_]+)\s*=", code))
    assert used, "main.tf sets no KASS_* variable"
    assert used <= _setting_names(), f"not kass settings: {sorted(used - _setting_names())}"


def test_given_versions_tf_then_the_provider_guards_the_account_and_tags_everything() -> None:
    (provider,) = load(ENVS_DIR / "dev" / "versions.tf")["provider"]
    aws = provider["aws"]
    assert unwrap(aws["allowed_account_ids"]) == ["${var.account_id}"]
    tags = unwrap(unwrap(aws["default_tags"])["tags"])
    assert tags == {
        "project": "kass",
        "environment": "${var.environment}",
        "managed_by": "terraform",
    }


def test_given_variables_tf_then_every_variable_is_typed_and_described() -> None:
    for entry in load(ENVS_DIR / "dev" / "variables.tf")["variable"]:
        for name, body in entry.items():
            assert "type" in body, f"variable {name} has no type"
            assert unwrap(body["description"]).strip(), f"variable {name} undescribed"
