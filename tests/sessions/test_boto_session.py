"""BotoSession.create: botocore's client-side parameter check (no request leaves the test)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ParamValidationError

from sqs_contracts.sessions import BotoSession

# Nothing listens here, and no request gets that far: see _stop_before_sending.
UNUSED = "http://127.0.0.1:9"


class _Sent(Exception):
    """Raised where the request would go out."""


def _stop_before_sending(session: BotoSession) -> Any:
    client = session.client

    def before_send(**kwargs: Any) -> None:
        raise _Sent

    client.meta.events.register("before-send.sqs", before_send)
    return client


def test_client_skips_botocore_parameter_validation_by_default() -> None:
    # The library builds and checks its requests; botocore's check would cost every call.
    client = _stop_before_sending(BotoSession.create(endpoint_url=UNUSED, region_name="us-east-1"))
    with pytest.raises(_Sent):
        client.get_queue_url(QueueName=5)


def test_parameter_validation_can_be_asked_for() -> None:
    session = BotoSession.create(
        endpoint_url=UNUSED, region_name="us-east-1", parameter_validation=True
    )
    client = _stop_before_sending(session)
    with pytest.raises(ParamValidationError, match="QueueName"):
        client.get_queue_url(QueueName=5)
