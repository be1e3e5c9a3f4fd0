"""The example app's task contracts. Producers import only this module, never the handlers."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, Field

from sqs_contracts import Task


class SendEmail(Task, queue="emails", name="send_email"):
    """Send one email."""

    to: str = Field(max_length=254)
    subject: str
    body: str = ""


class Priority(str, enum.Enum):
    """How urgently an order ships."""

    normal = "normal"
    express = "express"


class Line(BaseModel):
    """One order line."""

    sku: str
    quantity: int = Field(ge=1)
    unit_price: Decimal


class PlaceOrder(Task, queue="orders.fifo", name="place_order"):
    """Place a customer's order; FIFO per customer."""

    order_id: UUID
    customer: str
    lines: list[Line]
    placed_at: datetime
    priority: Priority = Priority.normal


class ResizeImage(Task, queue="images", name="resize_image", version=2):
    """Resize an image to a width; version 2 replaced ``size`` by ``width``."""

    key: str
    width: int = Field(gt=0, le=10_000)


@ResizeImage.upcaster(from_version=1)
def _size_to_width(payload: dict[str, object]) -> dict[str, object]:
    payload["width"] = payload.pop("size", 512)
    return payload
