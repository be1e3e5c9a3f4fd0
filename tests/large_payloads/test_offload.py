"""Large payloads through S3 on both backends: send, receive, retry, invalid pointers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from backends import receive
from s3_backends import other_account_session, unique_bucket

from sqs_contracts import RawQueue, SQSEnv, create_standard_queue
from sqs_contracts.backoff_policies import IMMEDIATE_RETURN
from sqs_contracts.large_payloads import S3AccessDenied, S3BucketNotFound, S3Offload
from sqs_contracts.sessions import ManualClock, MemorySession
from sqs_contracts.sessions.errors import SendBatchError
from sqs_contracts.sessions.s3_memory import MemoryS3Session
from sqs_contracts.testing import run_until_idle
from sqs_contracts.wire.payload_pointer import POINTER_CLASS, encode_pointer, parse_pointer

from .conftest import Recorder, Stack
from .contracts import Report, Small

FIVE_MB = 5 * 1024 * 1024


def _peek(stack: Stack, url: str) -> list[dict[str, object]]:
    """Receive what is on the queue as SQS holds it, then make it visible again."""
    messages = receive(stack.backend, url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    for m in messages:
        stack.backend.session.change_message_visibility(
            QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
        )
    return messages


def test_a_5_mb_payload_goes_through_s3_and_its_object_goes_after_the_job(stack: Stack) -> None:
    env = stack.env()
    url = stack.queue(env, "reports")
    seen: list[int] = []

    @env.handler(Report)
    def handle(task: Report) -> None:
        seen.append(len(task.blob))

    blob = "é" * (FIVE_MB // 6)  # written as \u00e9: 6 bytes each, 5 MB in all
    Report(name="big", blob=blob).delay(env=env)

    (sent,) = _peek(stack, url)
    pointer = parse_pointer(str(sent["Body"]), sent["MessageAttributes"])  # type: ignore[arg-type]
    assert json.loads(str(sent["Body"]))[0] == POINTER_CLASS
    assert pointer.bucket == stack.bucket
    stored = stack.s3.get_object(Bucket=pointer.bucket, Key=pointer.key)
    assert pointer.size == len(stored) > FIVE_MB - 100
    assert json.loads(stored) == {"name": "big", "blob": blob}
    assert sent["MessageAttributes"]["JobName"]["StringValue"] == "Report"  # type: ignore[index]
    assert stack.keys() == [pointer.key]

    result = env.queue("reports").process_batch()
    assert (result.succeeded_count(), result.failed_count()) == (1, 0)
    assert seen == [len(blob)]
    assert stack.keys() == []


def test_small_messages_stay_in_sqs(stack: Stack) -> None:
    env = stack.env()
    url = stack.queue(env, "reports")
    Small(n=1).delay(env=env)
    (sent,) = _peek(stack, url)
    assert json.loads(str(sent["Body"])) == {"n": 1}
    assert stack.keys() == []


def test_the_queues_maximum_message_size_offloads_below_the_threshold(stack: Stack) -> None:
    env = stack.env(threshold=1_048_576)
    url = stack.queue(env, "reports", maximum_message_size=1024)
    Report(name="r", blob="x" * 2000).delay(env=env)
    (sent,) = _peek(stack, url)
    assert parse_pointer(str(sent["Body"])).bucket == stack.bucket


def test_a_batch_mixes_offloaded_and_small_jobs(stack: Stack) -> None:
    recorder = Recorder(stack.backend.session)
    env = stack.env(session=recorder)
    stack.queue(env, "reports")
    names: list[str] = []
    numbers: list[int] = []
    env.handler(Report)(lambda task: names.append(f"{task.name}:{len(task.blob)}"))
    env.handler(Small)(lambda task: numbers.append(task.n))

    with env.batch():
        for i in range(12):
            Small(n=i).delay(env=env)
            if i % 4 == 0:
                Report(name=f"r{i}", blob="y" * 600_000).delay(env=env)
    assert len(stack.keys()) == 3
    # The request size counts the pointers: 15 entries fit in two requests of ten and five,
    # where the payloads themselves (1.8 MB) could not share one.
    batches = recorder.made("send_message_batch")
    assert [len(b["Entries"]) for b in batches] == [10, 5]

    queue = env.queue("reports")
    for _ in range(30):
        if len(numbers) + len(names) == 15:
            break
        queue.process_batch()
    assert sorted(numbers) == list(range(12))
    assert sorted(names) == ["r0:600000", "r4:600000", "r8:600000"]
    assert stack.keys() == []


def test_a_failed_job_finds_its_payload_on_the_retry(stack: Stack) -> None:
    env = stack.env()
    stack.queue(env, "reports")
    queue = env.queue("reports", backoff_policy=IMMEDIATE_RETURN)
    attempts: list[int] = []

    @env.handler(Report)
    def handle(task: Report) -> None:
        attempts.append(len(task.blob))
        if len(attempts) == 1:
            raise RuntimeError("first attempt fails")

    Report(name="r", blob="z" * 400_000).delay(env=env)
    (key,) = stack.keys()
    for _ in range(20):
        queue.process_batch()
        if len(attempts) == 1:
            assert stack.keys() == [key]  # still there for the retry
        if len(attempts) == 2:
            break
    assert attempts == [400_000, 400_000]
    assert stack.keys() == []


def test_keep_objects_keeps_them(stack: Stack) -> None:
    env = stack.env(keep_objects=True)
    stack.queue(env, "reports")
    env.handler(Report)(lambda task: None)
    Report(name="r", blob="k" * 300_000).delay(env=env)
    keys = stack.keys()
    assert env.queue("reports").process_batch().succeeded_count() == 1
    assert stack.keys() == keys != []


def _dead_letter_env(stack: Stack) -> tuple[SQSEnv, str]:
    env = stack.env()
    dead_url = stack.queue(env, "reports_dead")
    stack.queue(env, "reports", redrive_policy=env.redrive_policy("reports_dead", 5))
    env.queue("reports", dead_letter_invalid=True)
    return env, dead_url


def test_a_missing_object_is_an_invalid_message_naming_bucket_and_key(stack: Stack) -> None:
    env, dead_url = _dead_letter_env(stack)
    ran: list[str] = []
    env.handler(Report)(lambda task: ran.append(task.name))
    Report(name="r", blob="m" * 300_000).delay(env=env)
    (key,) = stack.keys()
    stack.s3.delete_object(Bucket=stack.bucket, Key=key)

    result = env.queue("reports").process_batch()
    assert (result.succeeded_count(), result.failed_count(), ran) == (0, 1, [])
    (dead,) = receive(stack.backend, dead_url, MessageAttributeNames=["All"])
    reason = dead["MessageAttributes"]["InvalidReason"]["StringValue"]
    assert f"s3://{stack.bucket}/{key}" in reason
    assert "does not exist" in reason
    # The dead letter is the pointer message, as it was sent.
    assert parse_pointer(dead["Body"], dead["MessageAttributes"]).key == key


def test_a_malformed_pointer_is_an_invalid_message(stack: Stack) -> None:
    env, dead_url = _dead_letter_env(stack)
    env.handler(Report)(lambda task: None)
    body = f'["{POINTER_CLASS}", {{"s3BucketName": "{stack.bucket}"'
    env.queue("reports").add_raw_job("Report", body, "{}", "json")

    assert env.queue("reports").process_batch().failed_count() == 1
    (dead,) = receive(stack.backend, dead_url, MessageAttributeNames=["All"])
    reason = dead["MessageAttributes"]["InvalidReason"]["StringValue"]
    assert "malformed S3 payload pointer" in reason
    assert "not JSON" in reason


def test_a_dead_letter_keeps_the_object_it_points_to(stack: Stack) -> None:
    env, dead_url = _dead_letter_env(stack)
    # No handler for the job: an invalid message, moved to the dead-letter queue at once.
    env.handler(Small)(lambda task: None)
    Report(name="r", blob="d" * 300_000).delay(env=env)
    (key,) = stack.keys()
    assert env.queue("reports").process_batch().failed_count() == 1
    (dead,) = receive(stack.backend, dead_url, MessageAttributeNames=["All"])
    assert parse_pointer(dead["Body"], dead["MessageAttributes"]).key == key
    assert stack.keys() == [key]


# ---------------------------------------------------------------- bad input


def test_a_threshold_above_1_mib_is_refused_naming_the_bucket() -> None:
    with pytest.raises(ValueError, match=r"bucket='payloads'.*threshold 2000000.*1048576"):
        S3Offload("payloads", threshold=2_000_000, s3=MemoryS3Session())


def test_a_missing_bucket_fails_at_delay_before_anything_is_sent(stack: Stack) -> None:
    recorder = Recorder(stack.backend.session)
    env = stack.env(session=recorder, bucket="no-such-bucket-" + stack.bucket[-16:])
    stack.queue(env, "reports")
    with pytest.raises(S3BucketNotFound, match=r"job 'Report' on queue 'reports'.*no-such-bucket"):
        Report(name="r", blob="n" * 300_000).delay(env=env)
    assert recorder.made("send_message") == []


def test_a_denied_bucket_fails_at_delay_naming_the_bucket(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = unique_bucket("foreign")
    if isinstance(stack.s3, MemoryS3Session):
        stack.s3.deny(bucket)
    else:
        assert stack.backend.endpoint_url is not None
        other_account_session(stack.backend.endpoint_url).create_bucket(Bucket=bucket)
        monkeypatch.setenv("MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS", "false")
    env = stack.env(bucket=bucket)
    stack.queue(env, "reports")
    with pytest.raises(S3AccessDenied, match=rf"{bucket}.*s3:PutObject"):
        Report(name="r", blob="n" * 300_000).delay(env=env)


class _FailingSends(Recorder):
    def send_message(self, **kwargs: object) -> object:
        raise RuntimeError("SQS is unreachable")


def test_an_object_is_deleted_when_the_send_fails(stack: Stack) -> None:
    env = stack.env(session=_FailingSends(stack.backend.session))
    stack.queue(env, "reports")
    with pytest.raises(RuntimeError, match="unreachable"):
        Report(name="r", blob="f" * 300_000).delay(env=env)
    assert stack.keys() == []


class _RefusedBatchEntries(Recorder):
    """Answers ``SendMessageBatch`` with every offloaded entry refused (a sender fault)."""

    def send_message_batch(self, **kwargs: Any) -> Any:
        entries = kwargs["Entries"]
        refused = [e for e in entries if "ExtendedPayloadSize" in e.get("MessageAttributes", {})]
        kept = [e for e in entries if e not in refused]
        answer = self.inner.send_message_batch(**{**kwargs, "Entries": kept}) if kept else {}
        failed = [
            {"Id": e["Id"], "SenderFault": True, "Code": "InvalidParameterValue", "Message": "no"}
            for e in refused
        ]
        return {"Successful": answer.get("Successful", []), "Failed": failed}


def test_an_object_is_deleted_when_its_batch_entry_is_refused(stack: Stack) -> None:
    env = stack.env(session=_RefusedBatchEntries(stack.backend.session))
    stack.queue(env, "reports")
    with pytest.raises(SendBatchError, match="Report"), env.batch():
        Report(name="small", blob="s").delay(env=env)
        Report(name="large", blob="f" * 300_000).delay(env=env)
    assert stack.keys() == []


def test_raw_queues_offload_only_when_asked(stack: Stack) -> None:
    env = stack.env()
    stack.queue(env, "raw_in")
    stack.queue(env, "raw_plain")
    opted = env.queue("raw_in", RawQueue.maker(offload=True))
    plain = env.queue("raw_plain", RawQueue)
    bodies: list[str] = []
    opted.connect_raw_processor(lambda message: bodies.append(message.body))
    plain.connect_raw_processor(lambda message: bodies.append(message.body))

    opted.add_raw_job("r" * 300_000)
    assert len(stack.keys()) == 1
    assert opted.process_batch().succeeded_count() == 1
    assert bodies == ["r" * 300_000]
    assert stack.keys() == []

    # Untouched by default: a pointer body written by someone else reaches the processor.
    pointer_body = f'["{POINTER_CLASS}", {{"s3BucketName": "b", "s3Key": "k"}}]'
    plain.add_raw_job(pointer_body)
    assert plain.process_batch().succeeded_count() == 1
    assert bodies[-1] == pointer_body


def test_a_legacy_java_pointer_is_resolved(stack: Stack) -> None:
    env = stack.env()
    url = stack.queue(env, "reports")
    names: list[str] = []
    env.handler(Report)(lambda task: names.append(task.name))
    payload = json.dumps({"name": "legacy", "blob": "l" * 1000}).encode()
    stack.s3.put_object(Bucket=stack.bucket, Key="old/1", Body=payload)
    body, size = encode_pointer(stack.bucket, "old/1", len(payload), legacy=True)
    job = {
        k: {"DataType": "String", "StringValue": v}
        for k, v in [("JobName", "Report"), ("ContentType", "json"), ("JobContext", "{}")]
    }
    stack.backend.session.send_message(
        QueueUrl=url, MessageBody=body, MessageAttributes={**job, **size}
    )
    assert env.queue("reports").process_batch().succeeded_count() == 1
    assert names == ["legacy"]
    assert stack.keys() == []


def test_the_worker_resolves_payloads_and_its_acknowledger_deletes_them() -> None:
    s3 = MemoryS3Session()
    s3.create_bucket(Bucket="payloads")
    env = SQSEnv(
        MemorySession(clock=ManualClock()),
        queue_prefix="worker-",
        large_payloads=S3Offload("payloads", s3=s3),
    )
    create_standard_queue(env, "reports")
    env.queue("reports", backoff_policy=IMMEDIATE_RETURN)
    sizes: list[int] = []

    @env.handler(Report)
    def handle(task: Report) -> None:
        sizes.append(len(task.blob))
        if len(sizes) == 1:
            assert s3.keys("payloads") != []
            raise RuntimeError("first attempt fails")

    Report(name="w", blob="w" * 500_000).delay(env=env)
    result = run_until_idle(env, "reports")
    assert sizes == [500_000, 500_000]
    assert [run.action for run in result.ran] == ["retry", "delete"]
    assert s3.keys("payloads") == []


class _RefusedDeleteOfFirst(Recorder):
    """Answers ``DeleteMessageBatch`` with its first entry refused: that message stays."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.refused_handles: list[str] = []

    def delete_message_batch(self, **kwargs: Any) -> Any:
        first, *rest = kwargs["Entries"]
        self.refused_handles.append(first["ReceiptHandle"])
        answer = self.inner.delete_message_batch(**{**kwargs, "Entries": rest}) if rest else {}
        refused = {"Id": first["Id"], "SenderFault": True, "Code": "ReceiptHandleIsInvalid"}
        return {"Successful": answer.get("Successful", []), "Failed": [refused]}


