"""Rendering answers for Discord: citations as links, parts within 2000 characters, buttons."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from kass.api.schemas import ActionResponse, ChatResponse, TurnUsage
from kass.chat.actions import ProposedAction
from kass.discord.interactions import EPHEMERAL
from kass.discord.messages import (
    CONTENT_LIMIT,
    chat_messages,
    error_message,
    parse_custom_id,
    settled_message,
    split_content,
    units,
)
from kass.models import Citation

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
LINK = re.compile(r"\[[^\]\n]*\]\(<?[^)\s]*>?\)")


def citation(n: int, link: str, source: str = "gitlab", title: str = "Login fails") -> Citation:
    return Citation(
        n=n, chunk_id=f"c{n}", doc_id=f"d{n}", title=title, source=source, location=link,
        link=link, snippet="...",
    )  # fmt: skip


def action(action_id: str = "act_1", status: str = "proposed") -> ProposedAction:
    return ProposedAction(
        id=action_id, kind="create_backlog_issue", user_id="discord:1", arguments={},
        preview="Create APP issue “Login fails”", status=status, created_at=T0,
        expires_at=T0 + timedelta(minutes=30),
    )  # fmt: skip


def response(text: str, **changes) -> ChatResponse:
    fields = {
        "conversation_id": "conv", "message_id": "m", "text": text, "citations": [],
        "found": True, "tier": "extractive", "route": ["extractive"], "fallbacks": [],
        "cached": False, "removed_citations": 0,
        "usage": TurnUsage(model_id=None, input_tokens=0, output_tokens=0, cost_usd=Decimal(0)),
    }  # fmt: skip
    return ChatResponse(**{**fields, **changes})


def test_given_a_cited_answer_when_rendered_then_sources_are_links_with_source_names():
    answer = response(
        "Login failed because the session cookie moved [1]; see the thread [2].",
        citations=[
            citation(1, "https://gitlab.example.com/app/-/issues/7"),
            citation(2, "https://t.slack.com/archives/C1/p17", "slack", "#incidents *outage*"),
            citation(3, "raw/backlog/APP-1.json", "backlog", "APP-1"),
        ],
    )

    [body] = chat_messages(answer)

    content = body["content"]
    assert "[1](<https://gitlab.example.com/app/-/issues/7>) GitLab · Login fails" in content
    assert r"[2](<https://t.slack.com/archives/C1/p17>) Slack · #incidents \*outage\*" in content
    assert "[3] Backlog · APP-1 (raw/backlog/APP-1.json)" in content
    assert body["allowed_mentions"] == {"parse": []}
    assert "components" not in body


def test_given_usage_cost_and_a_cache_hit_when_rendered_then_discreet_footer_line():
    usage = TurnUsage(
        model_id="m", input_tokens=1200, output_tokens=34, cost_usd=Decimal("0.00108")
    )
    answer = response("ok", tier="haiku", usage=usage, cached=True, fallbacks=["sonnet"])

    [body] = chat_messages(answer)

    assert (
        body["content"].splitlines()[-1]
        == "-# haiku · 1,234 tokens · $0.00108 · cached · after sonnet"
    )


def test_given_a_proposed_action_when_rendered_then_confirm_and_cancel_buttons_on_last_part():
    answer = response("word " * 900, actions=[action("act_9"), action("act_done", "executed")])

    bodies = chat_messages(answer)

    assert len(bodies) > 1 and all("components" not in b for b in bodies[:-1])
    [row] = bodies[-1]["components"]
    assert [b["custom_id"] for b in row["components"]] == ["confirm:act_9", "cancel:act_9"]
    assert [b["style"] for b in row["components"]] == [3, 4]


def test_given_an_answer_of_9000_characters_when_split_then_no_part_over_the_limit_and_no_loss():
    text = "\n".join(f"Line {n}: the deploy of service {n} [{n % 5 + 1}] " + "x" * (n % 90)
                     for n in range(200))  # fmt: skip

    parts = split_content(text)

    assert len(parts) >= 5
    assert all(0 < units(part) <= CONTENT_LIMIT for part in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")


def test_given_links_at_a_cut_when_split_then_every_link_whole_in_one_part():
    links = [f"[{n}](<https://gitlab.example.com/team/app/-/issues/{n}#note_{n * 7}>)"
             for n in range(1, 120)]  # fmt: skip
    text = " ".join(links)  # one long line: cut at spaces, never inside a link

    parts = split_content(text, limit=500)

    assert all(units(p) <= 500 for p in parts)
    assert [m for p in parts for m in LINK.findall(p)] == links


def test_given_a_code_block_longer_than_a_message_when_split_then_each_part_is_a_closed_block():
    code = "\n".join(f"    value_{n} = compute({n})  # step {n}" for n in range(150))
    text = f"Here is the patch:\n```python\n{code}\n```\nThat is all."

    parts = split_content(text)

    assert all(units(p) <= CONTENT_LIMIT for p in parts)
    assert all(p.count("```") % 2 == 0 for p in parts), "every part's fences are balanced"
    blocks = [p for p in parts if "```python" in p]
    assert len(blocks) >= 3
    lines = [
        line for p in blocks for line in p.split("```python\n", 1)[1].split("\n```")[0].split("\n")
    ]
    assert lines == code.split("\n")


def test_given_wide_characters_when_split_then_limit_counted_in_utf16_units():
    text = "😀" * 1500 + "ログイン" * 400  # emoji: 2 units each

    parts = split_content(text)

    assert all(units(p) <= CONTENT_LIMIT for p in parts)
    assert "".join(parts) == text


def test_given_an_error_from_user_input_when_rendered_then_ephemeral_and_within_limit():
    body = error_message("bad option " + "y" * 3000)

    assert body["flags"] == EPHEMERAL and units(body["content"]) <= CONTENT_LIMIT
    assert body["content"].startswith("⚠️ bad option") and body["components"] == []


@pytest.mark.parametrize(
    ("status", "message", "expected"),
    [("executed", "Done: APP-12 https://b/view/APP-12", "**Done: APP-12 https://b/view/APP-12**"),
     ("cancelled", "Proposed (not done yet): ...", "**Cancelled.**")],
)  # fmt: skip
def test_given_a_settled_action_when_rendered_then_outcome_appended_and_buttons_removed(
    status, message, expected
):
    settled = ActionResponse(action=action(status=status), executed_now=True, message=message)

    body = settled_message("Proposed (not done yet): Create APP issue", settled)

    assert body["content"] == f"Proposed (not done yet): Create APP issue\n\n{expected}"
    assert body["components"] == []


@pytest.mark.parametrize("custom_id", ["delete:act_1", "confirm:", "confirm", ""])
def test_given_a_button_kass_did_not_make_when_parsed_then_value_error(custom_id):
    with pytest.raises(ValueError, match="unknown button"):
        parse_custom_id(custom_id)


def test_given_kass_buttons_when_parsed_then_verb_and_action_id():
    assert parse_custom_id("confirm:act_1:x") == ("confirm", "act_1:x")
    assert parse_custom_id("cancel:act_2") == ("cancel", "act_2")
