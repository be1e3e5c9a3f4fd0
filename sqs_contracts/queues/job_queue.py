"""JobQueue: a queue of jobs routed by their ``JobName`` attribute to registered processors."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from typing_extensions import ParamSpec

from sqs_contracts.contracts.task import Task
from sqs_contracts.dispatch.async_dispatch import aroute_job, aroute_jobs, jobs_are_async
from sqs_contracts.dispatch.dispatcher import route_job, route_jobs
from sqs_contracts.dispatch.errors import UnknownJob
from sqs_contracts.dispatch.processor import Processor
from sqs_contracts.dispatch.results import SUCCESS, ProcessingResult
from sqs_contracts.queues.async_send import asend, resolve
from sqs_contracts.queues.base import GenericQueue
from sqs_contracts.queues.function_api import AsyncTask, connect_function
from sqs_contracts.queues.long_delay import seconds_until
from sqs_contracts.queues.ports import QueueHost
from sqs_contracts.sessions.errors import QueueConfigError
from sqs_contracts.wire.context import JobContext
from sqs_contracts.wire.envelope import OutgoingMessage, encode_job, job_message

if TYPE_CHECKING:
    from pydantic import BaseModel

_P = ParamSpec("_P")
_R = TypeVar("_R")


class JobQueue(GenericQueue):
    """A queue of jobs routed by their ``JobName`` attribute to registered processors."""

    def __init__(self, env: QueueHost, name: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(env, name, *args, **kwargs)
        self.processors: dict[str, Processor] = {}

    def add_job(
        self,
        job_name: str,
        _content_type: str | None = None,
        _delay_seconds: int | None = None,
        _deduplication_id: str | None = None,
        _group_id: str | None = None,
        **job_kwargs: Any,
    ) -> str | None:
        """Enqueue a job by name with keyword arguments; validated when a processor is known."""
        processor = self.processors.get(job_name)
        payload: BaseModel | Mapping[str, Any] = job_kwargs
        if processor is not None:
            payload = processor.validate_for_send(job_kwargs)
        return self.send_payload(
            job_name,
            payload,
            content_type=_content_type,
            delay_seconds=_delay_seconds,
            group_id=_group_id,
            deduplication_id=_deduplication_id,
        )

    def send_payload(
        self,
        job_name: str,
        payload: BaseModel | Mapping[str, Any],
        *,
        content_type: str | None = None,
        delay_seconds: int | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        version: int | None = None,
        eta: datetime | None = None,
    ) -> str | None:
        """Encode a validated payload with the env's codec and context, check it and send it."""
        if eta is not None:
            delay_seconds = self._delay_of(job_name, delay_seconds, eta)
        return self.send(
            self.encode_payload(
                job_name, payload, content_type, delay_seconds, group_id, deduplication_id, version
            )
        )

    async def asend_payload(
        self,
        job_name: str,
        payload: BaseModel | Mapping[str, Any],
        *,
        content_type: str | None = None,
        delay_seconds: int | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        version: int | None = None,
        eta: datetime | None = None,
    ) -> str | None:
        """:meth:`send_payload` for coroutines: checked at the call, sent off the event loop."""
        delay_seconds = self._delay_of(job_name, delay_seconds, eta)
        await resolve(self)
        message = self.encode_payload(
            job_name, payload, content_type, delay_seconds, group_id, deduplication_id, version
        )
        return await asend(self, message)

    def _delay_of(
        self, job_name: str, delay_seconds: int | None, eta: datetime | None
    ) -> int | None:
        if eta is None:
            return delay_seconds
        if delay_seconds is not None:
            raise QueueConfigError(
                f"job {job_name!r} for queue {self.name!r}: give delay_seconds or eta, not both"
            )
        return seconds_until(eta, self.now())

    def encode_payload(
        self,
        job_name: str,
        payload: BaseModel | Mapping[str, Any],
        content_type: str | None = None,
        delay_seconds: int | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        version: int | None = None,
    ) -> OutgoingMessage:
        """Encode a validated payload with the env's codec and context, and check it."""
        content_type, codec = self.encoder(content_type)
        message = encode_job(
            job_name,
            payload,
            self.context.to_dict(),
            content_type,
            codec,
            version=version,
            queue_name=self.name,
        )
        return self.prepare(
            message,
            delay_seconds=delay_seconds,
            group_id=group_id,
            deduplication_id=deduplication_id,
        )

    def processor(
        self, job_name: str, pass_context: bool = False, context_var: str = "context"
    ) -> Callable[[Callable[_P, _R]], AsyncTask[_P, _R]]:
        """Decorate a plain function into an ``AsyncTask`` handling ``job_name`` on this queue."""

        def register(fn: Callable[_P, _R]) -> AsyncTask[_P, _R]:
            return self.connect_processor(job_name, fn, pass_context, context_var)

        return register

    def connect_processor(
        self,
        job_name: str,
        fn: Callable[_P, _R],
        pass_context: bool = False,
        context_var: str = "context",
    ) -> AsyncTask[_P, _R]:
        """Register a plain function as the handler of ``job_name``; returns its ``AsyncTask``."""
        return connect_function(self, job_name, fn, pass_context, context_var)

    def add_raw_job(
        self,
        job_name: str,
        message_body: str,
        job_context: str,
        content_type: str,
        delay_seconds: int | None = None,
        deduplication_id: str | None = None,
        group_id: str | None = None,
    ) -> str | None:
        """Send an already encoded body and context as a job (sqs-workers' low-level call)."""
        message = job_message(job_name, message_body, job_context, content_type)
        self.prepare(
            message,
            delay_seconds=delay_seconds,
            group_id=group_id,
            deduplication_id=deduplication_id,
        )
        return self.send(message)

    def get_processor(self, job_name: str) -> Processor | None:
        """Return the processor registered for a job name, if any."""
        return self.processors.get(job_name)

    def contract_of(self, job_name: str | None) -> type[BaseModel] | None:
        """The contract (or signature model) of a job name's handler, when one is registered."""
        processor = self.processors.get(job_name or "")
        return processor.model if processor is not None else None

    def copy_processors(self, dst_queue: JobQueue) -> None:
        """Register this queue's processors on another queue (to run a DLQ in place)."""
        for job_name, processor in self.processors.items():
            dst_queue.processors[job_name] = processor.copy(queue=dst_queue)

    def process_message(self, message: Mapping[str, Any]) -> ProcessingResult:
        """Route a message to the processor of its ``JobName``."""
        return route_job(self.name, self.processors, message)

    def process_messages(self, messages: Sequence[Mapping[str, Any]]) -> ProcessingResult:
        """Route a list of messages, grouped by job name, to batch processors."""
        return next((r for r in self.process_each(messages) if not r.success), SUCCESS)

    def process_each(self, messages: Sequence[Mapping[str, Any]]) -> list[ProcessingResult]:
        """Batch mode, one result per message: each job name's messages go to its processor
        (in send order on FIFO queues, where a failure stops the later ones)."""
        return route_jobs(self.name, self.processors, messages, ordered=self._ordered)

    @property
    def _ordered(self) -> bool:
        settings = self._settings
        return settings.fifo if settings is not None else self.sqs_name.endswith(".fifo")

    def is_async(self, messages: Sequence[Mapping[str, Any]]) -> bool:
        """True when one of the messages' job names has an ``async def`` handler."""
        return jobs_are_async(self.processors, messages)

    def has_async_handlers(self) -> bool:
        """True when one of the registered handlers is ``async def``."""
        return any(p.is_async for p in self.processors.values())

    def has_sync_handlers(self) -> bool:
        """True when one of the registered handlers is sync."""
        return any(not p.is_async for p in self.processors.values())

    async def aprocess_message(self, message: Mapping[str, Any]) -> ProcessingResult:
        """Route a message to its processor on the loop (a sync handler runs in a thread)."""
        return await aroute_job(self.name, self.processors, message)

    async def aprocess_each(self, messages: Sequence[Mapping[str, Any]]) -> list[ProcessingResult]:
        """Batch mode on the loop, in send order on FIFO queues as :meth:`process_each`."""
        return await aroute_jobs(self.name, self.processors, messages, ordered=self._ordered)

    # -- running in-process ----------------------------------------------------------------------

    def run_task(self, contract: type[Task], task: BaseModel) -> Any:
        """Call a contract's handler now with the current context (an async handler runs to
        completion on a private event loop)."""
        processor, context = self._direct_call(contract)
        hint = f"use `await {contract.__name__}(...).arun()` inside a running loop"
        return processor.run(task, context, hint)

    async def arun_task(self, contract: type[Task], task: BaseModel) -> Any:
        """Run a contract's handler without blocking the loop: awaited, or in a thread."""
        processor, context = self._direct_call(contract)
        return await processor.arun(task, context)

    def _direct_call(self, contract: type[Task]) -> tuple[Processor, JobContext]:
        processor = self.processors.get(contract.job_name())
        if processor is None:
            raise UnknownJob(
                f"no handler for {contract.__name__} (job {contract.job_name()!r} on queue "
                f"{contract.queue_name()!r}): register one with @env.handler({contract.__name__})"
            )
        context = JobContext(
            data=self.context.to_dict(),
            queue_name=self.name,
            job_name=contract.job_name(),
            version=contract.__task_version__,
        )
        return processor, context
