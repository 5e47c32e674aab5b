"""The web page (web/) in Chromium against `kass serve` with the sample workspace.

The page streams answers over the WebSocket, links `[n]` markers and sources to the citations,
lets its user confirm or cancel a proposed Backlog ticket (the Backlog double records what is
created), lists and reopens conversations, works by keyboard alone and on a phone, and explains
failures: API down, rate limited, unauthorized, streaming error frames.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect
from tests.browser.harness import kass_env, record_frames, start_kass_serve, stop

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

QUESTION = "Why did login fail after the 2.3 release?"
BADGES = {"gitlab": "GitLab", "slack": "Slack", "backlog": "Backlog"}
# The sample citations' hosts: the browser has no network, so their pages are answered here.
SOURCE_HOSTS = re.compile(r"^https://(tsubame\.slack\.com|gitlab\.example\.com)/")


def open_page(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("body")).to_have_attribute("data-ready", "true")


def ask(page: Page, text: str) -> Any:
    """Send `text`; the locator of its answer once complete (aria-busy back to false)."""
    before = page.locator("article.assistant").count()
    page.get_by_role("textbox", name="Message").fill(text)
    page.get_by_role("button", name="Send").click()
    answer = page.locator("article.assistant").nth(before)
    expect(answer).to_have_attribute("aria-busy", "false")
    return answer


def configure(page: Page, **config: Any) -> None:
    """Serve the page this config.json instead of the local one (as a deploy would write)."""
    body = json.dumps({"apiUrl": "", "streamUrl": "/stream", "apiKey": None, **config})
    page.route(
        "**/config.json", lambda route: route.fulfill(body=body, content_type="application/json")
    )


def gateway_answer(status: int, message: str):
    """API Gateway's own response (a gateway response): `{"message": ...}`."""

    def handle(route: Route) -> None:
        route.fulfill(status=status, json={"message": message}, headers={"x-amzn-ErrorType": "x"})

    return handle


# -- answers ----------------------------------------------------------------------------------
def test_given_a_question_when_asked_then_text_streams_and_citations_link_to_their_sources(
    page, served
):
    frames = record_frames(page)
    page.context.route(
        SOURCE_HOSTS, lambda route: route.fulfill(body="the source", content_type="text/plain")
    )
    open_page(page, served.url)

    answer = ask(page, QUESTION)

    kinds = [frame["type"] for frame in frames]
    assert "delta" in kinds and "done" in kinds, kinds
    assert kinds.index("delta") < kinds.index("done"), "text streamed before the final answer"
    response = next(frame["response"] for frame in frames if frame["type"] == "done")
    citations = response["citations"]
    assert citations, "the sample question is answered with citations"
    markers = answer.locator(".text a.cite")
    assert markers.count() >= 1
    for index in range(markers.count()):
        marker = markers.nth(index)
        n = int(marker.inner_text().strip("[]"))
        assert marker.get_attribute("href") == citations[n - 1]["link"]
    expect(answer.locator(".text")).to_have_text(response["text"])  # authoritative, not the deltas
    sources = answer.locator("ol.sources li")
    expect(sources).to_have_count(len(citations))
    for index, citation in enumerate(citations):
        expect(sources.nth(index).locator(".badge")).to_have_text(BADGES[citation["source"]])
        expect(sources.nth(index).locator("a")).to_have_attribute("href", citation["link"])
    cost = response["usage"]["cost_usd"]
    expect(answer.locator(".meta")).to_have_text(f"{response['tier']} · ${cost}")

    with page.expect_popup() as popup:
        markers.first.click()
    opened = popup.value
    opened.wait_for_load_state()
    n = int(markers.first.inner_text().strip("[]"))
    assert opened.url == citations[n - 1]["link"]
    assert "the source" in opened.content()


