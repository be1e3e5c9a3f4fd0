"""The Extended Client pointer: round trips, the legacy form, malformed input, and byte-for-byte
agreement with AWS's Python ``amazon-sqs-extended-client`` (its own code, run here)."""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import boto3.session
import pytest
from s3_backends import unique_bucket

from sqs_contracts.sessions import BotoSession
from sqs_contracts.sessions.s3 import S3ObjectNotFound
from sqs_contracts.sessions.s3_boto import BotoS3Session
from sqs_contracts.sessions.s3_memory import MemoryS3Session
from sqs_contracts.wire.payload_pointer import (
    LEGACY_POINTER_CLASS,
    LEGACY_SIZE_ATTRIBUTE,
    MAX_KEY_PREFIX_BYTES,
    POINTER_CLASS,
    SIZE_ATTRIBUTE,
    MalformedPointer,
    PayloadPointer,
    encode_pointer,
    is_pointer,
    new_key,
    parse_pointer,
)


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


def test_importing_the_extended_client_left_boto3_alone() -> None:
    assert boto3.Session is boto3.session.Session
    assert boto3.Session.__name__ == "Session"


class _BotoShapedS3:
    """A MemoryS3Session answering as a boto3 client does, for the extended client's code."""

    def __init__(self, s3: MemoryS3Session) -> None:
        self.s3 = s3

    def put_object(self, **kwargs: Any) -> None:
        self.s3.put_object(**kwargs)

    def get_object(self, **kwargs: Any) -> dict[str, Any]:
        return {"Body": io.BytesIO(self.s3.get_object(**kwargs))}


class _ExtendedClient:
    """The extended client's own send and receive helpers, on an in-memory S3, without SQS."""

    get_string_size_in_bytes = ext._get_string_size_in_bytes
    get_reserved_attribute_name_if_present = ext._get_reserved_attribute_name_if_present
    get_s3_key = ext._get_s3_key
    get_message_attributes_size = ext._get_message_attributes_size
    check_message_attributes = ext._check_message_attributes
    is_large = ext._is_large
    store_message_in_s3 = ext._store_message_in_s3
    retrieve_message_from_s3 = ext._retrieve_message_from_s3

    def __init__(self, s3: MemoryS3Session, bucket: str, *, legacy: bool = False) -> None:
        self.s3_client = _BotoShapedS3(s3)
        self.large_payload_support = bucket
        self.always_through_s3 = True
        self.use_legacy_attribute = legacy


@pytest.fixture
def memory_s3() -> MemoryS3Session:
    s3 = MemoryS3Session()
    s3.create_bucket(Bucket="payloads")
    return s3


# ---------------------------------------------------------------- byte for byte


@pytest.mark.parametrize("legacy", [False, True])
@pytest.mark.parametrize(
    "body", ['{"to": "a@example.com"}', "x" * 300_000, "é€😀 non-ASCII counts in bytes"]
)
def test_pointer_is_byte_for_byte_what_the_python_extended_client_writes(
    memory_s3: MemoryS3Session, body: str, legacy: bool
) -> None:
    theirs_body, theirs_attributes = _ExtendedClient(
        memory_s3, "payloads", legacy=legacy
    ).store_message_in_s3(body, {})
    (key,) = memory_s3.keys("payloads")
    assert memory_s3.get_object(Bucket="payloads", Key=key) == body.encode()

    ours_body, ours_attributes = encode_pointer("payloads", key, len(body.encode()), legacy=legacy)
    assert ours_body == theirs_body
    assert ours_body.encode() == theirs_body.encode()
    assert ours_attributes == theirs_attributes
    assert list(ours_attributes[next(iter(ours_attributes))]) == ["DataType", "StringValue"]


def test_a_non_ascii_key_is_escaped_as_the_extended_client_escapes_it(
    memory_s3: MemoryS3Session,
) -> None:
    # The extended client takes a caller's key from the S3Key attribute, and json.dumps
    # escapes what is not ASCII.
    attributes = {"S3Key": {"DataType": "String", "StringValue": "dossier/été-ü"}}
    theirs_body, _ = _ExtendedClient(memory_s3, "payloads").store_message_in_s3("x", attributes)
    ours_body, _ = encode_pointer("payloads", "dossier/été-ü", 1)
    assert ours_body == theirs_body
    assert "\\u00e9" in ours_body
    assert parse_pointer(ours_body).key == "dossier/été-ü"


