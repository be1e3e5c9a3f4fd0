"""Processors: turn one received message into a validated job and call its handler.

Subclass :class:`Processor` and override :meth:`Processor.process` to wrap every handler call
(timing, error reporting...); install it with ``SQSEnv(processor_maker=MyProcessor)``.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ValidationError

from sqs_contracts.dispatch.awaitables import (
    await_result,
    call_in_thread,
    is_async_callable,
    run_to_completion,
)
from sqs_contracts.dispatch.errors import RetryJob
from sqs_contracts.dispatch.results import SUCCESS, ProcessingResult
from sqs_contracts.wire.context import JobContext
from sqs_contracts.wire.envelope import ReceivedJob, decode_message
from sqs_contracts.wire.errors import InvalidMessage

__all__ = ["DEFAULT_CONTEXT_VAR", "InvalidPayload", "ProcessingResult", "Processor", "RetryJob"]

logger = logging.getLogger(__name__)

DEFAULT_CONTEXT_VAR = "context"
"""The keyword argument that receives the job context when ``pass_context=True``."""


_UNREAD_CONTEXT = JobContext()
"""What :meth:`Processor.call` gets when neither it nor the handler reads the context."""


class ProcessorQueue(Protocol):
    """What a processor needs of its queue: the name, and the content types it may decode."""

    @property
    def name(self) -> str:
        """The queue's name (without the env's prefix)."""
        ...

    @property
    def allowed_content_types(self) -> frozenset[str]:
        """Content types this consumer decodes; pickle only when allowed explicitly."""
        ...


class InvalidPayload(InvalidMessage):
    """A message's payload does not validate against its contract."""


def describe_validation_error(exc: ValidationError) -> str:
    """One line per failing field: ``field.path: message (got value)``."""
    parts = []
    for error in exc.errors(include_url=False):
        path = ".".join(str(p) for p in error.get("loc", ())) or "<payload>"
        parts.append(f"{path}: {error.get('msg')} (got {error.get('input')!r:.80})")
    return "; ".join(parts)