def test_given_an_answer_with_markup_and_a_script_link_when_shown_then_both_stay_inert(
    page, served
):
    """Model and document text are text: no markup runs, no `javascript:` link is clickable."""
    configure(page, streamUrl=None)
    hostile = {
        "conversation_id": "c-hostile",
        "message_id": "m-1",
        "text": 'See <img src=x onerror="window.pwned=1"> here [1] and [2].',
        "citations": [
            {
                "n": 1,
                "chunk_id": "k1",
                "doc_id": "d1",
                "title": "<b>bold</b>",
                "source": "wiki",
                "location": "wiki/page.md",
                "link": "javascript:window.pwned=2",
                "snippet": "",
            },
            {
                "n": 2,
                "chunk_id": "k2",
                "doc_id": "d2",
                "title": "MR",
                "source": "gitlab",
                "location": "https://gitlab.example.com/a/-/merge_requests/1",
                "link": "https://gitlab.example.com/a/-/merge_requests/1",
                "snippet": "",
            },
        ],
        "found": True,
        "tier": "haiku",
        "route": ["haiku"],
        "fallbacks": [],
        "cached": True,
        "usage": {"model_id": "m", "input_tokens": 0, "output_tokens": 0, "cost_usd": "0"},
        "removed_citations": 0,
        "actions": [],
    }
    page.route("**/chat", lambda route: route.fulfill(json=hostile))
    open_page(page, served.url)

    answer = ask(page, "anything")

    expect(answer.locator(".text")).to_have_text(hostile["text"])
    assert answer.locator("img").count() == 0
    assert page.evaluate("window.pwned") is None
    expect(answer.locator(".text .cite")).to_have_count(2)
    expect(answer.locator(".text a.cite")).to_have_count(1)  # only the https link
    expect(answer.locator("ol.sources li").first).to_contain_text("<b>bold</b>")
    expect(answer.locator("ol.sources li").first).to_contain_text("wiki/page.md")
    expect(answer.locator(".badge")).to_have_text(["wiki", "GitLab"])
    expect(answer.locator(".meta")).to_have_text("haiku · $0 · cached")


# -- proposed actions -------------------------------------------------------------------------
def test_given_a_proposed_ticket_when_confirmed_then_backlog_gets_exactly_one_and_the_key_shows(
    page, served, backlog
):
    open_page(page, served.url)
    before = len(backlog.calls("POST", "/issues"))

    answer = ask(page, "/ticket TSB Browser confirm check -- filed from the web page")
    card = answer.get_by_role("region", name="Proposed action")
    expect(card).to_contain_text("Browser confirm check")
    assert len(backlog.calls("POST", "/issues")) == before, "a proposal writes nothing"
    card.get_by_role("button", name="Confirm").click()

    expect(card.get_by_role("status")).to_contain_text("TSB-")
    created = backlog.calls("POST", "/issues")[before:]
    assert len(created) == 1
    assert created[0].form["summary"] == "Browser confirm check"
    key = next(i["issueKey"] for i in backlog.created if i["summary"] == "Browser confirm check")
    expect(card.get_by_role("status")).to_contain_text(key)
    link = card.get_by_role("status").get_by_role("link", name=key)
    expect(link).to_have_attribute("href", f"{backlog.url}/view/{key}")
    expect(card.get_by_role("button")).to_have_count(0)  # decided: no second confirm


def test_given_a_proposed_ticket_when_cancelled_then_nothing_is_created(page, served, backlog):
    open_page(page, served.url)
    before = len(backlog.calls("POST", "/issues"))

    answer = ask(page, "/ticket TSB Browser cancel check -- never filed")
    card = answer.get_by_role("region", name="Proposed action")
    card.get_by_role("button", name="Cancel").click()

    expect(card.get_by_role("status")).to_contain_text(re.compile("cancel", re.IGNORECASE))
    assert len(backlog.calls("POST", "/issues")) == before


# -- conversations ----------------------------------------------------------------------------
def test_given_an_answered_question_when_reopened_from_the_list_then_the_history_shows(
    page, served
):
    open_page(page, served.url)
    question = "What is the API rate limit for free plans?"
    ask(page, question)
    item = page.locator("#conversations button", has_text=question).first
    expect(item).to_have_attribute("aria-current", "true")

    page.get_by_role("button", name="New conversation").click()
    expect(page.locator("#log article")).to_have_count(0)
    item.click()

    expect(page.locator("#log article.user")).to_have_text([question])
    reopened = page.locator("#log article.assistant")
    expect(reopened).to_have_count(1)
    expect(reopened.locator(".text a.cite").first).to_have_attribute(
        "href", re.compile("^https://")
    )
    expect(reopened.locator(".meta")).to_contain_text("$")