def test_the_extended_clients_keys_are_uuid4s_as_new_key_makes_them(
    memory_s3: MemoryS3Session,
) -> None:
    _ExtendedClient(memory_s3, "payloads").store_message_in_s3("x", {})
    (theirs,) = memory_s3.keys("payloads")
    ours = new_key()
    for key in (theirs, ours):
        assert uuid.UUID(key).version == 4
        assert str(uuid.UUID(key)) == key


@pytest.mark.parametrize("legacy", [False, True])
def test_the_python_extended_client_reads_our_pointer(
    memory_s3: MemoryS3Session, legacy: bool
) -> None:
    key = new_key("jobs/")
    payload = '{"order_id": 7, "note": "ünïcode"}'
    memory_s3.put_object(Bucket="payloads", Key=key, Body=payload.encode())
    body, _ = encode_pointer("payloads", key, len(payload.encode()), legacy=legacy)
    assert _ExtendedClient(memory_s3, "payloads").retrieve_message_from_s3(body) == payload


# ---------------------------------------------------------------- with the real client on moto


@pytest.fixture
def moto_s3(moto_endpoint: str) -> BotoS3Session:
    return BotoS3Session(endpoint_url=moto_endpoint, region_name="us-east-1")


@pytest.fixture
def moto_queue(moto_endpoint: str) -> Iterator[tuple[BotoSession, str]]:
    sqs = BotoSession.create(endpoint_url=moto_endpoint, region_name="us-east-1")
    url = str(sqs.create_queue(QueueName=f"pointer-{uuid.uuid4().hex[:12]}")["QueueUrl"])
    try:
        yield sqs, url
    finally:
        sqs.delete_queue(QueueUrl=url)


@pytest.fixture
def extended_sqs(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    # The extended client builds its S3 client with no endpoint: botocore then reads this.
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_endpoint)
    session = ext.SQSExtendedClientSession(region_name="us-east-1")
    return session.client("sqs", endpoint_url=moto_endpoint)


def test_messages_of_the_extended_client_are_read_through_our_sessions(
    extended_sqs: Any, moto_s3: BotoS3Session, moto_queue: tuple[BotoSession, str]
) -> None:
    sqs, url = moto_queue
    bucket = unique_bucket("ext-writes")
    moto_s3.create_bucket(Bucket=bucket)
    extended_sqs.large_payload_support = bucket
    payload = json.dumps({"blob": "é" * 200_000})
    extended_sqs.send_message(QueueUrl=url, MessageBody=payload)

    (message,) = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    attributes = message["MessageAttributes"]
    assert is_pointer(message["Body"], attributes)
    pointer = parse_pointer(message["Body"], attributes)
    assert (pointer.bucket, pointer.size) == (bucket, len(payload.encode()))
    assert pointer.body() == message["Body"]
    assert moto_s3.get_object(Bucket=pointer.bucket, Key=pointer.key) == payload.encode()


def test_the_extended_client_reads_and_deletes_what_we_write(
    extended_sqs: Any, moto_s3: BotoS3Session, moto_queue: tuple[BotoSession, str]
) -> None:
    sqs, url = moto_queue
    bucket = unique_bucket("we-write")
    moto_s3.create_bucket(Bucket=bucket)
    payload = json.dumps({"blob": "x" * 300_000})
    key = new_key("payloads/")
    moto_s3.put_object(Bucket=bucket, Key=key, Body=payload.encode())
    body, attributes = encode_pointer(bucket, key, len(payload.encode()))
    sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attributes)

    extended_sqs.large_payload_support = bucket
    extended_sqs.delete_payload_from_s3 = True
    (message,) = extended_sqs.receive_message(QueueUrl=url)["Messages"]
    assert message["Body"] == payload
    extended_sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    with pytest.raises(S3ObjectNotFound):
        moto_s3.get_object(Bucket=bucket, Key=key)


