"""The discord_handler function on the local profile: signed interactions in (real Ed25519
signatures from a key pair made here), the worker's edits and follow-ups out to a Discord API
double, tickets into the Backlog double, the sample workspace behind. And the AWS hand-off: an
asynchronous self-invocation (moto).
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import shutil
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest
from lambda_harness import SAMPLES, context, ingest_samples, rest_event
from nacl.signing import SigningKey
from tests.doubles.backlog_api import BacklogDouble
from tests.doubles.discord_api import DiscordDouble

from kass.discord.dispatch import JOB_KEY
from kass.discord.interactions import Interaction
from kass.discord.messages import CONTENT_LIMIT, units

# A job run on a local thread has no Lambda context to bound its in-progress record.
pytestmark = pytest.mark.filterwarnings("ignore:Couldn.t determine the remaining time left")

ROOT = Path(__file__).resolve().parents[2]
HANDLER = ROOT / "lambda_functions" / "discord_handler" / "handler.py"
KEY = SigningKey.generate()
APP_ID = "1240000000000000000"
ALICE, MALLORY = "80351110224678912", "80351110224678913"
LOGIN_THREAD = "https://tsubame.slack.com/archives/C04H7QK2ZL1/p1715650320000100"
_ids = itertools.count(1_250_000_000_000_000_000)
_loaded = itertools.count()


def load_handler() -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"discord_handler_{next(_loaded)}", HANDLER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def interaction(kind: int, data: dict | None, *, user: str = ALICE, **extra) -> dict:
    """An interaction as Discord sends it (fields kass ignores included)."""
    number = next(_ids)
    return {
        "app_permissions": "2248473465835073", "application_id": APP_ID,
        "authorizing_integration_owners": {"0": "1100000000000000000"},
        "channel": {"id": "1100000000000000002", "type": 0, "name": "dev"},
        "channel_id": "1100000000000000002", "context": 0, "data": data, "entitlements": [],
        "guild_id": "1100000000000000001", "guild_locale": "en-US", "id": str(number),
        "locale": "en-US",
        "member": {"user": {"id": user, "username": "alice", "global_name": "Alice",
                            "discriminator": "0", "avatar": None},
                   "roles": [], "permissions": "2248473465835073", "nick": None},
        "token": f"aW50ZXJhY3Rpb246{number}", "type": kind, "version": 1, **extra,
    }  # fmt: skip


def command(name: str, *, user: str = ALICE, **options: str) -> dict:
    data = {
        "id": "1200000000000000001", "name": name, "type": 1,
        "options": [{"name": k, "type": 3, "value": v} for k, v in options.items()],
    }  # fmt: skip
    return interaction(2, data, user=user)


def button(custom_id: str, message: str, *, user: str = ALICE) -> dict:
    data = {"custom_id": custom_id, "component_type": 2}
    return interaction(
        3, data, user=user, message={"id": "1300000000000000001", "content": message}
    )


def signed_event(
    payload: dict | str, *, key: SigningKey = KEY, age: int = 0, body: str | None = None
):
    raw = payload if isinstance(payload, str) else json.dumps(payload)
    stamp = str(int(time.time()) - age)
    event = rest_event("POST", "/discord", body=body if body is not None else raw)
    event["headers"] = {
        "Content-Type": "application/json", "User-Agent": "Discord-Interactions/1.0",
        "X-Signature-Ed25519": key.sign(stamp.encode() + raw.encode()).signature.hex(),
        "X-Signature-Timestamp": stamp,
    }  # fmt: skip
    return event


def deliver(handler: ModuleType, event: dict) -> tuple[int, dict]:
    response = handler.lambda_handler(event, context("discord_handler"))
    handler.threads.wait()  # the local hand-off: let the worker's thread finish
    return response["statusCode"], json.loads(response["body"])


@pytest.fixture(scope="module")
def discord():
    double = DiscordDouble().start()
    yield double
    double.stop()


@pytest.fixture(scope="module")
def backlog():
    double = BacklogDouble().start()
    double.add_project("APP", issue_types=("Bug", "Task"))
    yield double
    double.stop()


@pytest.fixture(scope="module")
def merge_requests(tmp_path_factory):
    """The sample patches, plus one whose review runs to several messages (80 TODOs)."""
    folder = tmp_path_factory.mktemp("mrs")
    shutil.copytree(SAMPLES.parent / "merge_requests", folder, dirs_exist_ok=True)
    added = "".join(f"+# TODO step {n}: migrate the {n}th table and check its rows\n"
                    for n in range(80))  # fmt: skip
    (folder / "tsubame" / "api" / "150.patch").write_text(
        "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n"
        "From: Ren Nakamura <ren.nakamura@tsubame.example>\n"
        "Date: Wed, 22 May 2024 14:00:00 +0900\n"
        "Subject: [PATCH] Plan the table migration\n\n---\n"
        " plan.py | 80 ++++++++++\n 1 file changed, 80 insertions(+)\n\n"
        "diff --git a/plan.py b/plan.py\nnew file mode 100644\nindex 0000000..1111111\n"
        "--- /dev/null\n+++ b/plan.py\n@@ -0,0 +1,80 @@\n" + added
    )
    return folder


@pytest.fixture(scope="module")
def handler(tmp_path_factory, discord, backlog, merge_requests):
    home = tmp_path_factory.mktemp("discord-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(home)
        for name, value in {
            "KASS_HOME": str(home),
            "KASS_ANSWER_MAX_QUESTION_CHARS": "300",
            "KASS_DISCORD_PUBLIC_KEY": KEY.verify_key.encode().hex(),
            "KASS_DISCORD_API_BASE": discord.api_base,
            "KASS_BACKLOG_SPACE_URL": backlog.url,
            "KASS_BACKLOG_API_KEY": backlog.api_key,
            "KASS_BACKLOG_PROJECTS": '["APP"]',
            "KASS_LOCAL_SLACK_EXPORT": str(SAMPLES.parent / "slack-export"),
            "KASS_LOCAL_SLACK_WORKSPACE_URL": "https://tsubame.slack.com/",
            "KASS_LOCAL_MERGE_REQUESTS": str(merge_requests),
            "POWERTOOLS_SERVICE_NAME": "discord_handler",
            "POWERTOOLS_METRICS_NAMESPACE": "kass-test",
        }.items():
            patch.setenv(name, value)
        ingest_samples()
        module = load_handler()
        yield module
        module.threads.wait()
        if module._worker is not None:
            module._worker.close()
        module.runtime.close()


def original(discord: DiscordDouble, payload: dict) -> dict:
    """The deferred reply as the worker left it (exactly one edit of it)."""
    [edit] = discord.calls("PATCH", payload["token"])
    assert edit.path == f"/api/v10/webhooks/{APP_ID}/{payload['token']}/messages/@original"
    return edit.body


# -- signatures and PING -----------------------------------------------------------------------
def test_given_a_signed_ping_when_delivered_then_pong(handler):
    status, body = deliver(handler, signed_event(interaction(1, None)))

    assert (status, body) == (200, {"type": 1})


@pytest.mark.parametrize(
    "make",
    [
        lambda p: signed_event(p, body=json.dumps(p).replace("alice", "mallory")),
        lambda p: signed_event(p, key=SigningKey.generate()),
        lambda p: signed_event(p, age=301),
        lambda p: {**signed_event(p), "headers": {"Content-Type": "application/json"}},
    ],
    ids=["tampered-body", "wrong-key", "stale-timestamp", "missing-headers"],
)
def test_given_a_request_not_signed_by_discord_when_delivered_then_401_json_and_no_work(
    handler, discord, make
):
    payload = command("ask", question="What is the API rate limit for free plans?")

    status, body = deliver(handler, make(payload))

    assert status == 401 and body["error"] == "invalid_signature" and body["message"]
    assert discord.calls("PATCH", payload["token"]) == []


# -- commands ----------------------------------------------------------------------------------
def test_given_ask_when_delivered_then_deferred_and_reply_edited_with_cited_links(handler, discord):
    payload = command("ask", question="Why did login fail after the 2.3 release?")

    status, body = deliver(handler, signed_event(payload))

    assert (status, body) == (200, {"type": 5})
    content = original(discord, payload)["content"]
    assert "[1]" in content and "(<https://" in content
    assert content.splitlines()[-1].startswith("-# extractive")
    assert discord.calls("POST", payload["token"]) == []


def in_channel(payload: dict, channel: str) -> dict:
    return payload | {"channel_id": channel, "channel": {"id": channel, "type": 11}}


def test_given_asks_in_a_thread_when_delivered_then_one_conversation_per_person_and_thread(
    handler, discord
):
    thread, other_thread = "1400000000000000001", "1400000000000000002"
    asks = [
        in_channel(command("ask", question="What is the API rate limit?"), thread),
        in_channel(command("ask", question="And for paid plans?"), thread),
        in_channel(command("ask", question="Who owns billing?"), other_thread),
        in_channel(command("ask", question="Is staging down?", user=MALLORY), thread),
    ]
    for payload in asks:
        deliver(handler, signed_event(payload))
        handler.threads.wait()

    ids = [Interaction.model_validate(payload).conversation_id() for payload in asks]
    store = handler.runtime.conversations
    first = store.messages(ids[0])
    assert [m.text for m in first if m.role == "user"] == [
        "What is the API rate limit?",
        "And for paid plans?",
    ]
    assert ids[0] == ids[1] and len({ids[0], ids[2], ids[3]}) == 3
    assert {m.user_id for m in first} == {f"discord:{ALICE}"}
    assert [m.text for m in store.messages(ids[3]) if m.role == "user"] == ["Is staging down?"]


def test_given_the_ask_kass_message_command_when_delivered_then_the_message_is_answered(
    handler, discord
):
    message = {"id": "1400000000000000001", "content": "What is the API rate limit for free plans?"}
    payload = interaction(
        2,
        {"id": "1200000000000000009", "name": "Ask kass", "type": 3, "target_id": message["id"],
         "resolved": {"messages": {message["id"]: message}}},
    )  # fmt: skip

    status, body = deliver(handler, signed_event(payload))

    assert (status, body) == (200, {"type": 5})
    assert "(<https://" in original(discord, payload)["content"]


@pytest.mark.parametrize(
    "options", [{"link": LOGIN_THREAD}, {"channel": "incidents", "ts": "1715650320.000100"}]
)
def test_given_summarize_by_link_or_channel_and_ts_when_delivered_then_thread_summary(
    handler, discord, options
):
    payload = command("summarize", **options)

    deliver(handler, signed_event(payload))

    content = original(discord, payload)["content"]
    assert "Summary of the thread in #incidents" in content
    assert f"[1](<{LOGIN_THREAD}>) Slack" in content


def test_given_review_when_delivered_then_findings_with_the_secret_redacted(handler, discord):
    payload = command("review", merge_request="tsubame/notifier!54")

    deliver(handler, signed_event(payload))

    content = original(discord, payload)["content"]
    assert "[high] secret" in content and "AKIAZ7" not in content


def test_given_a_review_longer_than_a_message_when_delivered_then_split_into_follow_ups(
    handler, discord
):
    payload = command("review", merge_request="tsubame/api!150")

    deliver(handler, signed_event(payload))

    first = original(discord, payload)["content"]
    rest = [call.body["content"] for call in discord.calls("POST", payload["token"])]
    parts = [first, *rest]
    assert len(parts) >= 3 and all(units(part) <= CONTENT_LIMIT for part in parts)
    text = "\n".join(parts)
    assert all(f"TODO added: # TODO step {n}:" in text for n in range(80))


def test_given_the_same_interaction_delivered_twice_when_processed_then_worker_ran_once(
    handler, discord
):
    payload = command("ask", question="push notifications on Android")
    conversation = Interaction.model_validate(payload).conversation_id()
    before = len(handler.runtime.conversations.messages(conversation, limit=500))

    first = deliver(handler, signed_event(payload))
    second = deliver(handler, signed_event(payload))
    handler.threads.wait()

    assert first == second == (200, {"type": 5})
    assert len(discord.calls("PATCH", payload["token"])) == 1
    stored = handler.runtime.conversations.messages(conversation, limit=500)
    assert len(stored) == before + 2  # one question, one answer


# -- proposals and buttons ---------------------------------------------------------------------
def propose(handler, discord, summary: str) -> tuple[str, str]:
    payload = command("ticket", project="APP", summary=summary, description="after 2.3")
    deliver(handler, signed_event(payload))
    reply = original(discord, payload)
    [row] = reply["components"]
    confirm, cancel = (b["custom_id"] for b in row["components"])
    assert cancel == confirm.replace("confirm:", "cancel:")
    return confirm.removeprefix("confirm:"), reply["content"]


def test_given_a_proposed_ticket_when_confirm_delivered_twice_then_exactly_one_issue(
    handler, discord, backlog
):
    before = len(backlog.created)
    action_id, text = propose(handler, discord, "Login fails on Safari")
    assert "Proposed (not done yet)" in text and len(backlog.created) == before
    click = button(f"confirm:{action_id}", text)

    first = deliver(handler, signed_event(click))
    second = deliver(handler, signed_event(click))  # the same interaction again
    later = deliver(handler, signed_event(button(f"confirm:{action_id}", text)))  # a new click

    assert first == second == later == (200, {"type": 6})
    assert len(backlog.created) == before + 1
    assert backlog.created[-1]["summary"] == "Login fails on Safari"
    settled = original(discord, click)
    assert settled["components"] == [] and "**Done: APP-" in settled["content"]
    assert settled["content"].startswith("Proposed (not done yet)")


def test_given_someone_elses_proposal_when_they_click_confirm_then_ephemeral_refusal_only(
    handler, discord, backlog
):
    action_id, text = propose(handler, discord, "Not yours")
    before = len(backlog.created)
    click = button(f"confirm:{action_id}", text, user=MALLORY)

    status, body = deliver(handler, signed_event(click))

    assert (status, body) == (200, {"type": 6}) and len(backlog.created) == before
    assert discord.calls("PATCH", click["token"]) == []  # the owner's message is untouched
    [refusal] = discord.calls("POST", click["token"])
    assert refusal.body["flags"] == 64 and "no pending action" in refusal.body["content"]


def test_given_a_proposal_when_cancel_clicked_then_cancelled_and_buttons_removed(
    handler, discord, backlog
):
    action_id, text = propose(handler, discord, "Changed my mind")
    before = len(backlog.created)
    click = button(f"cancel:{action_id}", text)

    deliver(handler, signed_event(click))

    settled = original(discord, click)
    assert settled["content"].endswith("**Cancelled.**") and settled["components"] == []
    assert len(backlog.created) == before


def test_given_a_proposal_when_the_confirm_slash_command_is_used_then_exactly_one_issue(
    handler, discord, backlog
):
    action_id, text = propose(handler, discord, "Confirmed by command")
    before = len(backlog.created)
    assert f"/confirm {action_id}" in text  # what the proposal tells the user holds in Discord

    deliver(handler, signed_event(command("confirm", id=action_id)))
    deliver(handler, signed_event(command("confirm", id=action_id)))  # a second, new command

    assert len(backlog.created) == before + 1
    assert backlog.created[-1]["summary"] == "Confirmed by command"


# -- what the user can fix: an ephemeral message at once, never a 500 --------------------------
@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (command("ask", question="x" * 301), "301 characters; kass takes at most 300"),
        (command("ask", question="   "), "/ask needs question"),
        (command("ask", question="hi", tone="formal"), "/ask has no option 'tone'"),
        (command("ticket", project="APP"), "/ticket needs summary"),
    ],
)
def test_given_input_kass_cannot_take_when_delivered_then_ephemeral_error_and_no_work(
    handler, discord, payload, fragment
):
    status, body = deliver(handler, signed_event(payload))

    assert status == 200 and body["type"] == 4
    assert body["data"]["flags"] == 64 and fragment in body["data"]["content"]
    assert [r for r in discord.requests if payload["token"] in r.path] == []


def test_given_a_thread_that_does_not_exist_when_summarized_then_reply_names_the_problem(
    handler, discord
):
    payload = command("summarize", channel="incidents", ts="1715650320.999999")

    status, body = deliver(handler, signed_event(payload))

    assert (status, body) == (200, {"type": 5})
    reply = original(discord, payload)
    assert reply["content"].startswith("⚠️") and "no Slack message" in reply["content"]


def test_given_a_job_event_when_invoked_then_the_worker_runs_it_like_a_thread_would(
    handler, discord
):
    payload = command("ask", question="What is the API rate limit for free plans?")
    job = {JOB_KEY: {"interaction": payload, "text": "What is the API rate limit for free plans?"}}

    outcome = handler.lambda_handler(job, context("discord_handler"))

    assert outcome["outcome"] == "answered" and outcome["parts"] == 1
    assert "(<https://" in original(discord, payload)["content"]


# -- the AWS hand-off: an asynchronous invocation of the function itself ----------------------
def test_given_the_aws_profile_when_a_command_arrives_then_deferred_and_self_invoked_async(
    monkeypatch, tmp_path
):
    from aws_fixtures import set_moto_env
    from moto import mock_aws

    monkeypatch.chdir(tmp_path)
    set_moto_env(monkeypatch)
    monkeypatch.setenv("KASS_PROFILE", "aws")
    monkeypatch.setenv("KASS_DISCORD_PUBLIC_KEY", KEY.verify_key.encode().hex())
    payload = command("ask", question="Why did login fail after the 2.3 release?")
    invoked: list[dict] = []
    with mock_aws(config={"lambda": {"use_docker": False}}):
        module = load_handler()
        client = module._lambda_client()
        client.meta.events.register(
            "before-call.lambda.Invoke", lambda params, **_: invoked.append(params)
        )
        ping = module.lambda_handler(signed_event(interaction(1, None)), context("discord"))
        assert invoked == [], "a PING hands nothing off"
        response = module.lambda_handler(signed_event(payload), context("discord"))

    assert json.loads(ping["body"]) == {"type": 1}
    assert (response["statusCode"], json.loads(response["body"])) == (200, {"type": 5})
    [call] = invoked
    assert call["url_path"].endswith("/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A"
                                     "000000000000%3Afunction%3Adiscord/invocations")  # fmt: skip
    assert call["headers"]["X-Amz-Invocation-Type"] == "Event"
    job = json.loads(call["body"])[JOB_KEY]
    assert (
        job["interaction"]["id"] == payload["id"]
        and job["text"] == payload["data"]["options"][0]["value"]
    )


# -- the webhook client against the double -----------------------------------------------------
def test_given_rate_limits_and_a_reply_not_there_yet_when_editing_then_waits_and_succeeds(
    discord,
):
    from kass.discord.webhook import DiscordWebhook

    waits: list[float] = []
    webhook = DiscordWebhook(discord.api_base, sleep=waits.append)
    discord.fail_next(404, "tok-retry/messages")
    discord.fail_next(429, "tok-retry", retry_after=1.5)

    webhook.edit_original(APP_ID, "tok-retry", {"content": "hello"})

    assert waits == [0.5, 1.5]
    assert discord.originals["tok-retry"]["content"] == "hello"
    webhook.close()


def test_given_discord_refuses_a_body_when_posting_then_source_error_with_its_message(discord):
    from kass.discord.webhook import DiscordWebhook
    from kass.errors import SourceError

    webhook = DiscordWebhook(discord.api_base, sleep=lambda s: None)

    with pytest.raises(SourceError, match="Discord answered 400: Invalid Form Body"):
        webhook.follow_up(APP_ID, "tok-big", {"content": "x" * 2001})
    webhook.close()


# -- command registration ----------------------------------------------------------------------
def run_register(monkeypatch, discord, *args: str, token: str | None = None):
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import register_discord_commands as script
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    monkeypatch.setenv("KASS_DISCORD_API_BASE", discord.api_base)
    monkeypatch.setenv("KASS_DISCORD_APPLICATION_ID", APP_ID)
    if token is None:
        monkeypatch.delenv("KASS_DISCORD_BOT_TOKEN", raising=False)
    else:
        monkeypatch.setenv("KASS_DISCORD_BOT_TOKEN", token)
    return script.main(list(args))


def test_given_a_bot_token_when_registering_for_a_guild_then_the_command_set_is_put(
    monkeypatch, tmp_path, discord, capsys
):
    monkeypatch.chdir(tmp_path)

    code = run_register(monkeypatch, discord, "--guild", "42", token=discord.bot_token)

    assert code == 0
    names = [c["name"] for c in discord.commands[f"{APP_ID}/guilds/42"]]
    assert names == ["ask", "ticket", "summarize", "review", "confirm", "cancel", "Ask kass"]
    assert "registered 7 commands for guild 42" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "token", "code", "error"),
    [
        ((), None, 2, "error: KASS_DISCORD_BOT_TOKEN is not set\n"),
        ((), "wrong-token", 1, "error: Discord refused the commands: 401 401: Unauthorized\n"),
    ],
)
def test_given_no_or_a_wrong_token_when_registering_then_one_line_error_and_exit_code(
    monkeypatch, tmp_path, discord, capsys, args, token, code, error
):
    monkeypatch.chdir(tmp_path)

    assert run_register(monkeypatch, discord, *args, token=token) == code
    assert capsys.readouterr().err == error


def test_given_dry_run_when_registering_then_json_printed_and_nothing_sent(
    monkeypatch, tmp_path, discord, capsys
):
    monkeypatch.chdir(tmp_path)
    sent = len(discord.requests)

    assert run_register(monkeypatch, discord, "--dry-run") == 0
    printed = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in printed][:4] == ["ask", "ticket", "summarize", "review"]
    assert len(discord.requests) == sent