def test_a_payload_object_stays_while_its_message_could_not_be_deleted(stack: Stack) -> None:
    session = _RefusedDeleteOfFirst(stack.backend.session)
    env = stack.env(session=session)
    url = stack.queue(env, "reports")
    env.handler(Report)(lambda task: None)
    for name in ("first", "second"):
        Report(name=name, blob=name[0] * 300_000).delay(env=env)
    assert len(stack.keys()) == 2

    result = env.queue("reports").process_batch()

    assert result.succeeded_count() == 2
    (left,) = stack.keys()
    (handle,) = session.refused_handles
    stack.backend.session.change_message_visibility(
        QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0
    )
    (message,) = receive(stack.backend, url, MessageAttributeNames=["All"])
    kept = parse_pointer(str(message["Body"]), message["MessageAttributes"])
    assert kept.key == left


def test_payload_objects_go_with_their_messages_when_every_delete_succeeds(stack: Stack) -> None:
    env = stack.env()
    stack.queue(env, "reports")
    env.handler(Report)(lambda task: None)
    for name in ("first", "second", "third"):
        Report(name=name, blob=name[0] * 300_000).delay(env=env)
    assert len(stack.keys()) == 3
    assert env.queue("reports").process_batch().succeeded_count() == 3
    assert stack.keys() == []
