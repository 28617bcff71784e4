"""Framework-free domain services: plain functions that take a session and return results."""


class DomainError(Exception):
    """A rule refused the operation; the message is shown to the user as is."""


class PermissionDenied(DomainError):
    pass
