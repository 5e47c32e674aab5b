"""The Discord bot: signed interactions in, deferred answers out through the interaction webhook.

One concern per module: `verify` (Ed25519 signatures), `interactions` (payload models),
`commands` (command definitions and their mapping to chat text), `endpoint` (the 3-second
HTTP answer), `dispatch` (handing work to the worker), `messages` (rendering for Discord),
`webhook` (Discord's REST client), `worker` (the idempotent asynchronous part).

The verify/PING path imports only `verify`, `interactions`, `commands` and `endpoint`: no
LangChain, no kass.chat, no httpx (docs/discord.md).
"""
