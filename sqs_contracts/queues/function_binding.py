"""What ties a plain function to a job queue: its processor, its argument model, and the
options ``delay()`` takes for itself; the ``AsyncTask`` around it is in ``function_api``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol, TypedDict

from pydantic import BaseModel, TypeAdapter

from sqs_contracts.contracts.signatures import FunctionSignature, batch_item_type, signature_of
from sqs_contracts.dispatch.batch_policies import BatchingConfiguration
from sqs_contracts.dispatch.processor import Processor
from sqs_contracts.wire.codecs import Codec
from sqs_contracts.wire.context import SQSContext


class FunctionQueue(Protocol):
    """What a function handler needs of its job queue (``FunctionQueue`` implements it)."""

    name: str
    batching_policy: BatchingConfiguration
    context: SQSContext
    processors: dict[str, Processor]

    @property
    def processor_maker(self) -> Callable[..., Processor]:
        """Builds the processor of each handler."""
        ...

    def encoder(self, content_type: str | None = None) -> tuple[str, type[Codec]]:
        """The (content type, codec) for new jobs."""
        ...

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
    ) -> str | None:
        """Encode, check and send a payload."""
        ...

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
    ) -> str | None:
        """Encode and check a payload, and send it without blocking the event loop."""
        ...

    def add_batch(self) -> AbstractContextManager[None]:
        """Buffer the block's sends to this queue."""
        ...


class AsyncTaskDelayArgs(TypedDict, total=False):
    """The options ``AsyncTask.delay()`` and ``.bake()`` take besides the job's arguments.

    With the ``sqs_contracts.mypy`` plugin the handler need not declare them; without it,
    ``def handler(..., **_: Unpack[AsyncTaskDelayArgs])`` still works, as in sqs-workers.
    """

    _content_type: str
    _delay_seconds: float | None
    _deduplication_id: str | None
    _group_id: str | None


CONTROL_ARGUMENTS = tuple(AsyncTaskDelayArgs.__annotations__)
"""The keyword arguments ``delay()`` and ``bake()`` take for themselves, not for the job."""


@dataclass(frozen=True)
class SendOptions:
    """The options ``delay()`` and ``bake()`` take for themselves, not for the job."""

    content_type: str | None = None
    delay_seconds: float | None = None
    deduplication_id: str | None = None
    group_id: str | None = None

    @classmethod
    def pop_from(cls, kwargs: dict[str, Any]) -> SendOptions:
        """Take the options out of a call's keyword arguments."""
        return cls(
            kwargs.pop("_content_type", None),
            kwargs.pop("_delay_seconds", None),
            kwargs.pop("_deduplication_id", None),
            kwargs.pop("_group_id", None),
        )

    def send_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ``send_payload``."""
        delay = self.delay_seconds
        return {
            "content_type": self.content_type,
            "delay_seconds": None if delay is None else int(delay),
            "group_id": self.group_id,
            "deduplication_id": self.deduplication_id,
        }


@dataclass(frozen=True)
class Binding:
    """A handler's processor and what ``delay()`` validates against."""

    processor: Processor
    signature: FunctionSignature | None
    item_adapter: TypeAdapter[Any] | None


def bind_function(
    queue: FunctionQueue,
    job_name: str,
    fn: Callable[..., Any],
    pass_context: bool,
    context_var: str,
) -> Binding:
    """Build the processor of a function handler with the env's ``processor_maker``."""
    signature: FunctionSignature | None = None
    adapter: TypeAdapter[Any] | None = None
    model: type[BaseModel] | None
    style = "kwargs"
    if queue.batching_policy.batching_enabled:
        item = batch_item_type(fn, context_var if pass_context else None)
        if isinstance(item, type) and issubclass(item, BaseModel):
            if pass_context:
                raise TypeError(
                    f"handler {getattr(fn, '__qualname__', fn)!r} of {queue.name}.{job_name} "
                    f"takes a list of {item.__name__}, which has no room for the job context; "
                    f"take list[dict] to get it under {context_var!r} in each item"
                )
            model, style = item, "model"
        else:
            model = None
            adapter = TypeAdapter(item) if item is not None else None
    else:
        signature = signature_of(
            fn, pass_context=pass_context, context_var=context_var, skip=CONTROL_ARGUMENTS
        )
        model = signature.model
    processor = queue.processor_maker(
        queue=queue,
        fn=fn,
        job_name=job_name,
        pass_context=pass_context,
        context_var=context_var,
        model=model,
        style=style,
    )
    return Binding(processor, signature, adapter)
