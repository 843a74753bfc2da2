"""Errors raised by services and mapped to HTTP answers by views and the API."""


class ServiceError(Exception):
    """Bad input or a forbidden state change; the message is shown to the user as is."""

    status_code = 400

    def __init__(self, message: str, *, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class InvalidInput(ServiceError):
    status_code = 400


class Conflict(ServiceError):
    """The request is well-formed but the object's state forbids it (e.g. a closed study)."""

    status_code = 409


class NotFound(ServiceError):
    """The object is gone or no longer the user's: an assignment reassigned away, or a
    reviewer removed from the study's panel. Answered as a 404, like any object that is
    not the user's, so that nothing about it leaks."""

    status_code = 404