# ---------------------------------------------------------------- round trips and legacy


def test_round_trip() -> None:
    body, attributes = encode_pointer("my-bucket", "k/1", 262_145)
    assert body == (
        '["software.amazon.payloadoffloading.PayloadS3Pointer", '
        '{"s3BucketName": "my-bucket", "s3Key": "k/1"}]'
    )
    assert attributes == {SIZE_ATTRIBUTE: {"DataType": "Number", "StringValue": "262145"}}
    pointer = parse_pointer(body, attributes)
    assert pointer == PayloadPointer("my-bucket", "k/1", 262_145, POINTER_CLASS, SIZE_ATTRIBUTE)
    assert not pointer.legacy
    assert (pointer.body(), pointer.attributes()) == (body, attributes)


def test_legacy_round_trip() -> None:
    body, attributes = encode_pointer("old-bucket", "k", 5, legacy=True)
    assert json.loads(body)[0] == LEGACY_POINTER_CLASS
    assert attributes == {LEGACY_SIZE_ATTRIBUTE: {"DataType": "Number", "StringValue": "5"}}
    pointer = parse_pointer(body, attributes)
    assert (pointer.bucket, pointer.key, pointer.size) == ("old-bucket", "k", 5)
    assert pointer.legacy
    assert pointer.size_attribute == LEGACY_SIZE_ATTRIBUTE
    assert (pointer.body(), pointer.attributes()) == (body, attributes)


def test_java_compact_json_and_mixed_names_are_read() -> None:
    # Java's Jackson writes no spaces, and the class and the size attribute may come from
    # different client versions.
    body = f'["{POINTER_CLASS}",{{"s3BucketName":"jb","s3Key":"jk"}}]'
    attributes = {LEGACY_SIZE_ATTRIBUTE: {"DataType": "Number", "StringValue": "300000"}}
    assert is_pointer(body)
    pointer = parse_pointer(body, attributes)
    assert (pointer.bucket, pointer.key, pointer.size) == ("jb", "jk", 300_000)
    assert (pointer.pointer_class, pointer.size_attribute) == (POINTER_CLASS, LEGACY_SIZE_ATTRIBUTE)


def test_the_current_size_attribute_wins_over_the_legacy_one() -> None:
    body, _ = encode_pointer("b", "k", 1)
    attributes = {
        LEGACY_SIZE_ATTRIBUTE: {"DataType": "Number", "StringValue": "1"},
        SIZE_ATTRIBUTE: {"DataType": "Number", "StringValue": "2"},
    }
    assert parse_pointer(body, attributes).size == 2


def test_a_pointer_without_its_size_attribute_still_parses() -> None:
    body, _ = encode_pointer("b", "k", 10)
    pointer = parse_pointer(body, {"JobName": {"DataType": "String", "StringValue": "j"}})
    assert (pointer.bucket, pointer.key, pointer.size) == ("b", "k", None)
    assert pointer.attributes() == {}


def test_extra_fields_in_the_location_are_ignored() -> None:
    body = json.dumps([POINTER_CLASS, {"s3BucketName": "b", "s3Key": "k", "s3Region": "x"}])
    assert parse_pointer(body).key == "k"


# ---------------------------------------------------------------- is_pointer


@pytest.mark.parametrize(
    ("body", "attributes"),
    [
        ("anything", {SIZE_ATTRIBUTE: {"DataType": "Number", "StringValue": "1"}}),
        ("anything", {LEGACY_SIZE_ATTRIBUTE: {"DataType": "Number", "StringValue": "1"}}),
        (f'["{POINTER_CLASS}", {{}}]', None),
        (f' [ "{LEGACY_POINTER_CLASS}",{{}}]', {}),
        (f'\n[\n  "{POINTER_CLASS}"', {"JobName": {}}),
    ],
)
def test_is_pointer_sees_a_claim(body: str, attributes: dict[str, Any] | None) -> None:
    assert is_pointer(body, attributes)


