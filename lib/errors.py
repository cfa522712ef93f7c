"""Errors a user must be able to tell apart, one class each.

Every error carries a message written for the person at the keyboard (``str(err)``),
the HTTP status when there was one, and the API's request id so that it can be quoted
to support. None of them ever holds the API key: they are built from the response
body and status alone, never from the request headers.
"""

from __future__ import annotations


class ChatError(Exception):
    """Base class of every failure the chat engine reports to a page."""

    #: a short title for the message box, shown as ``**{title}.** {message}``: so a message
    #: never starts by saying its title again
    title = "The request failed"
    #: whether sending the same request again may succeed
    retryable = True

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.request_id = request_id
        self.detail = detail

    def __str__(self) -> str:
        text = self.message
        if self.detail and self.detail not in text:
            text = f"{text} ({self.detail})"
        if self.request_id:
            text = f"{text} Request id: {self.request_id}."
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, message={self.message!r})"


class APIStatusError(ChatError):
    """The API answered with an HTTP error status not covered by a subclass."""


class BadRequestError(APIStatusError):
    """400: the API rejected the request; its own message names the bad field."""

    title = "Bad request"
    retryable = False


class AuthenticationError(APIStatusError):
    """401: the API key is missing, wrong or revoked."""

    title = "API key rejected"
    retryable = False


class OutOfCreditsError(APIStatusError):
    """403: the AI/ML API uses this status when the account has run out of credits."""

    title = "Out of credits"
    retryable = False


class ModelNotFoundError(APIStatusError):
    """404: the server does not know the model (or the base URL is wrong)."""

    title = "Model not found"
    retryable = False


class RateLimitError(APIStatusError):
    """429: too many requests; retried automatically a few times first."""

    # Not "Rate limited" nor "Too many requests": the message and the API's own words say those.
    title = "Request limit reached"


class ServerError(APIStatusError):
    """500, 502, 503 or 504: the API or a server behind it failed."""

    title = "The API had a server error"


class APIConnectionError(ChatError):
    """The server could not be reached at all (refused, DNS, TLS)."""

    title = "No connection to the API"


class APITimeoutError(APIConnectionError):
    """The server did not connect, or stopped sending, within the configured timeout."""

    title = "The API timed out"


class StreamInterruptedError(ChatError):
    """The connection dropped after the reply had started streaming."""

    title = "The reply was cut off"


class MalformedResponseError(ChatError):
    """The server sent something that is not the API's wire format."""

    title = "Unreadable response"


class RequestCancelledError(ChatError):
    """The user stopped a request while it waited for an automatic retry; no further request went out.

    Not a failure to show: whoever stopped it knows. It only ends :meth:`ChatClient.stream`.
    """

    title = "Stopped"


class ConfigurationError(ChatError):
    """A setting is invalid (a bad URL, a number out of range)."""

    title = "A setting is invalid"
    retryable = False


class InvalidParameterError(ChatError):
    """A sampling parameter is unknown or outside the range the model's spec allows.

    ``param`` names it, so that a page can point at the widget; the message gives the
    allowed range.
    """

    title = "A parameter is invalid"
    retryable = False

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


class StoreError(ChatError):
    """The conversation store could not be opened, read or written."""

    title = "Chat history is unavailable"


class ConversationNotFoundError(StoreError):
    """No saved conversation has the id asked for (it may have been deleted in another tab)."""

    title = "Conversation not found"
    retryable = False


class ConversationExistsError(StoreError):
    """A conversation new to this copy has an id the store holds already: it is not overwritten."""

    title = "Conversation already saved"
    retryable = False


class ComparisonNotFoundError(StoreError):
    """No saved comparison has the id asked for (it may have been deleted in another tab)."""

    title = "Comparison not found"
    retryable = False


class ComparisonExistsError(StoreError):
    """A comparison new to this copy has an id the store holds already: it is not overwritten."""

    title = "Comparison already saved"
    retryable = False


class ComparisonChangedError(StoreError):
    """Another tab added or removed a column of this comparison since this copy was read: the two
    cannot be merged column by column, so nothing was saved. Reopening it shows the other one."""

    title = "Comparison changed elsewhere"
    retryable = False


class TestSetNotFoundError(StoreError):
    """No test set is saved under the name asked for (renamed or deleted in another tab)."""

    __test__ = False  # not a pytest class, whatever its name
    title = "Test set not found"
    retryable = False


class LabRunNotFoundError(StoreError):
    """No saved prompt-lab run has the id asked for (it may have been deleted in another tab)."""

    title = "Run not found"
    retryable = False


class ShareNotFoundError(StoreError):
    """No live share link has the token asked for. Unknown, revoked and expired read the same, so
    that a link's page tells a stranger nothing about what once was there."""

    title = "Not found"
    retryable = False


class RunsNotComparableError(ChatError):
    """Two prompt-lab runs are not runs of one saved test set, so their cells do not match up."""

    title = "These runs cannot be compared"
    retryable = False


class ImageError(ChatError):
    """An attached image was refused: not an image type the API takes, unreadable, too large to
    open safely, one too many, or for a model that reads no images. Nothing was sent."""

    title = "Image not attached"
    retryable = False


class ImportFormatError(ChatError):
    """A file to import is too large, not JSON, or not a conversation in a known shape; nothing was imported."""

    title = "The file could not be imported"
    retryable = False


class TemplateError(ChatError):
    """A prompt template is malformed, or a value does not fit it (a choice not offered, one
    missing). ``variable`` names the variable at fault when there is one, so that a form can
    point at its field. Nothing was sent."""

    title = "The template cannot be filled"
    retryable = False

    def __init__(self, message: str, variable: str | None = None) -> None:
        super().__init__(message)
        self.variable = variable


class SchemaError(ChatError):
    """A JSON schema typed by the user is not JSON, not a valid JSON Schema, or not the object
    schema structured output needs; the message says where. Nothing was sent."""

    title = "The JSON schema is invalid"
    retryable = False


class CheckError(ChatError):
    """A check on replies cannot be made: an unknown kind, an empty text, a pattern that is not a
    regular expression, a length that is no whole number. Nothing was checked."""

    title = "The check is invalid"
    retryable = False


class SpendingLimitError(ChatError):
    """A spending or request limit (CHAT_DAILY_USD, CHAT_MONTHLY_USD, CHAT_USER_RPM,
    CHAT_USER_DAILY_USD) is reached: the request was not sent. The message names the limit,
    what was counted, and when it frees up."""

    title = "Limit reached: not sent"
