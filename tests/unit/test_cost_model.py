"""scripts/cost_model.py: the per-environment cost model behind docs/cost.md."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from pathlib import Path

import pytest

pytest.importorskip("hcl2", reason="bc-python-hcl2 (dev extra) reads the tfvars")

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "cost_model.py"
_spec = importlib.util.spec_from_file_location("cost_model", SCRIPT)
assert _spec and _spec.loader
cost_model = importlib.util.module_from_spec(_spec)
sys.modules["cost_model"] = cost_model
_spec.loader.exec_module(cost_model)


def by_env() -> dict[str, object]:
    return {est.env: est for est in cost_model.estimates()}


def component(env: str, name: str) -> object:
    est = by_env()[env]
    return next(line for line in est.lines if line.component == name)


def test_given_the_envs_when_the_tables_are_rendered_then_docs_cost_md_holds_them() -> None:
    workload = cost_model.Workload()
    tables = cost_model.markdown(cost_model.estimates(), workload)
    tables += "\n" + cost_model.assumptions_markdown(workload)
    doc = (ROOT / "docs" / "cost.md").read_text(encoding="utf-8")
    assert cost_model.render_doc(doc, tables) == doc, (
        "docs/cost.md is stale: run .venv/bin/python scripts/cost_model.py --write-doc docs/cost.md"
    )


def test_given_weekday_office_hours_then_hours_per_month_are_hours_per_day_times_weekdays() -> None:
    hours = cost_model.office_hours_per_month(
        "cron(45 8 ? * MON-FRI *)", "cron(0 19 ? * MON-FRI *)"
    )
    assert hours == pytest.approx(10.25 * 365.25 / 12 * 5 / 7)
    assert round(hours) == 223


def test_given_rate_schedules_then_runs_per_month_follow_the_rate() -> None:
    assert cost_model.runs_per_month("rate(15 minutes)") == pytest.approx(730 * 4)
    assert cost_model.runs_per_month("rate(1 hour)") == pytest.approx(730)
    assert cost_model.runs_per_month("rate(1 day)") == pytest.approx(730 / 24)


def test_given_a_stop_before_the_start_then_the_schedule_is_rejected() -> None:
    with pytest.raises(cost_model.CostModelError, match="not after"):
        cost_model.office_hours_per_month("cron(0 19 ? * MON-FRI *)", "cron(0 9 ? * MON-FRI *)")


def test_given_serverless_with_standby_then_prod_pays_two_ocus_around_the_clock() -> None:
    line = component("prod", "OpenSearch")
    assert line.idle == pytest.approx(2 * 0.24 * 730, rel=0.01)
    staging = component("staging", "OpenSearch")
    assert staging.idle == pytest.approx(1 * 0.24 * 730, rel=0.01)


def test_given_dev_values_then_dev_idles_far_below_staging_and_prod() -> None:
    envs = by_env()
    assert envs["dev"].idle < 100 < envs["staging"].idle < envs["prod"].idle
    assert component("dev", "SageMaker 7B endpoint").idle == 0


def test_given_each_env_then_its_budget_covers_its_idle_cost() -> None:
    for env, est in by_env().items():
        values = cost_model.load_values(cost_model.ENVS_DIR / env)
        assert values["monthly_budget_usd"] > est.idle, f"{env}: budget below the idle cost"


def test_given_more_questions_then_only_the_load_column_grows() -> None:
    values = cost_model.load_values(cost_model.ENVS_DIR / "prod")
    base = cost_model.estimate("prod", values, cost_model.Workload())
    busy = cost_model.estimate(
        "prod", values, replace(cost_model.Workload(), questions_per_day=4000)
    )
    assert busy.idle == pytest.approx(base.idle)
    assert busy.load > base.load


def test_given_an_instance_type_without_a_price_then_the_error_says_where_to_add_it() -> None:
    values = cost_model.load_values(cost_model.ENVS_DIR / "prod")
    values["sagemaker_instance_type"] = "ml.g6.12xlarge"
    with pytest.raises(cost_model.CostModelError, match="add it to PRICES"):
        cost_model.estimate("prod", values, cost_model.Workload())
