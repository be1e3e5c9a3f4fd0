"""The S3 sessions: every call and every error, in memory and on moto, behave as S3 does."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from s3_backends import S3Backend, unique_bucket

from sqs_contracts.sessions.s3 import (
    MAX_KEY_BYTES,
    S3AccessDenied,
    S3BucketNotFound,
    S3Error,
    S3ObjectNotFound,
    S3Session,
)
from sqs_contracts.sessions.s3_boto import BotoS3Session
from sqs_contracts.sessions.s3_memory import MemoryS3Session

# ---------------------------------------------------------------- calls


def test_both_sessions_implement_the_interface(s3_backend: S3Backend) -> None:
    assert isinstance(s3_backend.session, S3Session)


def test_create_bucket_then_head_bucket(s3_backend: S3Backend) -> None:
    name = unique_bucket("create")
    s3_backend.session.create_bucket(Bucket=name)
    s3_backend.session.head_bucket(Bucket=name)


def test_create_bucket_twice_keeps_the_bucket_and_its_objects(s3_backend: S3Backend) -> None:
    name = s3_backend.bucket("twice")
    s3_backend.session.put_object(Bucket=name, Key="k", Body=b"kept")
    s3_backend.session.create_bucket(Bucket=name)
    assert s3_backend.session.get_object(Bucket=name, Key="k") == b"kept"


def test_put_then_get_returns_the_same_bytes(s3_backend: S3Backend) -> None:
    name = s3_backend.bucket("roundtrip")
    body = bytes(range(256)) * 40 + "é€😀".encode()
    s3_backend.session.put_object(Bucket=name, Key="payload", Body=body)
    got = s3_backend.session.get_object(Bucket=name, Key="payload")
    assert got == body
    assert isinstance(got, bytes)


def test_an_empty_object_is_stored(s3_backend: S3Backend) -> None:
    name = s3_backend.bucket("empty")
    s3_backend.session.put_object(Bucket=name, Key="nothing", Body=b"")
    assert s3_backend.session.get_object(Bucket=name, Key="nothing") == b""


@pytest.mark.parametrize(
    "key", ["a/b/c.json", "with space and +plus", "é ü/ß?x=1#frag", "x" * MAX_KEY_BYTES]
)
def test_keys_are_stored_as_given(s3_backend: S3Backend, key: str) -> None:
    name = s3_backend.bucket("keys")
    s3_backend.session.put_object(Bucket=name, Key=key, Body=key.encode())
    assert s3_backend.session.get_object(Bucket=name, Key=key) == key.encode()


def test_put_replaces_an_object(s3_backend: S3Backend) -> None:
    name = s3_backend.bucket("replace")
    s3_backend.session.put_object(Bucket=name, Key="k", Body=b"first")
    s3_backend.session.put_object(Bucket=name, Key="k", Body=b"second")
    assert s3_backend.session.get_object(Bucket=name, Key="k") == b"second"


def test_put_takes_any_bytes_like_body(s3_backend: S3Backend) -> None:
    name = s3_backend.bucket("byteslike")
    data = bytearray(b"mutable")
    s3_backend.session.put_object(Bucket=name, Key="ba", Body=data)  # type: ignore[arg-type]
    data[:] = b"changed"
    s3_backend.session.put_object(Bucket=name, Key="mv", Body=memoryview(b"view"))  # type: ignore[arg-type]
    assert s3_backend.session.get_object(Bucket=name, Key="ba") == b"mutable"
    assert s3_backend.session.get_object(Bucket=name, Key="mv") == b"view"


def test_put_refuses_text_and_says_to_encode_it(s3_backend: S3Backend) -> None:
    name = s3_backend.bucket("text")
    with pytest.raises(TypeError, match=r"needs Body as bytes, got str.*encode"):
        s3_backend.session.put_object(Bucket=name, Key="k", Body="text")  # type: ignore[arg-type]


def test_delete_removes_the_object(s3_backend: S3Backend) -> None:
    name = s3_backend.bucket("delete")
    s3_backend.session.put_object(Bucket=name, Key="gone", Body=b"x")
    s3_backend.session.put_object(Bucket=name, Key="stays", Body=b"y")
    s3_backend.session.delete_object(Bucket=name, Key="gone")
    with pytest.raises(S3ObjectNotFound):
        s3_backend.session.get_object(Bucket=name, Key="gone")
    assert s3_backend.session.get_object(Bucket=name, Key="stays") == b"y"


def test_deleting_a_missing_key_succeeds_as_in_s3(s3_backend: S3Backend) -> None:
    name = s3_backend.bucket("delete-missing")
    s3_backend.session.delete_object(Bucket=name, Key="never-written")
    s3_backend.session.put_object(Bucket=name, Key="twice", Body=b"x")
    s3_backend.session.delete_object(Bucket=name, Key="twice")
    s3_backend.session.delete_object(Bucket=name, Key="twice")


# ---------------------------------------------------------------- errors


def _assert_original_kept(s3_backend: S3Backend, exc: S3Error) -> None:
    if s3_backend.name == "moto":
        assert isinstance(exc.__cause__, ClientError)


def test_get_of_a_missing_key_raises_object_not_found(s3_backend: S3Backend) -> None:
    name = s3_backend.bucket("nokey")
    with pytest.raises(S3ObjectNotFound) as excinfo:
        s3_backend.session.get_object(Bucket=name, Key="missing/key.json")
    exc = excinfo.value
    assert (exc.operation, exc.bucket, exc.key, exc.code) == (
        "get_object",
        name,
        "missing/key.json",
        "NoSuchKey",
    )
    assert not exc.retryable
    assert f"s3://{name}/missing/key.json" in str(exc)
    assert "keep payload objects until their messages are processed" in str(exc)
    _assert_original_kept(s3_backend, exc)


@pytest.mark.parametrize(
    ("operation", "call"),
    [
        ("put_object", lambda s, b: s.put_object(Bucket=b, Key="k", Body=b"x")),
        ("get_object", lambda s, b: s.get_object(Bucket=b, Key="k")),
        ("delete_object", lambda s, b: s.delete_object(Bucket=b, Key="k")),
        ("head_bucket", lambda s, b: s.head_bucket(Bucket=b)),
    ],
)
def test_a_missing_bucket_raises_bucket_not_found(
    s3_backend: S3Backend, operation: str, call: Callable[[S3Session, str], object]
) -> None:
    name = unique_bucket("missing")
    with pytest.raises(S3BucketNotFound) as excinfo:
        call(s3_backend.session, name)
    exc = excinfo.value
    assert (exc.operation, exc.bucket, exc.code) == (operation, name, "NoSuchBucket")
    assert exc.key == (None if operation == "head_bucket" else "k")
    assert f"bucket {name!r} does not exist" in str(exc)
    assert f"aws s3 mb s3://{name}" in str(exc)
    _assert_original_kept(s3_backend, exc)


@pytest.mark.parametrize(
    ("operation", "action", "call"),
    [
        ("put_object", "s3:PutObject", lambda s, b: s.put_object(Bucket=b, Key="k", Body=b"x")),
        ("get_object", "s3:GetObject", lambda s, b: s.get_object(Bucket=b, Key="k")),
        ("delete_object", "s3:DeleteObject", lambda s, b: s.delete_object(Bucket=b, Key="k")),
        ("head_bucket", "s3:ListBucket", lambda s, b: s.head_bucket(Bucket=b)),
    ],
)
def test_a_bucket_of_another_account_raises_access_denied(
    s3_backend: S3Backend,
    monkeypatch: pytest.MonkeyPatch,
    operation: str,
    action: str,
    call: Callable[[S3Session, str], object],
) -> None:
    name = s3_backend.foreign_bucket(monkeypatch)
    with pytest.raises(S3AccessDenied) as excinfo:
        call(s3_backend.session, name)
    exc = excinfo.value
    assert (exc.operation, exc.bucket, exc.code) == (operation, name, "AccessDenied")
    assert not exc.retryable
    assert f"s3://{name}" in str(exc)
    assert f"allow {action} on arn:aws:s3:::{name}" in str(exc)
    _assert_original_kept(s3_backend, exc)


def test_creating_a_bucket_another_account_owns_fails(
    s3_backend: S3Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = s3_backend.foreign_bucket(monkeypatch, locked=False)
    with pytest.raises(S3Error) as excinfo:
        s3_backend.session.create_bucket(Bucket=name)
    exc = excinfo.value
    assert type(exc) is S3Error
    assert (exc.operation, exc.bucket, exc.code) == ("create_bucket", name, "BucketAlreadyExists")
    assert "choose another name" in str(exc)


def test_an_invalid_bucket_name_is_refused(s3_backend: S3Backend) -> None:
    with pytest.raises(S3Error) as excinfo:
        s3_backend.session.create_bucket(Bucket="ab")
    assert excinfo.value.code == "InvalidBucketName"
    assert "3-63 characters" in str(excinfo.value)


@pytest.mark.parametrize(
    "name", ["UpperCase", "under_score", "-leading", "trailing-", "two..dots", "192.168.1.2"]
)
def test_memory_refuses_names_s3_refuses(name: str) -> None:
    # Moto accepts these; S3 refuses them, and so does the in-memory S3.
    with pytest.raises(S3Error) as excinfo:
        MemoryS3Session().create_bucket(Bucket=name)
    assert excinfo.value.code == "InvalidBucketName"


@pytest.mark.parametrize(
    "call",
    [
        lambda s, b, k: s.put_object(Bucket=b, Key=k, Body=b"x"),
        lambda s, b, k: s.get_object(Bucket=b, Key=k),
        lambda s, b, k: s.delete_object(Bucket=b, Key=k),
    ],
)
def test_keys_s3_refuses_are_refused_before_any_call(
    s3_backend: S3Backend, call: Callable[[S3Session, str, str], object]
) -> None:
    name = s3_backend.bucket("badkey")
    with pytest.raises(S3Error) as excinfo:
        call(s3_backend.session, name, "")
    assert excinfo.value.code == "InvalidArgument"
    assert "non-empty object key" in str(excinfo.value)
    # 1024 bytes is the limit, counted in UTF-8: 513 two-byte characters pass it.
    with pytest.raises(S3Error) as excinfo:
        call(s3_backend.session, name, "é" * 513)
    assert excinfo.value.code == "KeyTooLongError"
    assert "1026 bytes" in str(excinfo.value)
    assert "at most 1024 bytes" in str(excinfo.value)


# ---------------------------------------------------------------- the boto3 session


def _addressing_style(session: BotoS3Session) -> str:
    return str(session.client.meta.config.s3["addressing_style"])  # type: ignore[attr-defined]


def test_boto_session_needs_no_region_or_network_until_first_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    session = BotoS3Session()
    assert "not connected yet" in repr(session)


def test_boto_session_honours_aws_endpoint_url_s3(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_endpoint)
    session = BotoS3Session(region_name="us-east-1")
    assert session.client.meta.endpoint_url == moto_endpoint
    assert _addressing_style(session) == "path"
    name = unique_bucket("env")
    session.create_bucket(Bucket=name)
    session.put_object(Bucket=name, Key="k", Body=b"via env")
    assert session.get_object(Bucket=name, Key="k") == b"via env"
    assert moto_endpoint in repr(session)


def test_an_explicit_endpoint_wins_over_the_environment(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")
    session = BotoS3Session(endpoint_url=moto_endpoint, region_name="us-east-1")
    assert session.client.meta.endpoint_url == moto_endpoint


def test_without_an_endpoint_addressing_is_left_to_botocore() -> None:
    session = BotoS3Session(region_name="us-east-1")
    assert _addressing_style(session) == "auto"


def test_a_given_client_is_used_as_is() -> None:
    client = boto3.client("s3", region_name="eu-west-1")
    assert BotoS3Session(client).client is client


def test_the_client_is_built_once_under_concurrent_first_use() -> None:
    session = BotoS3Session(region_name="us-east-1")
    barrier = threading.Barrier(8)
    seen: list[object] = []

    def first_use() -> None:
        barrier.wait()
        seen.append(session.client)

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8
    assert all(client is seen[0] for client in seen)


def test_create_bucket_outside_us_east_1_gives_the_location(moto_endpoint: str) -> None:
    session = BotoS3Session(endpoint_url=moto_endpoint, region_name="eu-west-1")
    name = unique_bucket("eu")
    session.create_bucket(Bucket=name)
    session.create_bucket(Bucket=name)  # BucketAlreadyOwnedByYou there: still no error
    session.head_bucket(Bucket=name)


@pytest.fixture
def stubbed() -> Iterator[tuple[BotoS3Session, Stubber]]:
    client = boto3.client("s3", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield BotoS3Session(client), stubber


@pytest.mark.parametrize("code", ["SlowDown", "InternalError", "ServiceUnavailable"])
def test_throttling_and_5xx_are_retryable(
    stubbed: tuple[BotoS3Session, Stubber], code: str
) -> None:
    session, stubber = stubbed
    stubber.add_client_error("get_object", code, "try again", http_status_code=503)
    with pytest.raises(S3Error) as excinfo:
        session.get_object(Bucket="bkt", Key="k")
    exc = excinfo.value
    assert type(exc) is S3Error
    assert exc.retryable
    assert exc.code == code
    assert "try again" in str(exc)
    assert "retry later" in str(exc)


@pytest.mark.parametrize("code", ["InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken"])
def test_bad_credentials_are_access_denied_and_say_so(
    stubbed: tuple[BotoS3Session, Stubber], code: str
) -> None:
    session, stubber = stubbed
    stubber.add_client_error("put_object", code, "no", http_status_code=403)
    with pytest.raises(S3AccessDenied, match="check the AWS credentials") as excinfo:
        session.put_object(Bucket="bkt", Key="k", Body=b"x")
    assert excinfo.value.code == code
    assert isinstance(excinfo.value.__cause__, ClientError)


def test_other_client_errors_keep_s3s_code_and_message(
    stubbed: tuple[BotoS3Session, Stubber],
) -> None:
    session, stubber = stubbed
    stubber.add_client_error("delete_object", "InvalidObjectState", "archived", 400)
    with pytest.raises(S3Error, match=r"InvalidObjectState \(archived\)") as excinfo:
        session.delete_object(Bucket="bkt", Key="k")
    assert type(excinfo.value) is S3Error
    assert not excinfo.value.retryable


def test_an_unreachable_endpoint_is_a_retryable_error() -> None:
    # A bound socket that does not listen refuses connections at once.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        session = BotoS3Session(
            endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1", retry_max_attempts=1
        )
        with pytest.raises(S3Error) as excinfo:
            session.get_object(Bucket="bkt", Key="k")
    exc = excinfo.value
    assert exc.retryable
    assert exc.code == "EndpointConnectionError"
    assert "could not be reached" in str(exc)


def test_missing_credentials_say_how_to_provide_them(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    session = BotoS3Session(endpoint_url=moto_endpoint, region_name="us-east-1")
    with pytest.raises(S3Error, match="no usable AWS credentials") as excinfo:
        session.head_bucket(Bucket="bkt")
    assert excinfo.value.code == "NoCredentialsError"
    assert not excinfo.value.retryable


# ---------------------------------------------------------------- the in-memory session


def test_memory_is_safe_under_concurrent_calls() -> None:
    session = MemoryS3Session()
    session.create_bucket(Bucket="shared")
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        barrier.wait()
        try:
            for i in range(200):
                key = f"{n}/{i}"
                session.put_object(Bucket="shared", Key=key, Body=key.encode())
                assert session.get_object(Bucket="shared", Key=key) == key.encode()
                if i % 2:
                    session.delete_object(Bucket="shared", Key=key)
        except BaseException as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(session.keys("shared")) == 8 * 100


def test_memory_keys_lists_a_bucket() -> None:
    session = MemoryS3Session()
    session.create_bucket(Bucket="listed")
    for key in ("b", "a", "c/d"):
        session.put_object(Bucket="listed", Key=key, Body=b"")
    assert session.keys("listed") == ["a", "b", "c/d"]
    assert "listed" in repr(session)
    with pytest.raises(S3BucketNotFound):
        session.keys("not-there")
