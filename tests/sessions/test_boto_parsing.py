"""The faster JSON response reader gives botocore's own results, for every SQS response shape."""

from __future__ import annotations

import base64
import json
from typing import Any

import botocore.model
import botocore.session
import pytest
from botocore.awsrequest import HeadersDict
from botocore.parsers import ResponseParserFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sqs_contracts.sessions import BotoSession
from sqs_contracts.sessions.boto_parsing import FastJSONParserFactory

SQS = botocore.session.get_session().get_service_model("sqs")
OUTPUTS = {
    name: SQS.operation_model(name).output_shape
    for name in SQS.operation_names
    if SQS.operation_model(name).output_shape is not None
}
# One factory for the module, as a client keeps one: its converters are compiled once.
FAST = FastJSONParserFactory()
SLOW = ResponseParserFactory()

_text = st.text(max_size=12)


def _value(shape: Any) -> st.SearchStrategy[Any]:
    """JSON values of a shape, with what the wire may add: absent and null members, unknown keys."""
    kind = shape.type_name
    if kind == "structure":
        members = {
            shape.members[name].serialization.get("name", name): st.one_of(
                st.none(), _value(member)
            )
            for name, member in shape.members.items()
        }
        extra = st.dictionaries(st.sampled_from(["Unknown", "Other"]), _text, max_size=1)
        known = st.fixed_dictionaries({}, optional=members)
        return st.builds(lambda k, e: {**e, **k}, known, extra)
    if kind == "list":
        return st.lists(st.one_of(st.none(), _value(shape.member)), max_size=3)
    if kind == "map":
        values = _value(shape.value)
        if shape.value.type_name != "blob":
            values = st.one_of(st.none(), values)
        return st.dictionaries(_text, values, max_size=3)
    return _SCALARS.get(kind, _text)


_SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "blob": st.binary(max_size=8).map(lambda b: base64.b64encode(b).decode()),
    # Beyond 64 bits too, which orjson reads otherwise than json.
    "integer": st.integers(min_value=-(2**70), max_value=2**70),
    "long": st.integers(min_value=-(2**70), max_value=2**70),
    "boolean": st.booleans(),
}


def _response(body: bytes, status: int = 200) -> dict[str, Any]:
    headers = HeadersDict(
        {"x-amzn-RequestId": "req-1", "Content-Type": "application/x-amz-json-1.0"}
    )
    return {"status_code": status, "headers": headers, "body": body, "context": {}}


def _both(operation: str, response: dict[str, Any]) -> tuple[Any, Any]:
    shape = OUTPUTS[operation]
    slow = SLOW.create_parser("json").parse(dict(response), shape)
    fast = FAST.create_parser("json").parse(dict(response), shape)
    return slow, fast


@st.composite
def _operation_and_body(draw: st.DrawFn) -> tuple[str, bytes]:
    operation = draw(st.sampled_from(sorted(OUTPUTS)))
    return operation, json.dumps(draw(_value(OUTPUTS[operation]))).encode()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_operation_and_body())
def test_every_sqs_response_reads_as_botocore_reads_it(case: tuple[str, bytes]) -> None:
    operation, body = case
    slow, fast = _both(operation, _response(body))
    assert fast == slow


def test_received_messages_with_binary_attributes_read_as_botocore_reads_them() -> None:
    message = {
        "MessageId": "m-1",
        "ReceiptHandle": "r-1",
        "MD5OfBody": "0" * 32,
        "Body": '{"to": "a@example.com"}',
        "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1700000000000"},
        "MessageAttributes": {
            "JobName": {"DataType": "String", "StringValue": "send_email"},
            "Raw": {"DataType": "Binary", "BinaryValue": base64.b64encode(b"\x00\xff").decode()},
            "Many": {"DataType": "Binary", "BinaryListValues": ["AAE="], "StringListValues": []},
            "Gone": None,
        },
        "Unknown": "kept out",
    }
    body = json.dumps({"Messages": [message, None]}).encode()
    slow, fast = _both("ReceiveMessage", _response(body))
    assert fast == slow
    assert fast["Messages"][0]["MessageAttributes"]["Raw"]["BinaryValue"] == b"\x00\xff"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{}",
        b'{"Messages": null}',
        # orjson reads these otherwise than json (a float, a refusal): botocore reads them.
        b'{"Results": [{"ApproximateNumberOfMessagesMoved": 100000000000000000000000}]}',
        b'{"Results": [{"ApproximateNumberOfMessagesMoved": 1e400}]}',
        b'{"Results": [{"SourceArn": "\\ud800"}]}',
    ],
)
def test_edge_bodies_read_as_botocore_reads_them(body: bytes) -> None:
    operation = "ListMessageMoveTasks" if b"Results" in body else "ReceiveMessage"
    slow, fast = _both(operation, _response(body))
    assert fast == slow


def test_errors_read_as_botocore_reads_them() -> None:
    body = json.dumps(
        {"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": "The queue does not exist."}
    ).encode()
    response = _response(body, status=400)
    response["headers"]["x-amzn-query-error"] = "AWS.SimpleQueueService.NonExistentQueue;Sender"
    slow, fast = _both("GetQueueUrl", response)
    assert fast == slow
    assert fast["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"


def test_converters_kept_stay_bounded() -> None:
    # botocore keeps one shape object per output; were it to build new ones per response,
    # the factory's memory must not grow with the responses read.
    factory = FastJSONParserFactory()
    parser = factory.create_parser("json")
    loader = botocore.session.get_session().get_component("data_loader")
    api = loader.load_service_model("sqs", "service-2")
    for _ in range(1500):
        model = botocore.model.ServiceModel(api, "sqs")
        factory.converter(model.operation_model("ReceiveMessage").output_shape, parser)
    assert 0 < len(factory._compiled) <= 1024


def test_other_protocols_keep_botocore_parsers() -> None:
    for protocol in ("rest-xml", "query", "rest-json"):
        assert type(FAST.create_parser(protocol)) is type(SLOW.create_parser(protocol))


def test_a_created_session_reads_responses_with_the_faster_parser(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    read: list[str] = []
    real = FastJSONParserFactory.converter

    def converter(self: FastJSONParserFactory, shape: Any, parser: Any) -> Any:
        read.append(shape.name)
        return real(self, shape, parser)

    monkeypatch.setattr(FastJSONParserFactory, "converter", converter)
    session = BotoSession.create(endpoint_url=moto_endpoint, region_name="us-east-1")
    url = session.create_queue(QueueName="parsed-fast")["QueueUrl"]
    session.send_message(QueueUrl=url, MessageBody="x")
    received = session.receive_message(QueueUrl=url, MaxNumberOfMessages=1)
    assert [m["Body"] for m in received["Messages"]] == ["x"]
    assert read == ["CreateQueueResult", "SendMessageResult", "ReceiveMessageResult"]
