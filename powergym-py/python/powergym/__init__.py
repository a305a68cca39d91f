"""PowerGym: the data and rules of a gym, from Python.

A thin layer over the Rust core (``powergym-core``): every rule runs in Rust, every
call that waits on the database releases the GIL.

    import powergym
    with powergym.Gym.connect("postgres://powergym:powergym@127.0.0.1/powergym") as gym:
        gym.migrate()
        desk = gym.authenticate("desk", "its-password")
        page = gym.list_clients(desk, limit=20)
"""

from enum import Enum

from powergym._powergym import (
    AccessDecision,
    AdoptionChange,
    AdoptionReport,
    SetAside,
    TableAccount,
    adopt,
    adoption_plan,
    Actor,
    BiometricConsent,
    CheckIn,
    FaceCheckIn,
    FaceMatch,
    FaceTemplate,
    PaymentReceipt,
    Plan,
    Product,
    Reward,
    Staff,
    StockChange,
    Subscription,
    Client,
    ClientPage,
    ConnectionStats,
    DatabaseSize,
    DuplicateIndexes,
    FaceIndexStats,
    HealthCheck,
    HealthReport,
    IndexRebuild,
    LockWait,
    SchemaState,
    SessionInfo,
    SlowQueries,
    SlowQuery,
    TableStats,
    UnusedIndex,
    Gym,
    MigrationRecord,
    PaymentOutcome,
    PriceSnapshot,
    RewardConfig,
    RewardDecision,
    SubscriptionView,
    ThumbnailKey,
    __version__,
    accept_payment,
    apply_reward,
    authorize,
    business_date,
    decide_access,
    end_date,
    evaluate_reward,
    guard_last_admin,
    initial_status,
    latest_schema_version,
    movement_quantity,
    open_legacy_thumbnail,
    price_snapshot,
    renewal_start,
    reward_expired,
    sale_total,
    stock_after_entry,
    stock_after_exit,
    stock_status,
    transition,
)
from powergym.exceptions import PowergymError


class DocumentType(str, Enum):
    """Colombian identity document types."""

    CC = "CC"
    TI = "TI"
    CE = "CE"
    PP = "PP"


class Gender(str, Enum):
    """Gender as the original system records it."""

    MALE = "male"
    FEMALE = "female"
    OTHER = "other"


class SubscriptionStatus(str, Enum):
    """Where a subscription is in its life; compares equal to its string value."""

    PENDING_PAYMENT = "pending_payment"
    SCHEDULED = "scheduled"
    ACTIVE = "active"
    EXPIRED = "expired"
    CANCELED = "canceled"


class SubscriptionEvent(str, Enum):
    """Something that happens to an existing subscription."""

    PAY = "pay"
    START_DATE_REACHED = "start_date_reached"
    END_DATE_PASSED = "end_date_passed"
    CANCEL = "cancel"


class Verdict(str, Enum):
    """How a line of the health report stands, from best to worst; compares equal to the
    label ``HealthReport.verdict`` and ``HealthCheck.verdict`` return."""

    OK = "ok"
    WARN = "warn"
    CRITICAL = "critical"


__all__ = [
    "AccessDecision",
    "Actor",
    "BiometricConsent",
    "CheckIn",
    "FaceCheckIn",
    "FaceMatch",
    "FaceTemplate",
    "PaymentReceipt",
    "Plan",
    "Product",
    "Reward",
    "Staff",
    "StockChange",
    "Subscription",
    "PaymentOutcome",
    "PriceSnapshot",
    "RewardConfig",
    "RewardDecision",
    "SubscriptionView",
    "ThumbnailKey",
    "open_legacy_thumbnail",
    "accept_payment",
    "apply_reward",
    "authorize",
    "business_date",
    "decide_access",
    "end_date",
    "evaluate_reward",
    "guard_last_admin",
    "movement_quantity",
    "price_snapshot",
    "renewal_start",
    "reward_expired",
    "sale_total",
    "stock_after_entry",
    "stock_after_exit",
    "stock_status",
    "AdoptionChange",
    "AdoptionReport",
    "SetAside",
    "TableAccount",
    "adopt",
    "adoption_plan",
    "Client",
    "ClientPage",
    "ConnectionStats",
    "DatabaseSize",
    "DuplicateIndexes",
    "FaceIndexStats",
    "HealthCheck",
    "HealthReport",
    "IndexRebuild",
    "LockWait",
    "SchemaState",
    "SessionInfo",
    "SlowQueries",
    "SlowQuery",
    "TableStats",
    "UnusedIndex",
    "Verdict",
    "DocumentType",
    "Gender",
    "Gym",
    "MigrationRecord",
    "PowergymError",
    "SubscriptionEvent",
    "SubscriptionStatus",
    "__version__",
    "initial_status",
    "latest_schema_version",
    "transition",
]
