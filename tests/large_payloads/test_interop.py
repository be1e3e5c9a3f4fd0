"""Interop with AWS's Python Extended Client on the moto server, in both directions."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import boto3
import pytest
from s3_backends import unique_bucket

from sqs_contracts import SQSEnv, create_standard_queue
from sqs_contracts.large_payloads import S3ObjectNotFound, S3Offload
from sqs_contracts.sessions import BotoSession
from sqs_contracts.sessions.s3_boto import BotoS3Session

from .contracts import Report


def _import_extended_client() -> ModuleType:
    # Importing the package replaces boto3.Session process-wide; put boto3 back as it was.
    session_class, default_session = boto3.session.Session, boto3.DEFAULT_SESSION
    try:
        import sqs_extended_client.client as module
    finally:
        boto3.Session = boto3.session.Session = session_class  # type: ignore[misc]
        boto3.DEFAULT_SESSION = default_session
    return module


ext = _import_extended_client()


@pytest.fixture
def moto_env(moto_endpoint: str) -> tuple[SQSEnv, BotoS3Session, str]:
    s3 = BotoS3Session(endpoint_url=moto_endpoint, region_name="us-east-1")
    bucket = unique_bucket("interop")
    s3.create_bucket(Bucket=bucket)
    sqs = BotoSession.create(endpoint_url=moto_endpoint, region_name="us-east-1")
    env = SQSEnv(
        sqs,
        queue_prefix=unique_bucket("interop") + "-",
        large_payloads=S3Offload(bucket, s3=s3),
    )
    return env, s3, bucket


@pytest.fixture
def extended_sqs(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    # The extended client builds its S3 client with no endpoint: botocore then reads this.
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_endpoint)
    session = ext.SQSExtendedClientSession(region_name="us-east-1")
    return session.client("sqs", endpoint_url=moto_endpoint)


def test_the_extended_client_reads_the_jobs_we_offload(
    moto_env: tuple[SQSEnv, BotoS3Session, str], extended_sqs: Any
) -> None:
    env, s3, bucket = moto_env
    url = create_standard_queue(env, "reports")
    try:
        Report(name="big", blob="w" * 400_000).delay(env=env)
        extended_sqs.large_payload_support = bucket
        extended_sqs.delete_payload_from_s3 = True
        (message,) = extended_sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])[
            "Messages"
        ]
        assert json.loads(message["Body"]) == {"name": "big", "blob": "w" * 400_000}
        assert message["MessageAttributes"]["JobName"]["StringValue"] == "Report"
        extended_sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        assert s3.client.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    finally:
        env.session.delete_queue(QueueUrl=url)


def test_our_worker_runs_jobs_the_extended_client_offloads(
    moto_env: tuple[SQSEnv, BotoS3Session, str], extended_sqs: Any
) -> None:
    env, s3, _ = moto_env
    url = create_standard_queue(env, "reports")
    try:
        their_bucket = unique_bucket("theirs")
        s3.create_bucket(Bucket=their_bucket)
        extended_sqs.large_payload_support = their_bucket
        body = json.dumps({"name": "from-java-or-python", "blob": "v" * 300_000})
        extended_sqs.send_message(
            QueueUrl=url,
            MessageBody=body,
            MessageAttributes={
                "JobName": {"DataType": "String", "StringValue": "Report"},
                "ContentType": {"DataType": "String", "StringValue": "json"},
                "JobContext": {"DataType": "String", "StringValue": "{}"},
            },
        )
        (key,) = [o["Key"] for o in s3.client.list_objects_v2(Bucket=their_bucket)["Contents"]]
        names: list[str] = []
        env.handler(Report)(lambda task: names.append(f"{task.name}:{len(task.blob)}"))

        assert env.queue("reports").process_batch().succeeded_count() == 1
        assert names == ["from-java-or-python:300000"]
        with pytest.raises(S3ObjectNotFound):
            s3.get_object(Bucket=their_bucket, Key=key)
    finally:
        env.session.delete_queue(QueueUrl=url)
