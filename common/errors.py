"""The project's one root exception and its meaningful subclasses.

They are translated into HTTP statuses or chat replies only at the edges.
"""


class ApplybotError(Exception):
    """Root of every error applybot raises on purpose."""

    http_status = 500


class ConfigurationError(ApplybotError):
    """A setting is missing or wrong."""


class IngestError(ApplybotError):
    """A file could not be turned into a document."""

    http_status = 422


class UnsupportedFormatError(IngestError):
    """The file's extension is not one applybot reads."""


class EmptyDocumentError(IngestError):
    """The file holds no text (empty, or a PDF without a text layer)."""


class CorruptFileError(IngestError):
    """The file could not be read in its claimed format."""


class InvalidQueryError(ApplybotError):
    """A question or query cannot be processed (empty, too long, no content).

    `code` names the problem for clients that show their own wording; `limit` is the limit broken.
    """

    http_status = 422

    def __init__(self, message: str, *, code: str = "invalid", limit: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.limit = limit


class IndexUnavailableError(ApplybotError):
    """The vector index or the database cannot be reached."""

    http_status = 503


class HandoffNotFoundError(ApplybotError):
    """No such handoff thread (or the caller may not see it)."""

    http_status = 404


class HandoffClosedError(ApplybotError):
    """The handoff thread has been closed; nothing more can be written to it."""

    http_status = 409
