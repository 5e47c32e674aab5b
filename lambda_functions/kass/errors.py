"""Errors the product raises on purpose. Each carries a one-line, user-facing message.

Front ends map them once: the CLI prints the message and exits non-zero, the API returns a 4xx
with a JSON body. Anything else escaping is a bug.
"""


class KassError(Exception):
    """Base class: a clear, one-line problem the user can act on."""

    exit_code = 1


class InvalidInput(KassError):
    """The caller gave something we cannot use (empty question, unknown filter key, ...)."""

    exit_code = 2


class DatasetError(KassError):
    """An evaluation dataset is missing files or is malformed."""

    exit_code = 2


class IndexMismatch(KassError):
    """The index was built with a different embedder (name or dimension) than the one configured."""

    exit_code = 3


class CorruptIndex(KassError):
    """The index file is not a kass index, or is damaged."""

    exit_code = 3


class NotFound(KassError):
    """The thing asked for does not exist (unknown conversation id, ...)."""

    exit_code = 4


class ModelUnavailable(KassError):
    """A model tier cannot answer now: endpoint missing or stopped, throttled past retries."""

    exit_code = 5


class SourceError(KassError):
    """An outside system (GitLab, Slack, Backlog) refused or failed: bad or revoked token, no
    access, rate limited past retries, unreachable. Nothing is advanced or written past it."""

    exit_code = 6
