"""The original stack, written as the original FastAPI backend did it.

SQLAlchemy 2 ORM models over the original schema (powergym-core/tests/fixtures/original/
schema.sql), psycopg 3 and pgvector-python; one `Session` per request, opened and closed
as FastAPI's `get_db` dependency did, the acting user looked up first as
`get_current_user` did, the engine as the original configured it (pool 5, overflow 10,
pre-ping). Each use case follows ../shared/spec/domain.md: check-in access rules §4.1,
payments §3.1–3.2, stock removal §6.3, face authentication §7.3–7.4. There was no
check-in by document in the original; the one here is what it would have been: the
client by document number (its `GET /clients/dni/…` query), then §4.1 from step 2.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    create_engine,
    func,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, sessionmaker

BOGOTA = ZoneInfo("America/Bogota")
# FACE_RECOGNITION_TOLERANCE, the original's default (§7.1, §7.3): distance ≤ 0.6.
TOLERANCE = 0.6


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    username: Mapped[str] = mapped_column(String, primary_key=True)
    email: Mapped[str | None] = mapped_column(String)
    full_name: Mapped[str | None] = mapped_column(String)
    hashed_password: Mapped[str] = mapped_column(String)
    role: Mapped[str] = mapped_column(Enum("ADMIN", "EMPLOYEE", name="user_role_enum"))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Client(Base):
    __tablename__ = "clients"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    dni_type: Mapped[str] = mapped_column(Enum("CC", "TI", "CE", "PP", name="document_type_enum"))
    dni_number: Mapped[str] = mapped_column(String, unique=True, index=True)
    first_name: Mapped[str] = mapped_column(String)
    middle_name: Mapped[str | None] = mapped_column(String)
    last_name: Mapped[str] = mapped_column(String)
    second_last_name: Mapped[str | None] = mapped_column(String)
    phone: Mapped[str] = mapped_column(String)
    alternative_phone: Mapped[str | None] = mapped_column(String)
    birth_date: Mapped[dt.date] = mapped_column(Date)
    gender: Mapped[str] = mapped_column(Enum("MALE", "FEMALE", "OTHER", name="gender_type_enum"))
    address: Mapped[str | None] = mapped_column(String)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    meta_info: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ClientBiometric(Base):
    __tablename__ = "client_biometrics"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(Enum("FACE", "FINGERPRINT", name="biometric_type_enum"))
    thumbnail: Mapped[str | None] = mapped_column(Text)
    embedding_vector = mapped_column(Vector(512), nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    meta_info: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Attendance(Base):
    __tablename__ = "attendances"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    check_in: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    meta_info: Mapped[dict] = mapped_column(JSON, default=dict)


class Plan(Base):
    __tablename__ = "plans"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(Text)
    slug: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    price: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    currency: Mapped[str] = mapped_column(String(3), default="COP")
    duration_unit: Mapped[str] = mapped_column(Enum("DAY", "WEEK", "MONTH", "YEAR", name="duration_type_enum"))
    duration_count: Mapped[int] = mapped_column(Integer)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    meta_info: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


SUBSCRIPTION_STATUS = Enum(
    "ACTIVE", "EXPIRED", "PENDING_PAYMENT", "SCHEDULED", "CANCELED", name="subscription_status_enum"
)


class Subscription(Base):
    __tablename__ = "subscriptions"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.id", ondelete="RESTRICT"))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(SUBSCRIPTION_STATUS, default="PENDING_PAYMENT")
    cancellation_date: Mapped[dt.date | None] = mapped_column(Date)
    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    final_price: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    meta_info: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    plan: Mapped[Plan] = relationship()


class Payment(Base):
    __tablename__ = "payments"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    subscription_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"))
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    payment_method: Mapped[str] = mapped_column(Enum("CASH", "QR", name="payment_method_enum"))
    payment_date: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    meta_info: Mapped[dict] = mapped_column(JSON, default=dict)


class Product(Base):
    __tablename__ = "products"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(150))
    description: Mapped[str | None] = mapped_column(Text)
    capacity_value: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    unit_type: Mapped[str] = mapped_column(String(10))
    price: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    currency: Mapped[str] = mapped_column(String(3), default="COP")
    photo_url: Mapped[str | None] = mapped_column(String(500))
    available_quantity: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=0)
    min_stock: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("5.00"))
    max_stock: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    stock_status: Mapped[str] = mapped_column(
        Enum("NORMAL", "LOW_STOCK", "STOCK_OUT", "OVERSTOCK", name="stock_status_enum"), default="NORMAL"
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    meta_info: Mapped[dict] = mapped_column(JSON, default=dict)


class InventoryMovement(Base):
    __tablename__ = "inventory_movements"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    movement_type: Mapped[str] = mapped_column(Enum("ENTRY", "EXIT", name="inventory_movement_enum"))
    quantity: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    movement_date: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    responsible: Mapped[str | None] = mapped_column(ForeignKey("users.username", ondelete="SET NULL"))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    meta_info: Mapped[dict] = mapped_column(JSON, default=dict)


class Denied(Exception):
    """An HTTP error the original would have answered (401/403/404/409/400)."""


class Original:
    """The original backend's request handling, one method per endpoint measured."""

    def __init__(self, url: str, username: str):
        # app/db/session.py of the original: pool 5, overflow 10, pre-ping, no recycle.
        self.engine = create_engine(url, pool_size=5, max_overflow=10, pool_pre_ping=True)
        self.SessionLocal = sessionmaker(bind=self.engine, autocommit=False, autoflush=False)
        self.username = username

    def close(self) -> None:
        self.engine.dispose()

    # -- dependencies -------------------------------------------------------------------

    def _current_user(self, db, *, active: bool = True) -> User:
        # get_current_user: the token's `sub` looked up on every request.
        user = db.query(User).filter(User.username == self.username).first()
        if user is None:
            raise Denied("401 could not validate credentials")
        if active and user.disabled:
            raise Denied("400 inactive user")
        return user

    @staticmethod
    def _today() -> dt.date:
        return dt.datetime.now(BOGOTA).date()

    # -- §4.1 access validation and attendance -------------------------------------------

    def _validate_and_check_in(self, db, client: Client, user: User) -> dict:
        if not client.is_active:
            raise Denied("403 client_inactive")
        today = self._today()
        start = dt.datetime.combine(today, dt.time.min, BOGOTA).astimezone(dt.timezone.utc)
        end = dt.datetime.combine(today, dt.time.max, BOGOTA).astimezone(dt.timezone.utc)
        earlier = (
            db.query(Attendance)
            .filter(
                Attendance.client_id == client.id,
                Attendance.check_in >= start,
                Attendance.check_in <= end,
            )
            .first()
        )
        if earlier is not None:
            raise Denied("409 already_checked_in")
        subscription = (
            db.query(Subscription)
            .filter(Subscription.client_id == client.id, Subscription.status == "ACTIVE")
            .order_by(Subscription.end_date.desc())
            .first()
        )
        if subscription is None:
            raise Denied("403 no_subscription")
        if subscription.end_date < today:
            raise Denied("403 subscription_expired")
        attendance = Attendance(
            id=uuid.uuid4(),
            client_id=client.id,
            meta_info={"ip": None, "authenticated_by": user.username},
        )
        db.add(attendance)
        db.commit()
        db.refresh(attendance)
        # After the commit every loaded object is expired: reading them reloads them.
        total = (
            db.query(func.count(Attendance.id))
            .filter(
                Attendance.client_id == client.id,
                Attendance.check_in >= subscription.start_date,
            )
            .scalar()
        )
        return {
            "success": True,
            "can_enter": True,
            "attendance_id": attendance.id,
            "check_in": attendance.check_in,
            "client": {
                "id": client.id,
                "first_name": client.first_name,
                "last_name": client.last_name,
                "dni_number": client.dni_number,
            },
            "total_attendances": total,
        }

    def check_in_by_document(self, dni_number: str) -> dict:
        db = self.SessionLocal()
        try:
            user = self._current_user(db, active=False)
            client = db.query(Client).filter(Client.dni_number == dni_number).first()
            if client is None:
                raise Denied("404 client_not_found")
            return self._validate_and_check_in(db, client, user)
        finally:
            db.close()

    # -- §7.3–7.4 face authentication ----------------------------------------------------

    def _authenticate(self, db, probe) -> tuple[Client, float]:
        distance = ClientBiometric.embedding_vector.cosine_distance(probe).label("distance")
        hits = (
            db.query(ClientBiometric.id, distance)
            .filter(
                ClientBiometric.type == "FACE",
                ClientBiometric.is_active.is_(True),
                ClientBiometric.embedding_vector.is_not(None),
                ClientBiometric.embedding_vector.cosine_distance(probe) <= TOLERANCE,
            )
            .order_by(distance)
            .limit(5)
            .all()
        )
        # Each hit re-fetched by id (the original's N+1).
        found = [
            (db.query(ClientBiometric).filter(ClientBiometric.id == hit.id).first(), hit.distance)
            for hit in hits
        ]
        if not found:
            raise Denied("401 no matching face")
        best, best_distance = min(found, key=lambda pair: pair[1])
        client = db.query(Client).filter(Client.id == best.client_id).first()
        if client is None or not client.is_active:
            raise Denied("401 no matching face")
        return client, best_distance

    def identify_face(self, probe) -> dict:
        db = self.SessionLocal()
        try:
            self._current_user(db, active=False)
            client, distance = self._authenticate(db, probe)
            return {"client_id": client.id, "distance": distance, "confidence": 1.0 - distance}
        finally:
            db.close()

    def check_in_by_face(self, probe) -> dict:
        db = self.SessionLocal()
        try:
            user = self._current_user(db, active=False)
            client, _ = self._authenticate(db, probe)
            return self._validate_and_check_in(db, client, user)
        finally:
            db.close()

    # -- §3.1–3.2 payments ---------------------------------------------------------------

    def record_payment(self, subscription_id: uuid.UUID, amount: Decimal, method: str) -> dict:
        db = self.SessionLocal()
        try:
            self._current_user(db)
            subscription = db.query(Subscription).filter(Subscription.id == subscription_id).first()
            if subscription is None:
                raise Denied("404 subscription not found")
            if subscription.status not in ("PENDING_PAYMENT", "SCHEDULED"):
                raise Denied(f"400 cannot pay a subscription in status {subscription.status}")
            if method not in ("cash", "qr"):
                raise Denied("400 method")
            if amount <= 0:
                raise Denied("400 amount")

            def effective_price() -> Decimal:
                if subscription.final_price is not None:
                    return subscription.final_price
                return subscription.plan.price

            def total_paid() -> Decimal:
                return (
                    db.query(func.coalesce(func.sum(Payment.amount), 0))
                    .filter(Payment.subscription_id == subscription.id)
                    .scalar()
                )

            if subscription.status == "PENDING_PAYMENT":
                remaining = effective_price() - total_paid()
                if amount > remaining:
                    raise Denied(f"400 amount exceeds the remaining debt {remaining}")
            today = self._today()
            same_day = (
                db.query(Payment)
                .filter(
                    Payment.subscription_id == subscription.id,
                    func.date(Payment.payment_date) == today,
                )
                .first()
            )
            if same_day is not None:
                raise Denied("400 a payment was already recorded today")
            payment = Payment(
                id=uuid.uuid4(),
                subscription_id=subscription.id,
                amount=amount,
                payment_method=method.upper(),
                meta_info={},
            )
            db.add(payment)
            db.commit()
            db.refresh(payment)
            db.refresh(subscription)
            remaining_debt = None
            if subscription.status == "PENDING_PAYMENT":
                remaining = effective_price() - total_paid()
                if remaining <= 0:
                    subscription.status = "ACTIVE"
                    db.commit()
                    db.refresh(subscription)
                    remaining = Decimal(0)
                remaining_debt = remaining
            return {
                "payment_id": payment.id,
                "amount": payment.amount,
                "payment_date": payment.payment_date,
                "remaining_debt": remaining_debt,
                "status": subscription.status,
            }
        finally:
            db.close()

    # -- §6.3 stock removal (a sale) -------------------------------------------------------

    def sell(self, product_id: uuid.UUID, quantity: Decimal) -> dict:
        db = self.SessionLocal()
        try:
            user = self._current_user(db)
            if quantity <= 0:
                raise Denied("400 quantity")
            product = db.query(Product).filter(Product.id == product_id).first()
            if product is None:
                raise Denied("404 product not found")
            if product.available_quantity < quantity:
                raise Denied("400 insufficient stock")
            movement = InventoryMovement(
                id=uuid.uuid4(),
                product_id=product.id,
                movement_type="EXIT",
                quantity=-quantity,
                responsible=user.username,
                notes=None,
                meta_info={},
            )
            db.add(movement)
            db.commit()
            db.refresh(movement)
            db.refresh(product)
            return {
                "movement_id": movement.id,
                "available_quantity": product.available_quantity,
                "stock_status": product.stock_status,
            }
        finally:
            db.close()
