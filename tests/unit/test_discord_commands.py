"""Discord command definitions and their mapping to the text kass.chat understands."""

from __future__ import annotations

import re

import pytest

from kass.chat.commands import parse_command
from kass.discord.commands import ASK_MESSAGE, application_commands, chat_text
from kass.discord.interactions import CommandData
from kass.errors import InvalidInput

NAME = re.compile(r"^[-_\w]{1,32}$")


def command(name: str, _type: int = 1, **options: object) -> CommandData:
    return CommandData.model_validate(
        {
            "id": "1",
            "name": name,
            "type": _type,
            "options": [
                {"name": key, "type": 3 if isinstance(value, str) else 4, "value": value}
                for key, value in options.items()
            ],
        }
    )


def test_given_the_definitions_when_checked_against_discord_limits_then_all_valid():
    commands = application_commands(max_chars=4000)

    names = {c["name"] for c in commands}
    assert names == {"ask", "ticket", "summarize", "review", "confirm", "cancel", ASK_MESSAGE}
    for definition in commands:
        if definition["type"] == 1:
            assert NAME.match(definition["name"]) and definition["name"].islower()
            assert 1 <= len(definition["description"]) <= 100
            options = definition["options"]
            assert len(options) <= 25
            required = [o["required"] for o in options]
            assert required == sorted(required, reverse=True), "required options come first"
            for option in options:
                assert NAME.match(option["name"]) and 1 <= len(option["description"]) <= 100
                assert 1 <= option["max_length"] <= 6000
        else:
            assert "description" not in definition and len(definition["name"]) <= 32


def test_given_a_large_question_limit_when_defined_then_capped_at_discords_6000():
    ask = application_commands(max_chars=10_000)[0]

    assert ask["options"][0]["max_length"] == 6000


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (command("ask", question="  Why did login fail?  "), "Why did login fail?"),
        (command("ticket", project="APP", summary="Login fails"), "/ticket APP Login fails"),
        (
            command("ticket", project="APP", summary="Login fails", description="after 2.3"),
            "/ticket APP Login fails -- after 2.3",
        ),
        (
            command("summarize", link="https://t.slack.com/archives/C1/p1"),
            "/summarize https://t.slack.com/archives/C1/p1",
        ),
        (
            command("summarize", channel="incidents", ts="1715650320.000100"),
            "/summarize incidents 1715650320.000100",
        ),
        (command("review", merge_request="team/app!42"), "/review team/app!42"),
        (command("confirm", id=" act_01JABC "), "/confirm act_01JABC"),
        (command("cancel", id="act_01JABC"), "/cancel act_01JABC"),
    ],
)
def test_given_each_command_when_mapped_then_kass_chat_text_that_parses(data, text):
    mapped = chat_text(data, max_chars=4000)

    assert mapped == text
    if mapped.startswith("/"):
        assert parse_command(mapped).name == data.name


def test_given_the_message_command_when_mapped_then_the_messages_text_is_the_question():
    data = CommandData.model_validate(
        {
            "name": ASK_MESSAGE,
            "type": 3,
            "target_id": "55",
            "resolved": {"messages": {"55": {"id": "55", "content": "Is staging down?"}}},
        }
    )

    assert chat_text(data, max_chars=4000) == "Is staging down?"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (command("ask", question="   "), "/ask needs question"),
        (command("ask", question="x" * 301), "question is 301 characters; kass takes at most 300"),
        (command("ask"), "/ask needs question"),
        (command("ask", question="hi", colour="red"), "/ask has no option 'colour'"),
        (command("ask", question=42), "/ask question must be text"),
        (command("deploy", target="prod"), "unknown command /deploy"),
        (command("ticket", project="APP X", summary="s"), "project must be one word"),
        (command("ticket", project="APP", summary="a -- b"), "summary cannot contain"),
        (command("summarize", link="https://x", channel="c"), "either link, or channel and ts"),
        (command("summarize", channel="incidents"), "either link, or channel and ts"),
        (command("review", merge_request="a b"), "merge_request must be one word"),
        (command("confirm"), "/confirm needs id"),
        (command("cancel", id="act_1 act_2"), "id must be one word"),
        (command("review", merge_request="g/p!" + "9" * 400), "/review is 412 characters"),
        (
            CommandData.model_validate({"name": ASK_MESSAGE, "type": 3, "target_id": "1"}),
            "the selected message was not sent",
        ),
    ],
)
def test_given_unusable_input_when_mapped_then_invalid_input_naming_the_problem(data, error):
    with pytest.raises(InvalidInput, match=re.escape(error)):
        chat_text(data, max_chars=300)
