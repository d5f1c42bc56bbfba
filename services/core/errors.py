"""Errors whose message is meant for the person who caused them (Russian UI)."""


class DomainError(Exception):
    """A rule refused the request; ``str(err)`` is shown to the user as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    pass


class Forbidden(DomainError):
    pass


class Conflict(DomainError):
    pass


class Unavailable(DomainError):
    """The database could not be reached or is busy: nothing was changed, the request may be repeated."""
