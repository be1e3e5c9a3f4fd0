"""CloudWatch figures of a queue that SQS itself does not give, read beside the SQS session."""

from __future__ import annotations

import functools
import time
from typing import Any

from sqs_contracts.sessions.base import SQSSession
from sqs_contracts.sessions.boto import BotoSession


def oldest_message_age(session: SQSSession, queue_name: str) -> float | None:
    """CloudWatch's ``ApproximateAgeOfOldestMessage`` of the last 5 minutes, if readable.

    SQS itself has no attribute for it, and receiving messages to look would spend their
    receive counts; endpoints without CloudWatch data (moto, the in-memory SQS) give None.
    """
    if not isinstance(session, BotoSession):
        return None
    meta = session.client.meta
    try:
        cloudwatch = _cloudwatch(str(meta.endpoint_url), meta.region_name)
        now = time.time()
        answer = cloudwatch.get_metric_statistics(
            Namespace="AWS/SQS",
            MetricName="ApproximateAgeOfOldestMessage",
            Dimensions=[{"Name": "QueueName", "Value": queue_name}],
            StartTime=now - 300,
            EndTime=now,
            Period=60,
            Statistics=["Maximum"],
        )
    except Exception:  # no CloudWatch access: the figure is optional
        return None
    points = sorted(answer.get("Datapoints", []), key=lambda p: p["Timestamp"])
    return float(points[-1]["Maximum"]) if points else None


@functools.lru_cache(maxsize=4)
def _cloudwatch(endpoint_url: str, region: str | None) -> Any:
    import boto3
    from botocore.config import Config

    # A custom SQS endpoint (moto, LocalStack) serves CloudWatch too; AWS has its own.
    custom = None if ".amazonaws.com" in endpoint_url else endpoint_url
    return boto3.Session().client(
        "cloudwatch",
        endpoint_url=custom,
        region_name=region,
        config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 1}),
    )
