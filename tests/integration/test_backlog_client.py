"""The Backlog API v2 client against the HTTP double: auth, errors, rate limits, retries."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.doubles.backlog_api import BacklogDouble, FakeTime

from kass.connectors.backlog_client import BacklogClient
from kass.errors import InvalidInput, NotFound, SourceError

RESET = FakeTime.START + 600  # an X-RateLimit-Reset the tests script (epoch seconds)


@pytest.fixture()
def clock() -> FakeTime:
    return FakeTime()


@pytest.fixture()
def backlog(clock: FakeTime) -> Iterator[BacklogDouble]:
    double = BacklogDouble(clock=clock.time).start()
    double.generate("APP", 3)
    yield double
    double.stop()


def make_client(backlog: BacklogDouble, clock: FakeTime, **kwargs) -> BacklogClient:
    kwargs.setdefault("api_key", backlog.api_key)
    return BacklogClient(backlog.url, sleep=clock.sleep, clock=clock.time, **kwargs)


def test_given_an_api_key_when_reading_a_project_then_the_key_goes_as_the_apikey_parameter(
    backlog, clock
):
    project = make_client(backlog, clock).project("APP")
    assert project.project_key == "APP"
    assert backlog.requests[-1].params["apiKey"] == [backlog.api_key]


def test_given_an_oauth_token_when_reading_then_it_goes_as_a_bearer_header(clock):
    double = BacklogDouble(api_key="unused", oauth_token="oauth-123", clock=clock.time).start()
    try:
        double.add_project("APP")
        client = BacklogClient(double.url, oauth_token="oauth-123", sleep=clock.sleep)
        assert client.project("APP").project_key == "APP"
        assert "apiKey" not in double.requests[-1].params
    finally:
        double.stop()


def test_given_a_wrong_api_key_when_calling_then_source_error_with_backlogs_message(backlog, clock):
    client = make_client(backlog, clock, api_key="wrong")
    with pytest.raises(SourceError, match=r"rejected the API key for 127\.0\.0\.1.*Authentication"):
        client.priorities()
    assert len(backlog.requests) == 1, "a 401 is not retried"


def test_given_no_access_when_calling_then_403_is_a_source_error(backlog, clock):
    backlog.fail_next(403, "/projects/APP", message="No permission.")
    with pytest.raises(SourceError, match="denied access.*No permission"):
        make_client(backlog, clock).project("APP")


def test_given_an_unknown_project_when_reading_it_then_not_found_names_it(backlog, clock):
    with pytest.raises(NotFound, match="no Backlog project 'NOPE'.*No project"):
        make_client(backlog, clock).project("NOPE")


def test_given_a_429_with_reset_when_calling_then_it_waits_until_the_reset_and_retries(
    backlog, clock
):
    backlog.fail_next(429, "/priorities", headers={"X-RateLimit-Reset": str(RESET)})
    clock.now = RESET - 42
    priorities = make_client(backlog, clock).priorities()
    assert [p.id for p in priorities] == [2, 3, 4]
    assert clock.sleeps == [42]
    assert len(backlog.calls("GET", "/priorities")) == 2


def test_given_a_429_with_retry_after_when_calling_then_retry_after_wins(backlog, clock):
    backlog.fail_next(
        429, "/priorities", headers={"Retry-After": "7", "X-RateLimit-Reset": str(RESET)}
    )
    make_client(backlog, clock).priorities()
    assert clock.sleeps == [7]


def test_given_429s_past_the_retries_when_calling_then_source_error(backlog, clock):
    backlog.fail_next(429, "/priorities", times=3, headers={"X-RateLimit-Reset": str(RESET)})
    with pytest.raises(SourceError, match="rate limit"):
        make_client(backlog, clock, max_retries=2).priorities()
    assert len(backlog.calls("GET", "/priorities")) == 3


def test_given_the_quota_used_up_when_calling_again_then_it_waits_for_the_reset_first(clock):
    double = BacklogDouble(rate_limit=2, clock=clock.time).start()
    try:
        double.add_project("APP")
        client = make_client(double, clock)
        for _ in range(3):
            client.priorities()
        # The 2nd answer says Remaining 0 and Reset = the window's start + 60 s: the 3rd request
        # waits those 60 s (no time passed between the calls) instead of collecting a 429.
        assert clock.sleeps == [60]
        assert len(double.requests) == 3
    finally:
        double.stop()


def test_given_5xx_when_reading_then_it_retries_with_backoff(backlog, clock):
    backlog.fail_next(503, "/priorities", times=2)
    assert make_client(backlog, clock).priorities()
    assert clock.sleeps == [1, 2]


def test_given_a_5xx_when_creating_an_issue_then_no_retry_and_nothing_duplicated(backlog, clock):
    backlog.fail_next(500, "/issues")
    client = make_client(backlog, clock)
    with pytest.raises(SourceError, match=r"failed \(500\)"):
        client.create_issue(project_id=101, summary="x", issue_type_id=11, priority_id=3)
    assert len(backlog.calls("POST", "/issues")) == 1


def test_given_a_bad_parameter_when_listing_then_invalid_input_with_backlogs_message(
    backlog, clock
):
    with pytest.raises(InvalidInput, match="count must be between 1 and 100"):
        make_client(backlog, clock).issues([101], count=500)


def test_given_more_than_100_comments_when_reading_all_then_pages_by_min_id(backlog, clock):
    key = backlog.generate("APP", 1, comments=0)[0]
    for n in range(150):
        backlog.add_comment(key, f"comment {n}")
    comments = make_client(backlog, clock).all_comments(key)
    assert [c.content for c in comments] == [f"comment {n}" for n in range(150)]
    pages = backlog.calls("GET", f"/issues/{key}/comments")
    assert len(pages) == 2
    assert pages[1].params["minId"] == [str(comments[99].id)]


def test_given_date_bounds_when_listing_issues_then_they_go_as_dates_only(backlog, clock):
    from datetime import date

    make_client(backlog, clock).issues(
        [101], updated_since=date(2024, 5, 1), updated_until=date(2024, 5, 2)
    )
    params = backlog.requests[-1].params
    assert params["updatedSince"] == ["2024-05-01"]
    assert params["updatedUntil"] == ["2024-05-02"]
    assert params["projectId[]"] == ["101"]
