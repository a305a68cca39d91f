"""PowerGym's enumerations, each value exactly the code powergym-core uses.

Every class is a ``str`` enum: a member compares equal to its code
(``SubscriptionStatus.ACTIVE == "active"``), formats as it (``f"{status}"`` gives
``active``) and serialises as it (``json.dumps`` writes ``"active"``), so a member can go
wherever the code went. Records returned by PowerGym carry members of these classes;
arguments accept a member or its code.

This module imports nothing from the native module: the native module imports it to
build members.
"""

from enum import Enum


class _Code(str, Enum):
    """A ``str`` enum whose ``str()`` and ``format()`` are its code (Python 3.9+)."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, format_spec: str) -> str:
        return format(str(self.value), format_spec)


class DocumentType(_Code):
    """Colombian identity document types."""

    CC = "CC"
    """Cédula de ciudadanía: adult citizen's ID."""
    TI = "TI"
    """Tarjeta de identidad: minor's ID."""
    CE = "CE"
    """Cédula de extranjería: foreign resident's ID."""
    PP = "PP"
    """Passport."""


class Gender(_Code):
    """Gender as the original system records it."""

    MALE = "male"
    FEMALE = "female"
    OTHER = "other"


class SubscriptionStatus(_Code):
    """Where a subscription is in its life."""

    PENDING_PAYMENT = "pending_payment"
    SCHEDULED = "scheduled"
    ACTIVE = "active"
    EXPIRED = "expired"
    CANCELED = "canceled"


class SubscriptionEvent(_Code):
    """Something that happens to an existing subscription."""

    PAY = "pay"
    START_DATE_REACHED = "start_date_reached"
    END_DATE_PASSED = "end_date_passed"
    CANCEL = "cancel"


class Role(_Code):
    """A staff member's role."""

    ADMIN = "admin"
    EMPLOYEE = "employee"


class PaymentMethod(_Code):
    """How a payment was made."""

    CASH = "cash"
    QR = "qr"


class DurationUnit(_Code):
    """The unit of a plan's duration."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


class DenialReason(_Code):
    """Why a member was refused at the door."""

    CLIENT_INACTIVE = "client_inactive"
    NO_SUBSCRIPTION = "no_subscription"
    NOT_STARTED_YET = "not_started_yet"
    SUBSCRIPTION_EXPIRED = "subscription_expired"
    UNPAID = "unpaid"
    ALREADY_CHECKED_IN = "already_checked_in"


class CheckInMethod(_Code):
    """How a member was identified at the door."""

    DOCUMENT = "document"
    FACE = "face"
    MANUAL = "manual"


class StockStatus(_Code):
    """Where a product's stock stands."""

    NORMAL = "NORMAL"
    LOW_STOCK = "LOW_STOCK"
    STOCK_OUT = "STOCK_OUT"
    OVERSTOCK = "OVERSTOCK"


class MovementType(_Code):
    """The direction of a stock movement."""

    ENTRY = "ENTRY"
    EXIT = "EXIT"


class RewardStatus(_Code):
    """The life of a reward."""

    PENDING = "pending"
    APPLIED = "applied"
    EXPIRED = "expired"


class Alert(_Code):
    """Something in the statistics that needs the manager's attention."""

    LOW_STOCK = "low_stock"
    OUT_OF_STOCK = "out_of_stock"
    SUBSCRIPTIONS_EXPIRING = "subscriptions_expiring"
    PENDING_DEBT = "pending_debt"


class ActivityKind(_Code):
    """The kind of an event in the recent-activity feed."""

    CHECK_IN = "check_in"
    PAYMENT = "payment"
    CLIENT_REGISTERED = "client_registered"
    SUBSCRIPTION_CREATED = "subscription_created"


class Verdict(_Code):
    """How a line of the health report stands, from best to worst."""

    OK = "ok"
    WARN = "warn"
    CRITICAL = "critical"


class FaceMatchOutcome(_Code):
    """How a face compared (``Gym.identify_face``, ``Gym.verify_face``)."""

    MATCH = "match"
    NO_MATCH = "no_match"
    AMBIGUOUS = "ambiguous"


class FaceCheckInOutcome(_Code):
    """What a face check-in came to (``Gym.check_in_by_face``)."""

    GRANTED = "granted"
    DENIED = "denied"
    NO_MATCH = "no_match"
    AMBIGUOUS = "ambiguous"


__all__ = [
    "ActivityKind",
    "Alert",
    "CheckInMethod",
    "DenialReason",
    "DocumentType",
    "DurationUnit",
    "FaceCheckInOutcome",
    "FaceMatchOutcome",
    "Gender",
    "MovementType",
    "PaymentMethod",
    "RewardStatus",
    "Role",
    "StockStatus",
    "SubscriptionEvent",
    "SubscriptionStatus",
    "Verdict",
]