@pytest.mark.parametrize(
    "body",
    [
        "",
        '{"to": "a@example.com"}',
        '["send_email", {"s3BucketName": "b", "s3Key": "k"}]',
        f'"{POINTER_CLASS}"',
        f'{{"class": "{POINTER_CLASS}"}}',
        f'["{POINTER_CLASS}X", {{}}]',
    ],
)
def test_is_pointer_passes_ordinary_bodies(body: str) -> None:
    assert not is_pointer(body, {"JobName": {"DataType": "String", "StringValue": "j"}})


# ---------------------------------------------------------------- malformed


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("", r"not JSON"),
        (f'["{POINTER_CLASS}", {{"s3BucketName": "b"', r"not JSON"),
        ('{"to": "a@example.com"}', r"not a JSON array of two elements"),
        (f'["{POINTER_CLASS}"]', r"not a JSON array of two elements"),
        (f'["{POINTER_CLASS}", {{}}, 3]', r"not a JSON array of two elements"),
        ('["com.example.Pointer", {"s3BucketName": "b", "s3Key": "k"}]', r"unknown pointer class"),
        ('[7, {"s3BucketName": "b", "s3Key": "k"}]', r"unknown pointer class 7"),
        (f'["{POINTER_CLASS}", ["b", "k"]]', r"second element is not a JSON object"),
        (f'["{POINTER_CLASS}", {{"s3Key": "k"}}]', r"s3BucketName is missing"),
        (f'["{POINTER_CLASS}", {{"s3BucketName": "b"}}]', r"s3Key is missing"),
        (f'["{POINTER_CLASS}", {{"s3BucketName": "", "s3Key": "k"}}]', r"s3BucketName is ''"),
        (f'["{POINTER_CLASS}", {{"s3BucketName": "b", "s3Key": 12}}]', r"s3Key is 12"),
    ],
)
def test_malformed_bodies_say_what_is_wrong(body: str, reason: str) -> None:
    attributes = {SIZE_ATTRIBUTE: {"DataType": "Number", "StringValue": "1"}}
    assert is_pointer(body, attributes)
    with pytest.raises(MalformedPointer, match=reason) as excinfo:
        parse_pointer(body, attributes)
    assert isinstance(excinfo.value, ValueError)
    assert re.search(reason, excinfo.value.reason)
    assert str(excinfo.value).startswith("malformed S3 payload pointer: ")


@pytest.mark.parametrize(
    "attribute",
    [
        {"DataType": "Number", "StringValue": "abc"},
        {"DataType": "Number", "StringValue": "-1"},
        {"DataType": "Number", "StringValue": "1.5"},
        {"DataType": "Number"},
        "300000",
    ],
)
def test_a_bad_size_attribute_is_malformed(attribute: Any) -> None:
    body, _ = encode_pointer("b", "k", 1)
    with pytest.raises(MalformedPointer, match=f"the {SIZE_ATTRIBUTE} attribute is"):
        parse_pointer(body, {SIZE_ATTRIBUTE: attribute})


def test_a_long_body_is_shortened_in_the_reason() -> None:
    with pytest.raises(MalformedPointer) as excinfo:
        parse_pointer('{"x": "' + "y" * 10_000 + '"}')
    assert len(excinfo.value.reason) < 300
    assert excinfo.value.reason.endswith("...'")


@pytest.mark.parametrize(("bucket", "key", "size"), [("", "k", 1), ("b", "", 1), ("b", "k", -1)])
def test_encode_refuses_what_no_pointer_can_say(bucket: str, key: str, size: int) -> None:
    with pytest.raises(ValueError, match="payload"):
        encode_pointer(bucket, key, size)


# ---------------------------------------------------------------- new_key


def test_new_key_is_prefix_and_uuid4() -> None:
    key = new_key("tenant-7/jobs/")
    assert key.startswith("tenant-7/jobs/")
    assert uuid.UUID(key.removeprefix("tenant-7/jobs/")).version == 4
    assert len({new_key() for _ in range(1000)}) == 1000


def test_new_key_fits_s3s_key_limit() -> None:
    assert len(new_key("p" * MAX_KEY_PREFIX_BYTES).encode()) == 1024
    with pytest.raises(ValueError, match=f"at most {MAX_KEY_PREFIX_BYTES} bytes"):
        new_key("é" * (MAX_KEY_PREFIX_BYTES // 2 + 1))
