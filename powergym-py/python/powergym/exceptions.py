"""Exceptions raised by PowerGym, all subclasses of :class:`PowergymError`.

Each carries ``kind`` (a stable snake_case name) and the details of its kind as
attributes, e.g. ``ValidationError.field`` or ``SchemaOutOfDateError.database_version``.
Messages never contain personal data.
"""

from powergym._powergym import (
    AccessDeniedError,
    AlreadyExistsError,
    ConflictError,
    ConnectionFailedError,
    ConsentRequiredError,
    DatabaseError,
    ExtensionMissingError,
    InsufficientStockError,
    InvalidDatabaseUrlError,
    InvalidTransitionError,
    NotFoundError,
    PaymentExceedsBalanceError,
    PermissionDeniedError,
    PowergymError,
    ResourceExhaustedError,
    UnsupportedError,
    SchemaOutOfDateError,
    TimeoutError,
    ValidationError,
)

__all__ = [
    "AccessDeniedError",
    "AlreadyExistsError",
    "ConflictError",
    "ConnectionFailedError",
    "ConsentRequiredError",
    "DatabaseError",
    "ExtensionMissingError",
    "InsufficientStockError",
    "InvalidDatabaseUrlError",
    "InvalidTransitionError",
    "NotFoundError",
    "PaymentExceedsBalanceError",
    "PermissionDeniedError",
    "PowergymError",
    "ResourceExhaustedError",
    "UnsupportedError",
    "SchemaOutOfDateError",
    "TimeoutError",
    "ValidationError",
]
