"""The endpoint's 3-second answer: verify, parse, PONG or defer and hand off; errors as Discord
expects them (401 for bad signatures, an ephemeral message for what a user can fix)."""

from __future__ import annotations

import json
import time

import pytest
from nacl.signing import SigningKey

from kass.discord.dispatch import JOB_KEY, Job
from kass.discord.endpoint import BUSY, raw_body, respond
from kass.discord.interactions import EPHEMERAL, parse_interaction
from kass.discord.verify import SignatureVerifier
from kass.errors import InvalidInput, SourceError

KEY = SigningKey.generate()
VERIFIER = SignatureVerifier(KEY.verify_key.encode().hex())


def interaction(kind: int = 2, data: dict | None = None, **changes) -> dict:
    payload = {
        "id": "1250000000000000001", "application_id": "1240000000000000000", "type": kind,
        "token": "aW50ZXJhY3Rpb246dG9rZW4", "version": 1, "guild_id": "1", "channel_id": "2",
        "member": {"user": {"id": "80351110224678912", "username": "alice"}, "roles": []},
        "data": data if data is not None else {"id": "9", "name": "ask", "type": 1, "options": [
            {"name": "question", "type": 3, "value": "Why did login fail?"}]},
    }  # fmt: skip
    return {**payload, **changes}


def call(payload: dict | str, *, key: SigningKey = KEY, max_chars: int = 300, dispatch=None):
    body = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
    stamp = str(int(time.time()))
    headers = {
        "X-Signature-Ed25519": key.sign(stamp.encode() + body).signature.hex(),
        "X-Signature-Timestamp": stamp,
    }
    jobs: list[Job] = []
    reply = respond(
        headers, body, verifier=VERIFIER, max_chars=max_chars, dispatch=dispatch or jobs.append
    )
    return reply, jobs


def test_given_a_signed_ping_when_answered_then_pong_and_nothing_dispatched():
    reply, jobs = call(interaction(1, data=None, token="", member=None))

    assert (reply.status, reply.body, jobs) == (200, {"type": 1}, [])


def test_given_a_command_when_answered_then_deferred_and_job_carries_chat_text_and_user():
    reply, [job] = call(interaction())

    assert reply.body == {"type": 5}
    assert job.text == "Why did login fail?"
    assert job.interaction.user_id == "discord:80351110224678912"
    assert Job.model_validate(job.event()[JOB_KEY]) == job  # survives the async hand-off


def test_given_a_button_when_answered_then_deferred_update_and_job_dispatched():
    button = interaction(3, data={"custom_id": "confirm:act_1", "component_type": 2},
                         message={"id": "77", "content": "Proposed"})  # fmt: skip

    reply, [job] = call(button)

    assert reply.body == {"type": 6} and job.text is None and job.interaction.message.id == "77"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"name": "ask", "type": 1, "options": [{"name": "q", "type": 3, "value": "x"}]},
         "no option 'q'"),
        ({"name": "ask", "type": 1, "options": [{"name": "question", "type": 3, "value": ""}]},
         "needs question"),
        ({"name": "ask", "type": 1, "options": [
            {"name": "question", "type": 3, "value": "y" * 301}]}, "301 characters"),
        ({"name": "nope", "type": 1}, "unknown command /nope"),
        ({"custom_id": "x"}, "application command data: name"),
    ],
)  # fmt: skip
def test_given_a_command_kass_cannot_take_when_answered_then_ephemeral_error_not_dispatched(
    data, fragment
):
    reply, jobs = call(interaction(data=data))

    assert reply.status == 200 and reply.body["type"] == 4 and jobs == []
    assert reply.body["data"]["flags"] == EPHEMERAL and fragment in reply.body["data"]["content"]


def test_given_a_button_kass_did_not_make_when_answered_then_ephemeral_error():
    reply, jobs = call(interaction(3, data={"custom_id": "delete:all", "component_type": 2}))

    assert reply.body["type"] == 4 and "unknown button" in reply.body["data"]["content"]
    assert jobs == []


def test_given_a_command_without_a_user_when_answered_then_ephemeral_error():
    reply, jobs = call(interaction(member=None))

    assert reply.body["type"] == 4 and "names no user" in reply.body["data"]["content"]
    assert jobs == []


def test_given_the_hand_off_fails_when_answered_then_ephemeral_apology_not_500():
    def down(job: Job) -> None:
        raise SourceError("asynchronous invoke answered 429")

    reply, _ = call(interaction(), dispatch=down)

    assert reply.status == 200 and reply.body["data"]["content"] == f"⚠️ {BUSY}"


@pytest.mark.parametrize(
    ("payload", "status", "error"),
    [
        ("{not json", 400, "invalid_request"),
        ("[1, 2]", 400, "invalid_request"),
        (json.dumps({"type": 2, "token": "t"}), 400, "invalid_request"),
        (json.dumps(interaction(4)), 400, "unsupported_interaction"),
    ],
)
def test_given_a_signed_but_malformed_payload_when_answered_then_4xx_json(payload, status, error):
    reply, jobs = call(payload)

    assert (reply.status, reply.body["error"], jobs) == (status, error, [])
    assert reply.body["message"]


def test_given_a_wrong_key_or_no_configured_key_when_answered_then_401():
    wrong, _ = call(interaction(), key=SigningKey.generate())
    unconfigured = respond({}, b"{}", verifier=None, max_chars=1, dispatch=lambda job: None)

    assert (wrong.status, wrong.body["error"]) == (401, "invalid_signature")
    assert (unconfigured.status, unconfigured.body["error"]) == (401, "unauthorized")


def test_given_api_gateway_bodies_when_read_then_the_bytes_discord_signed():
    assert raw_body({"body": '{"a": "é"}'}) == '{"a": "é"}'.encode()
    assert raw_body({"body": "eyJhIjoxfQ==", "isBase64Encoded": True}) == b'{"a":1}'
    assert raw_body({"body": "%%%", "isBase64Encoded": True}) == b""
    assert raw_body({"body": None}) == b""


def test_given_a_non_ping_without_token_when_parsed_then_invalid_input():
    with pytest.raises(InvalidInput, match="must carry its token"):
        parse_interaction(json.dumps(interaction(token="")))