# -- keyboard, phone --------------------------------------------------------------------------
def test_given_only_a_keyboard_when_asking_and_confirming_a_ticket_then_it_is_created(
    page, served, backlog
):
    open_page(page, served.url)
    before = len(backlog.calls("POST", "/issues"))
    focused = "document.activeElement"

    page.keyboard.press("Tab")
    assert page.evaluate(f"{focused}.textContent") == "Skip to the message box"
    page.keyboard.press("Enter")
    assert page.evaluate(f"{focused}.id") == "message"
    page.keyboard.type("/ticket TSB Keyboard only check -- typed, never clicked")
    page.keyboard.press("Enter")
    card = page.get_by_role("region", name="Proposed action").last
    expect(card).to_contain_text("Keyboard only check")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")  # back past Cancel to Confirm
    assert page.evaluate(f"{focused}.textContent") == "Confirm"
    assert page.evaluate(f"{focused}.matches(':focus-visible')")
    page.keyboard.press("Enter")

    expect(card.get_by_role("status")).to_contain_text("TSB-")
    assert page.evaluate(f"{focused}.getAttribute('role')") == "status"  # focus kept on the card
    assert len(backlog.calls("POST", "/issues")) == before + 1


@pytest.mark.parametrize("viewport", [{"width": 375, "height": 667}])
def test_given_a_phone_sized_screen_when_an_answer_shows_then_nothing_scrolls_sideways(
    page, served
):
    open_page(page, served.url)

    answer = ask(page, QUESTION)

    expect(answer.locator("ol.sources li").first).to_be_visible()
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1] == 375
    expect(page.get_by_role("textbox", name="Message")).to_be_visible()
    expect(page.get_by_role("button", name="New conversation")).to_be_visible()


# -- configuration and errors -----------------------------------------------------------------
def test_given_an_api_key_in_the_config_when_asking_then_rest_and_socket_carry_it(page, served):
    configure(page, apiKey="web-key-1")
    rest_keys: list[str | None] = []
    sockets: list[str] = []
    page.on(
        "request",
        lambda r: (
            rest_keys.append(r.headers.get("x-api-key")) if "/conversations" in r.url else None
        ),
    )
    page.on("websocket", lambda socket: sockets.append(socket.url))
    open_page(page, served.url)

    ask(page, QUESTION)

    assert rest_keys and set(rest_keys) == {"web-key-1"}
    assert sockets and all(url.endswith("/stream?api_key=web-key-1") for url in sockets)


def test_given_the_api_down_when_asking_then_the_page_says_it_cannot_reach_it(page, tmp_path):
    server = start_kass_serve(tmp_path, kass_env(tmp_path))
    try:
        open_page(page, server.url)
    finally:
        stop(server)

    answer = ask(page, QUESTION)

    expect(answer.get_by_role("alert")).to_contain_text("Cannot reach the kass API")


@pytest.mark.parametrize(
    ("status", "body", "explained"),
    [
        (429, "Too Many Requests", "Rate limited"),
        (401, "Unauthorized", "Not authorized"),
        (403, "Forbidden", "Not authorized"),
    ],
)
def test_given_the_gateway_refusing_when_asking_then_the_reason_is_explained(
    page, served, status, body, explained
):
    configure(page, streamUrl=None)  # REST only: the refusal comes from POST /chat
    page.route("**/chat", gateway_answer(status, body))
    open_page(page, served.url)

    answer = ask(page, QUESTION)

    alert = answer.get_by_role("alert")
    expect(alert).to_contain_text(explained)
    expect(alert).to_contain_text(body)


def test_given_the_gateway_refusing_the_list_when_loading_then_the_list_explains_it(page, served):
    page.route("**/conversations", gateway_answer(403, "Forbidden"))
    open_page(page, served.url)

    expect(page.locator("#conversations-status")).to_contain_text("Not authorized")


def test_given_an_oversize_message_when_streamed_then_the_error_frame_is_shown(page, served):
    frames = record_frames(page)
    open_page(page, served.url)

    answer = ask(page, "x" * 40_000)  # over the 32 KB frame limit

    errors = [frame for frame in frames if frame["type"] == "error"]
    assert len(errors) == 1
    expect(answer.get_by_role("alert")).to_have_text(re.compile(re.escape(errors[0]["message"])))
    follow_up = ask(page, QUESTION)  # the page recovers: the next question is answered
    expect(follow_up.locator("ol.sources li").first).to_be_visible()