@dataclasses.dataclass
class Processor:
    """Decodes messages of one job name and calls its handler.

    ``style="model"`` calls ``fn(task)`` (or ``fn(task, context)``) with a validated contract;
    ``style="kwargs"`` calls ``fn(**kwargs)``, validated against ``model`` when one is given.
    """

    queue: ProcessorQueue
    fn: Callable[..., Any]
    job_name: str
    pass_context: bool = False
    context_var: str = "context"
    model: type[BaseModel] | None = None
    style: Literal["model", "kwargs"] = "kwargs"

    @classmethod
    def maker(cls, **kwargs: Any) -> Callable[..., Processor]:
        """A factory with preset arguments, for ``SQSEnv(processor_maker=...)``."""
        return functools.partial(cls, **kwargs)

    def copy(self, **changes: Any) -> Processor:
        """A copy with some fields replaced (used to run a DLQ in place)."""
        return dataclasses.replace(self, **changes)

    # -- validation --------------------------------------------------------------------------

    def validate(self, job_kwargs: Mapping[str, Any], version: int = 1) -> Any:
        """Validate a payload dict into the contract; raise :class:`InvalidPayload` if it fails."""
        model = self.model
        if model is None:
            return dict(job_kwargs)
        # Validation reads the payload and upcasters get copies: no copy is needed here.
        payload = job_kwargs if type(job_kwargs) is dict else dict(job_kwargs)
        upcast, current = self._upcasting
        if upcast is not None and version != current:
            payload = upcast(payload, version)
        try:
            # What model_validate() calls, without its Python wrapper: a cost on every job.
            return model.__pydantic_validator__.validate_python(payload)
        except ValidationError as exc:
            raise InvalidPayload(
                f"payload of {self.job_name!r} on queue {self.queue.name!r} does not validate "
                f"against {model.__name__}: {describe_validation_error(exc)}",
                job_name=self.job_name,
            ) from exc

    @functools.cached_property
    def _upcasting(self) -> tuple[Callable[[dict[str, Any], int], dict[str, Any]] | None, Any]:
        # Read once, not per job (a class attribute of a pydantic model is a slow lookup):
        # the contract's upcast and version; a payload of that version is not upcast.
        model = self.model
        return getattr(model, "upcast", None), getattr(model, "__task_version__", None)

    def validate_for_send(self, job_kwargs: Mapping[str, Any]) -> BaseModel | Mapping[str, Any]:
        """Validate keyword arguments before they are sent; raise ``TypeError`` naming the field."""
        if self.model is None:
            return job_kwargs
        try:
            return self.model.model_validate(dict(job_kwargs))
        except ValidationError as exc:
            raise TypeError(
                f"{self.queue.name}.{self.job_name}: invalid arguments: "
                f"{describe_validation_error(exc)}"
            ) from exc

    def _kwargs_of(self, validated: Any) -> dict[str, Any]:
        if isinstance(validated, BaseModel):
            kwargs = {name: getattr(validated, name) for name in type(validated).model_fields}
            kwargs.update(validated.model_extra or {})
            return kwargs
        return dict(validated)

    # -- the handler call ----------------------------------------------------------------------

    @property
    def is_async(self) -> bool:
        """True when the handler is ``async def``: runners then await it on an event loop."""
        return is_async_callable(self.fn)

    def process(self, job_kwargs: Mapping[str, Any], job_context: JobContext) -> Any:
        """Validate and call the handler; override to wrap every call. Returns its result
        (for an async handler, the awaitable: override :meth:`aprocess` to wrap its run)."""
        validated = self.validate(job_kwargs, job_context.version)
        return self.call(validated, job_context)

    async def aprocess(self, job_kwargs: Mapping[str, Any], job_context: JobContext) -> Any:
        """:meth:`process`, with the awaitable an async handler returns awaited."""
        return await await_result(self.process(job_kwargs, job_context))

    def run(self, validated: Any, job_context: JobContext, hint: str | None = None) -> Any:
        """Call the handler now with a validated job; an async one runs to completion."""
        result = self.call(validated, job_context)
        if hint is None:
            return run_to_completion(result, self._what)
        return run_to_completion(result, self._what, hint)

    async def arun(self, validated: Any, job_context: JobContext) -> Any:
        """Call the handler now: awaited when async, in a thread when sync (loop kept free)."""
        if self.is_async:
            return await await_result(self.call(validated, job_context))
        result = await call_in_thread(self.call, validated, job_context)
        return await await_result(result)

    @property
    def _what(self) -> str:
        name = getattr(self.fn, "__qualname__", repr(self.fn))
        return f"handler {name} of job {self.job_name!r} on queue {self.queue.name!r}"

    def call(self, validated: Any, job_context: JobContext) -> Any:
        """Call the handler with a validated job (and the context when asked)."""
        if self.style == "model":
            if self.pass_context:
                return self.fn(validated, job_context)
            return self.fn(validated)
        kwargs = self._kwargs_of(validated)
        if self.pass_context:
            kwargs[self.context_var] = job_context
        return self.fn(**kwargs)

    def decode(self, message: Mapping[str, Any]) -> ReceivedJob:
        """Decode a message with the env's allowed content types."""
        return decode_message(message, self.queue.allowed_content_types)

    def process_message(self, message: Mapping[str, Any]) -> ProcessingResult:
        """Decode, validate and handle one message; never raises for a handler failure."""
        try:
            job = self.decode(message)
            cls = type(self)
            if (
                cls.process is Processor.process
                and cls.call is Processor.call
                and not self.pass_context
            ):
                # No code of this job reads its context: the handler is called without building it.
                result = self.call(self.validate(job.payload, job.version), _UNREAD_CONTEXT)
            else:
                result = self.process(job.payload, job.job_context(self.queue.name))
            if result is not None:
                # An async handler's coroutine is a success only once it has run to completion.
                run_to_completion(result, self._what)
        except BaseException as exc:
            return self.failure(exc, [message])
        return SUCCESS

    async def aprocess_message(self, message: Mapping[str, Any]) -> ProcessingResult:
        """:meth:`process_message` for an event loop: an async handler is awaited on it, a
        sync one runs in a thread so that it never blocks the loop."""
        if not self.is_async:
            return await call_in_thread(self.process_message, message)
        try:
            job = self.decode(message)
            await self.aprocess(job.payload, job.job_context(self.queue.name))
        except BaseException as exc:
            return self.failure(exc, [message])
        return SUCCESS

    def process_messages(self, messages: Sequence[Mapping[str, Any]]) -> ProcessingResult:
        """Batch mode: call the handler once with the valid jobs; the first failure, if any."""
        return next((r for r in self.process_each(messages) if not r.success), SUCCESS)

    def process_each(self, messages: Sequence[Mapping[str, Any]]) -> list[ProcessingResult]:
        """Batch mode, one result per message: a message that cannot become a job gets its
        own invalid result and stays out of the handler's list; the others share the call's."""
        results, valid, items = self._batch_items(messages)
        if valid:
            try:
                run_to_completion(self.fn(items), self._what)
                shared = SUCCESS
            except BaseException as exc:
                shared = self.failure(exc, [messages[i] for i in valid])
            for i in valid:
                results[i] = shared
        return [r if r is not None else SUCCESS for r in results]

    async def aprocess_each(self, messages: Sequence[Mapping[str, Any]]) -> list[ProcessingResult]:
        """:meth:`process_each` for an event loop: awaited when async, else in a thread."""
        if not self.is_async:
            return await call_in_thread(self.process_each, messages)
        results, valid, items = self._batch_items(messages)
        if valid:
            try:
                await await_result(self.fn(items))
                shared = SUCCESS
            except BaseException as exc:
                shared = self.failure(exc, [messages[i] for i in valid])
            for i in valid:
                results[i] = shared
        return [r if r is not None else SUCCESS for r in results]

    def _batch_items(
        self, messages: Sequence[Mapping[str, Any]]
    ) -> tuple[list[ProcessingResult | None], list[int], list[Any]]:
        """Decode and validate a batch: the invalid ones' results, the valid indexes, items."""
        results: list[ProcessingResult | None] = [None] * len(messages)
        valid: list[int] = []
        items: list[Any] = []
        for i, message in enumerate(messages):
            try:
                job = self.decode(message)
                validated = self.validate(job.payload, job.version)
            except BaseException as exc:
                results[i] = self.failure(exc, [message])
                continue
            if self.style != "model":
                validated = self._kwargs_of(validated)
                if self.pass_context:
                    validated[self.context_var] = job.job_context(self.queue.name)
            valid.append(i)
            items.append(validated)
        return results, valid, items

    def failure(
        self, exc: BaseException, messages: Sequence[Mapping[str, Any]]
    ) -> ProcessingResult:
        """Classify an exception raised while processing messages (dispatch logs the outcome
        of each message, with the queue, job, attempt and traceback)."""
        if not isinstance(exc, Exception):
            raise exc  # KeyboardInterrupt and SystemExit stop the worker, not the job
        if isinstance(exc, RetryJob):
            return ProcessingResult(False, exc.backoff_policy, error=exc)
        if isinstance(exc, InvalidMessage):
            return ProcessingResult(False, invalid_reason=str(exc), error=exc)
        return ProcessingResult(False, error=exc)
