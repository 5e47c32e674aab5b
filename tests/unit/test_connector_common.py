"""kass.connectors.common: the updated-since watermark, Retry-After, connector settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic_settings import BaseSettings, SettingsConfigDict

from kass.connectors.common import Watermark, connector_settings, retry_after_seconds
from kass.errors import InvalidInput
from kass.settings import load_settings

T = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
OVERLAP = timedelta(minutes=10)


# -- Watermark ----------------------------------------------------------------------------------
def test_given_a_stored_page_when_the_overlap_is_read_again_then_those_versions_are_skipped():
    mark = Watermark().advanced([("1", T), ("2", T + timedelta(minutes=5))], OVERLAP)

    assert mark.updated_at == T + timedelta(minutes=5)
    assert mark.since(OVERLAP) == T - timedelta(minutes=5)
    assert mark.is_stored("1", T) and mark.is_stored("2", T + timedelta(minutes=5))
    assert not mark.is_stored("1", T + timedelta(minutes=1)), "a newer version is fetched"


def test_given_an_update_shown_late_before_the_watermark_then_it_is_not_taken_as_stored():
    mark = Watermark().advanced([("1", T)], OVERLAP)

    assert not mark.is_stored("9", T - timedelta(minutes=3))


def test_given_items_older_than_the_overlap_when_advanced_then_forgotten_and_below_floor():
    mark = Watermark().advanced([("1", T)], OVERLAP)
    later = mark.advanced([("2", T + timedelta(hours=1))], OVERLAP)

    assert set(later.recent) == {"2"}
    assert later.floor == T + timedelta(minutes=50)
    assert later.is_stored("1", T)


def test_given_more_recent_items_than_the_limit_then_trimmed_and_the_floor_raised():
    items = [(str(n), T + timedelta(seconds=n)) for n in range(10)]

    mark = Watermark().advanced(items, OVERLAP, limit=4)

    assert set(mark.recent) == {"6", "7", "8", "9"}
    assert mark.floor == T + timedelta(seconds=6)


def test_given_limit_zero_when_advanced_then_only_the_newest_update_moves():
    mark = Watermark().advanced([("1", T), ("2", T + timedelta(minutes=1))], OVERLAP, limit=0)

    assert mark.updated_at == T + timedelta(minutes=1) and mark.recent == {}


def test_given_a_dumped_watermark_when_loaded_then_equal_and_naive_times_are_utc():
    mark = Watermark().advanced([("1", datetime(2026, 5, 1, 9, 0))], OVERLAP)

    assert Watermark.load({"watermark": mark.dump()}) == mark
    assert mark.updated_at == T
    assert Watermark.load(None) == Watermark()


# -- Retry-After --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after": "0"}, 0.0),
        ({"Retry-After": "-3"}, 0.0),
        ({"Retry-After": "Fri, 01 May 2026 09:00:30 GMT"}, 30.0),
        ({"Retry-After": "soon"}, 1.0),
        ({}, 1.0),
    ],
)
def test_given_retry_after_headers_when_read_then_seconds_to_wait(headers, expected):
    assert retry_after_seconds(headers, now=T) == expected


# -- settings -----------------------------------------------------------------------------------
class _DemoSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KASS_DEMO_")
    token: str
    per_page: int = 100


def test_given_the_local_profile_when_building_settings_then_the_environment_is_read(monkeypatch):
    monkeypatch.setenv("KASS_DEMO_TOKEN", "t0ken")

    demo = connector_settings(_DemoSettings, "demo", load_settings())

    assert demo.token == "t0ken" and demo.per_page == 100


def test_given_a_missing_setting_when_building_then_one_line_invalid_input(monkeypatch):
    monkeypatch.delenv("KASS_DEMO_TOKEN", raising=False)

    with pytest.raises(InvalidInput, match="demo connector setting token: Field required"):
        connector_settings(_DemoSettings, "demo", load_settings())


def test_given_the_aws_profile_when_building_settings_then_the_secret_json_wins(monkeypatch):
    from moto import mock_aws

    monkeypatch.setenv("KASS_PROFILE", "aws")
    monkeypatch.setenv("KASS_AWS_CONNECTOR_SECRET_PREFIX", "kass/dev/connectors/")
    monkeypatch.setenv("KASS_DEMO_TOKEN", "from-env")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        import boto3

        secrets = boto3.client("secretsmanager", region_name="us-east-1")
        secrets.create_secret(
            Name="kass/dev/connectors/demo", SecretString='{"token": "from-secret", "per_page": 20}'
        )
        demo = connector_settings(_DemoSettings, "demo", load_settings())
        secrets.put_secret_value(SecretId="kass/dev/connectors/demo", SecretString="[1, 2]")
        with pytest.raises(InvalidInput, match="not a JSON object"):
            connector_settings(_DemoSettings, "demo", load_settings())

    assert (demo.token, demo.per_page) == ("from-secret", 20)
