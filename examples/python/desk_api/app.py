"""A front-desk HTTP API on PowerGym: the integration a FastAPI backend copies.

One `AsyncGym` is opened when the app starts and closed when it stops; every endpoint
awaits it, so a call waiting on the database never holds up the others. PowerGym's
typed errors become HTTP statuses in one handler, and its records answer as JSON through
their `to_dict()`.

Who is acting comes from the `X-Staff-User` header: put this app behind the
authentication you already have (or call `gym.authenticate` at your login endpoint) and
let it set the header; PowerGym then checks what that staff member may do.

    DATABASE_URL=postgres://... uvicorn app:app
"""

from __future__ import annotations

import contextlib
import datetime
import os
from decimal import Decimal
from typing import Any, AsyncIterator, Optional

from fastapi import Depends, FastAPI, Header, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel

import powergym
from powergym import exceptions as errors

# What each PowerGym error means to an HTTP client.
STATUS = {
    errors.NotFoundError: 404,
    errors.AlreadyExistsError: 409,
    errors.ConflictError: 409,
    errors.InvalidTransitionError: 409,
    errors.PaymentExceedsBalanceError: 409,
    errors.InsufficientStockError: 409,
    errors.ValidationError: 422,
    errors.PermissionDeniedError: 403,
    errors.ConsentRequiredError: 403,
    errors.TimeoutError: 503,
    errors.ConnectionFailedError: 503,
    errors.ResourceExhaustedError: 503,
    errors.UnsupportedError: 501,
}


def status_of(error: errors.PowergymError) -> int:
    for kind, status in STATUS.items():
        if isinstance(error, kind):
            return status
    return 500


class NewClient(BaseModel):
    document_type: str
    document_number: str
    first_name: str
    last_name: str
    phone: str
    birth_date: datetime.date
    gender: str
    email: Optional[str] = None


class Sale(BaseModel):
    client_id: str
    plan_id: str
    start_date: Optional[datetime.date] = None


class NewPayment(BaseModel):
    subscription_id: str
    amount: Decimal
    method: str
    idempotency_key: Optional[str] = None


class Door(BaseModel):
    document_type: str
    document_number: str


def create_app(database_url: Optional[str] = None, **connect: Any) -> FastAPI:
    """The app, on the database at `database_url` (default: `DATABASE_URL`)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = database_url or os.environ["DATABASE_URL"]
        async with await powergym.AsyncGym.connect(url, **connect) as gym:
            await gym.check_schema()
            app.state.gym = gym
            yield

    app = FastAPI(title="PowerGym front desk", lifespan=lifespan)

    @app.exception_handler(errors.PowergymError)
    async def powergym_error(request: Request, error: errors.PowergymError) -> JSONResponse:
        # The message names fields and states, never personal data.
        return JSONResponse(
            status_code=status_of(error),
            content={"error": type(error).__name__, "detail": str(error)},
        )

    def gym(request: Request) -> powergym.AsyncGym:
        return request.app.state.gym

    async def actor(
        request: Request, x_staff_user: str = Header(...)
    ) -> powergym.Actor:
        return await gym(request).acting_as(x_staff_user)

    @app.get("/plans")
    async def plans(request: Request, who: powergym.Actor = Depends(actor)) -> list[dict]:
        page = await gym(request).list_plans(who, active_only=True)
        return [p.to_dict() for p in page.items]

    @app.post("/clients", status_code=201)
    async def register(body: NewClient, request: Request, who: powergym.Actor = Depends(actor)) -> dict:
        client = await gym(request).register_client(who, **body.model_dump())
        return client.to_dict()

    @app.post("/subscriptions", status_code=201)
    async def sell(body: Sale, request: Request, who: powergym.Actor = Depends(actor)) -> dict:
        sub = await gym(request).create_subscription(who, **body.model_dump())
        return sub.to_dict()

    @app.post("/payments", status_code=201)
    async def pay(body: NewPayment, request: Request, who: powergym.Actor = Depends(actor)) -> dict:
        receipt = await gym(request).record_payment(who, **body.model_dump())
        return receipt.to_dict()

    @app.get("/subscriptions/{subscription_id}/payments")
    async def payments(subscription_id: str, request: Request, who: powergym.Actor = Depends(actor)) -> list[dict]:
        page = await gym(request).subscription_payments(who, subscription_id)
        return [p.to_dict() for p in page.items]

    @app.post("/check-ins/document")
    async def check_in_by_document(body: Door, request: Request, who: powergym.Actor = Depends(actor)) -> dict:
        door = await gym(request).check_in_by_document(who, body.document_type, body.document_number)
        return door.to_dict()

    @app.post("/check-ins/face")
    async def check_in_by_face(embedding: UploadFile, request: Request, who: powergym.Actor = Depends(actor)) -> dict:
        # The camera's model runs elsewhere; it uploads 512 little-endian float32s, which
        # PowerGym takes as they are (any other size is its ValidationError: 422). A
        # bounded read keeps a huge upload out of memory.
        raw = await embedding.read(4096)
        door = await gym(request).check_in_by_face(who, raw)
        return door.to_dict()

    @app.get("/statistics")
    async def statistics(
        start: datetime.date, end: datetime.date, request: Request, who: powergym.Actor = Depends(actor)
    ) -> dict:
        return (await gym(request).statistics(who, start, end)).to_dict()

    return app


if "DATABASE_URL" in os.environ:
    app = create_app()
