"""Register kass's Discord commands for an application (docs/discord.md).

    .venv/bin/python scripts/register_discord_commands.py [--guild ID] [--dry-run]

Replaces the application's global command set (`PUT /applications/{id}/commands`), or one
guild's with `--guild` (guild commands appear at once; global ones can take up to an hour).
Reads KASS_DISCORD_APPLICATION_ID, KASS_DISCORD_BOT_TOKEN and KASS_DISCORD_API_BASE from the
environment or `.env`; `--dry-run` prints the JSON it would send and needs no token. Errors are
one line on stderr and a non-zero exit: 2 for settings, 1 for Discord's refusal.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import httpx
from pydantic import ValidationError

from kass.discord.commands import application_commands
from kass.settings import load_settings


class RegistrationError(Exception):
    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def register(
    commands: list[dict[str, Any]],
    *,
    api_base: str,
    application_id: str,
    bot_token: str,
    guild: str | None = None,
    client: httpx.Client | None = None,
) -> list[dict[str, Any]]:
    """PUT the command set; returns what Discord registered (with ids)."""
    scope = f"/guilds/{guild}" if guild else ""
    url = f"{api_base.rstrip('/')}/applications/{application_id}{scope}/commands"
    http = client or httpx.Client(timeout=30.0)
    try:
        response = http.put(url, json=commands, headers={"Authorization": f"Bot {bot_token}"})
    except httpx.HTTPError as error:
        raise RegistrationError(f"cannot reach Discord at {api_base}: {error}") from None
    finally:
        if client is None:
            http.close()
    if not response.is_success:
        try:
            detail = response.json().get("message", "")
        except ValueError:
            detail = response.text[:200]
        raise RegistrationError(f"Discord refused the commands: {response.status_code} {detail}")
    registered: list[dict[str, Any]] = response.json()
    return registered


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--guild", help="register for this guild (server) id only")
    parser.add_argument("--dry-run", action="store_true", help="print the JSON, send nothing")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ValidationError as error:
        first = error.errors()[0]
        print(f"error: invalid settings: {first.get('msg')}", file=sys.stderr)
        return 2
    commands = application_commands(settings.answer.max_question_chars)
    if args.dry_run:
        print(json.dumps(commands, indent=2, ensure_ascii=False))
        return 0
    discord = settings.discord
    try:
        if not discord.application_id:
            raise RegistrationError("KASS_DISCORD_APPLICATION_ID is not set", 2)
        if discord.bot_token is None:
            raise RegistrationError("KASS_DISCORD_BOT_TOKEN is not set", 2)
        registered = register(
            commands,
            api_base=discord.api_base,
            application_id=discord.application_id,
            bot_token=discord.bot_token.get_secret_value(),
            guild=args.guild,
        )
    except RegistrationError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    where = f"guild {args.guild}" if args.guild else "all guilds (global)"
    names = ", ".join(command["name"] for command in registered)
    print(f"registered {len(registered)} commands for {where}: {names}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
