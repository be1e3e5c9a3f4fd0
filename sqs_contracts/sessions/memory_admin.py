"""Queue lifecycle of the in-memory SQS: create, find, list, configure, purge and delete;
and, for tests, reading a queue's messages without receiving them."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from sqs_contracts.sessions.base import Response
from sqs_contracts.sessions.clock import Clock, SystemClock
from sqs_contracts.sessions.memory_checks import (
    COMPUTED_ATTRIBUTES,
    SQSFault,
    check_queue_attributes,
    check_queue_name,
    check_range,
    invalid,
    is_fifo_request,
    no_such_queue,
)
from sqs_contracts.sessions.memory_message import Renderer
from sqs_contracts.sessions.memory_queue import MemoryQueue


def ok(**fields: Any) -> Response:
    """Return a successful boto3-shaped response with ``fields``."""
    fields["ResponseMetadata"] = {"HTTPStatusCode": 200}
    return fields


class QueueRegistry:
    """The queues of one in-memory SQS account and region, behind one lock."""

    def __init__(self, clock: Clock | None, region: str, account_id: str) -> None:
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.region = region
        self.account_id = account_id
        self._lock = threading.Lock()
        self._by_name: dict[str, MemoryQueue] = {}
        self._by_url: dict[str, MemoryQueue] = {}
        self._by_arn: dict[str, MemoryQueue] = {}
        self._sender_id = "AIDA" + hashlib.sha256(account_id.encode()).hexdigest()[:17].upper()

    def _queue(self, url: str) -> MemoryQueue:
        queue = self._by_url.get(url)
        if queue is None:
            # Accept any URL form ending in /<account>/<name>, as SQS does for its hostnames.
            parts = str(url).rstrip("/").rsplit("/", 2)
            queue = (
                self._by_name.get(parts[-1])
                if len(parts) == 3 and parts[1] == self.account_id
                else None
            )
            if queue is None:
                raise no_such_queue()
        return queue

    def _check_dead_letter_target(self, attributes: Mapping[str, str], fifo: bool) -> None:
        policy = attributes.get("RedrivePolicy")
        if not policy:
            return
        target = self._by_arn.get(json.loads(policy)["deadLetterTargetArn"])
        prefix = f"Value {policy} for parameter RedrivePolicy is invalid. Reason: "
        if target is None:
            raise invalid(prefix + "Dead letter target does not exist.")
        if target.fifo != fifo:
            kinds = ("Fifo", "fifo") if fifo else ("Standard", "standard")
            raise SQSFault(
                "InvalidParameterCombination",
                f"{kinds[0]} queues cannot use non {kinds[1]} dead letter queues",
            )

    def create_queue(
        self,
        *,
        QueueName: str,
        Attributes: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Response:
        """Create a queue, or return the existing one when its attributes match."""
        try:
            fifo = is_fifo_request(Attributes or {})
            check_queue_name(QueueName, fifo)
            attributes = check_queue_attributes(Attributes or {}, fifo, creating=True)
            with self._lock:
                existing = self._by_name.get(QueueName)
                if existing is not None:
                    for name, value in attributes.items():
                        if existing.attributes.get(name, "") != value:
                            raise SQSFault(
                                "QueueAlreadyExists",
                                "A queue already exists with the same name and a different value "
                                f"for attribute {name}",
                            )
                    return ok(QueueUrl=existing.url)
                self._check_dead_letter_target(attributes, fifo)
                url = f"https://sqs.{self.region}.amazonaws.com/{self.account_id}/{QueueName}"
                arn = f"arn:aws:sqs:{self.region}:{self.account_id}:{QueueName}"
                queue = MemoryQueue(
                    QueueName,
                    url,
                    arn,
                    fifo,
                    attributes,
                    self.clock.time(),
                    self._lock,
                    self._by_arn.get,
                )
                self._by_name[QueueName] = self._by_url[url] = self._by_arn[arn] = queue
                return ok(QueueUrl=url)
        except SQSFault as fault:
            raise fault.client_error("CreateQueue") from None

    def delete_queue(self, *, QueueUrl: str) -> Response:
        """Delete a queue and its messages; long polls on it fail as on a missing queue."""
        try:
            with self._lock:
                queue = self._queue(QueueUrl)
                del self._by_name[queue.name], self._by_url[queue.url], self._by_arn[queue.arn]
                queue.purge()
                queue.cond.notify_all()
                return ok()
        except SQSFault as fault:
            raise fault.client_error("DeleteQueue") from None

    def list_queues(
        self,
        *,
        QueueNamePrefix: str | None = None,
        NextToken: str | None = None,
        MaxResults: int | None = None,
    ) -> Response:
        """List queue URLs in creation order, optionally by name prefix and page by page."""
        with self._lock:
            urls = [
                q.url for q in self._by_name.values() if q.name.startswith(QueueNamePrefix or "")
            ]
        if MaxResults is None:
            return ok(QueueUrls=urls) if urls else ok()
        try:
            check_range("MaxResults", MaxResults, 1, 1000)
        except SQSFault as fault:
            raise fault.client_error("ListQueues") from None
        start = int(NextToken) if NextToken and NextToken.isdigit() else 0
        page = urls[start : start + MaxResults]
        result = ok(QueueUrls=page) if page else ok()
        if start + MaxResults < len(urls):
            result["NextToken"] = str(start + MaxResults)
        return result

    def get_queue_url(self, *, QueueName: str) -> Response:
        """Return the URL of a queue by name."""
        with self._lock:
            queue = self._by_name.get(QueueName)
        if queue is None:
            raise no_such_queue().client_error("GetQueueUrl")
        return ok(QueueUrl=queue.url)

    def get_queue_attributes(
        self, *, QueueUrl: str, AttributeNames: Sequence[str] | None = None
    ) -> Response:
        """Return queue attributes; all when ``AttributeNames`` is omitted or ``["All"]``."""
        try:
            with self._lock:
                queue = self._queue(QueueUrl)
                now = self.clock.time()
                queue.tick(now)
                queue.expire(now)
                everything = {
                    **queue.counts(),
                    "CreatedTimestamp": str(queue.created),
                    "LastModifiedTimestamp": str(queue.modified),
                    "QueueArn": queue.arn,
                    **{k: v for k, v in queue.attributes.items() if v != ""},
                }
            names = ["All"] if AttributeNames is None else list(AttributeNames)
            if "All" in names:
                return ok(Attributes=everything)
            known = {
                *everything,
                *COMPUTED_ATTRIBUTES,
                "RedrivePolicy",
                "RedriveAllowPolicy",
                "Policy",
            }
            for name in names:
                if name not in known:
                    raise SQSFault("InvalidAttributeName", f"Unknown Attribute {name}.")
            return ok(Attributes={n: everything[n] for n in names if n in everything})
        except SQSFault as fault:
            raise fault.client_error("GetQueueAttributes") from None

    def set_queue_attributes(self, *, QueueUrl: str, Attributes: Mapping[str, str]) -> Response:
        """Change queue attributes; an empty ``RedrivePolicy`` removes the redrive policy."""
        try:
            with self._lock:
                queue = self._queue(QueueUrl)
                attributes = check_queue_attributes(Attributes, queue.fifo, creating=False)
                self._check_dead_letter_target(attributes, queue.fifo)
                queue.attributes.update(attributes)
                queue.modified = int(self.clock.time())
                queue.configure()
                return ok()
        except SQSFault as fault:
            raise fault.client_error("SetQueueAttributes") from None

    def purge_queue(self, *, QueueUrl: str) -> Response:
        """Delete every message of a queue."""
        try:
            with self._lock:
                self._queue(QueueUrl).purge()
                return ok()
        except SQSFault as fault:
            raise fault.client_error("PurgeQueue") from None

    # --- inspection (not SQS operations) ----------------------------------------------------

    def peek_messages(self, *, QueueUrl: str) -> Response:
        """Every message of a queue not deleted yet (visible, delayed or in flight), in send
        order, as ``ReceiveMessage`` shows them but without a receipt handle; nothing changes:
        no receive is counted and no visibility moves."""
        try:
            with self._lock:
                queue = self._queue(QueueUrl)
                queue.tick(self.clock.time())
                render = Renderer(["All"], ["All"], self._sender_id).render
                messages = [render(m) for m in queue.live()]
        except SQSFault as fault:
            raise fault.client_error("PeekMessages") from None
        for message in messages:
            del message["ReceiptHandle"]
        return ok(Messages=messages)

    def next_receive_time(self, *, QueueUrl: str) -> float | None:
        """When a receive on the queue next gets a message (clock time): now if one can be
        received, else when a delayed or in-flight one becomes visible; None when empty."""
        try:
            with self._lock:
                queue = self._queue(QueueUrl)
                now = self.clock.time()
                queue.tick(now)
                return queue.next_receivable(now)
        except SQSFault as fault:
            raise fault.client_error("NextReceiveTime") from None
