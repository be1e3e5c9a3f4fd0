"""AsyncTask and BakedAsyncTask: the function-based API kept from sqs-workers.

``@queue.processor("send_email")`` turns a plain function into an :class:`AsyncTask`: its
arguments are validated against a pydantic model built from the function's signature when
the job is enqueued, and the message body carries every argument, defaults included.

Queues read in batches (``BatchMessages``) call the handler with a list; ``.delay()`` then
takes keyword arguments only, validated against the list's item type when the handler is
annotated ``list[X]`` (a pydantic model, a ``dict``, a ``TypedDict``...) and sent as given
otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Generic, NoReturn, Protocol, TypedDict, cast

from pydantic import BaseModel, TypeAdapter, ValidationError
from typing_extensions import ParamSpec, TypeVar

from sqs_contracts.contracts.signatures import FunctionSignature, batch_item_type, signature_of
from sqs_contracts.dispatch.batch_policies import BatchingConfiguration
from sqs_contracts.dispatch.processor import Processor, describe_validation_error
from sqs_contracts.wire.codecs import Codec, is_json_mode
from sqs_contracts.wire.context import JobContext, SQSContext
from sqs_contracts.wire.errors import UnsendableValue
from sqs_contracts.wire.json_safety import check_sendable

__all__ = ["AsyncTask", "AsyncTaskDelayArgs", "BakedAsyncTask", "P", "connect_function"]

P = ParamSpec("P")
"""The handler's parameters."""
R = TypeVar("R", default=Any)  # the default keeps sqs-workers' one-parameter AsyncTask[P] valid
"""The handler's return type."""


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
class _SendOptions:
    content_type: str | None = None
    delay_seconds: float | None = None
    deduplication_id: str | None = None
    group_id: str | None = None

    @classmethod
    def pop_from(cls, kwargs: dict[str, Any]) -> _SendOptions:
        return cls(
            kwargs.pop("_content_type", None),
            kwargs.pop("_delay_seconds", None),
            kwargs.pop("_deduplication_id", None),
            kwargs.pop("_group_id", None),
        )


def _called_synchronously(what: str, cls: str) -> RuntimeError:
    return RuntimeError(
        f"{what} called synchronously (probably, by mistake). Use either {cls}.run(...) to "
        f"run the task synchronously or {cls}.delay(...) to add it to the queue"
    )


class AsyncTask(Generic[P, R]):
    """A function registered as the handler of a job: ``.delay()``, ``.bake()``, ``.run()``.

    Calling it directly raises ``RuntimeError``: say ``.run()`` or ``.delay()``.
    """

    def __init__(
        self,
        queue: FunctionQueue,
        job_name: str,
        processor: Callable[P, R],
        *,
        binding: _Binding | None = None,
    ) -> None:
        self.queue = queue
        self.job_name = job_name
        self.processor = processor  # the function, as sqs-workers names it
        self.__doc__ = processor.__doc__
        if binding is None:
            binding = _bind(queue, job_name, processor, False, "context")
        self.job_processor = binding.processor
        self._signature = binding.signature
        self._item_adapter = binding.item_adapter

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.queue.name}.{self.job_name}>"

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> NoReturn:
        """Refuse a direct call, which would neither queue the job nor clearly run it."""
        raise _called_synchronously(f"Async task {self._where}", "AsyncTask")

    @property
    def _where(self) -> str:
        return f"{self.queue.name}.{self.job_name}"

    @property
    def _batching(self) -> bool:
        return self.queue.batching_policy.batching_enabled

    # -- producing -------------------------------------------------------------------------

    def delay(self, *args: P.args, **kwargs: P.kwargs) -> str | None:
        """Validate the arguments and enqueue the job; returns the MessageId (None in a batch).

        Also takes ``_content_type``, ``_delay_seconds``, ``_deduplication_id``, ``_group_id``.
        """
        options = _SendOptions.pop_from(kwargs)
        return self._send(self._payload(args, kwargs), options)

    def bake(self, *args: P.args, **kwargs: P.kwargs) -> BakedAsyncTask[R]:
        """Validate the arguments now and keep them for a later ``.delay()`` or ``.run()``."""
        return BakedAsyncTask(self, args, kwargs)

    def batch(self) -> AbstractContextManager[None]:
        """Send every job enqueued to this queue inside the block in ``SendMessageBatch`` calls."""
        return self.queue.add_batch()

    def run(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Validate the arguments and call the handler now, in this process (no queue)."""
        context = JobContext(
            data=self.queue.context.to_dict(),
            queue_name=self.queue.name,
            job_name=self.job_name,
        )
        payload = self._payload(args, kwargs)
        processor = self.job_processor
        if not self._batching:
            return cast("R", processor.call(payload, context))
        if isinstance(payload, BaseModel):
            items: list[Any] = [payload]
        else:
            item = dict(payload)
            if processor.pass_context:
                item[processor.context_var] = context
            items = [item]
        return cast("R", processor.fn(items))

    # -- internals shared with BakedAsyncTask ----------------------------------------------

    def _payload(
        self, args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> BaseModel | Mapping[str, Any]:
        """Bind and validate arguments; ``TypeError`` names the task and the field."""
        if self._batching:
            if args:
                raise TypeError(
                    f"{self._where}: a batch read queue takes keyword arguments only "
                    f"(the handler receives a list of them)"
                )
            return self._batch_item(kwargs)
        if self._signature is None:  # only batch read queues go without one
            raise TypeError(f"{self._where}: the handler's signature is unknown")
        bound = self._signature.bind(args, kwargs, self._where)
        return self.job_processor.validate_for_send(bound)

    def _batch_item(self, kwargs: Mapping[str, Any]) -> BaseModel | Mapping[str, Any]:
        if self.job_processor.model is not None:
            return self.job_processor.validate_for_send(kwargs)
        if self._item_adapter is None:
            return dict(kwargs)
        try:
            return cast("Mapping[str, Any]", self._item_adapter.validate_python(dict(kwargs)))
        except ValidationError as exc:
            raise TypeError(
                f"{self._where}: invalid arguments: {describe_validation_error(exc)}"
            ) from exc

    def _send(self, payload: BaseModel | Mapping[str, Any], options: _SendOptions) -> str | None:
        if self._item_adapter is not None and not isinstance(payload, BaseModel):
            # A validated dict item may hold datetimes or UUIDs: write them as JSON would.
            _, codec = self.queue.encoder(options.content_type)
            if is_json_mode(codec):
                # Dumping in JSON mode turns NaN into None: refuse it first, naming the field.
                try:
                    check_sendable(payload)
                except UnsendableValue as exc:
                    raise exc.located(self.job_name, self.queue.name) from None
                payload = self._item_adapter.dump_python(payload, mode="json")
        delay = options.delay_seconds
        return self.queue.send_payload(
            self.job_name,
            payload,
            content_type=options.content_type,
            delay_seconds=None if delay is None else int(delay),
            group_id=options.group_id,
            deduplication_id=options.deduplication_id,
        )


class BakedAsyncTask(Generic[R]):
    """A job with its arguments validated and bound, to ``.delay()`` or ``.run()`` later."""

    def __init__(
        self, async_task: AsyncTask[Any, R], args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> None:
        self.async_task = async_task
        self.args = tuple(args)
        self.kwargs = dict(kwargs)
        call_kwargs = dict(kwargs)
        self._options = _SendOptions.pop_from(call_kwargs)
        self._call_kwargs = call_kwargs
        self._payload = async_task._payload(self.args, call_kwargs)

    def __repr__(self) -> str:
        return f"BakedAsyncTask({self.async_task!r}, ...)"

    def __call__(self) -> NoReturn:
        """Refuse a direct call, as ``AsyncTask`` does."""
        raise _called_synchronously(f"Baked task {self.async_task._where}", "BakedAsyncTask")

    def delay(self) -> str | None:
        """Enqueue the job; returns the MessageId (None inside a batch block)."""
        return self.async_task._send(self._payload, self._options)

    def run(self) -> R:
        """Call the handler now, in this process, with the baked arguments."""
        return self.async_task.run(*self.args, **self._call_kwargs)


@dataclass(frozen=True)
class _Binding:
    """A handler's processor and what ``delay()`` validates against."""

    processor: Processor
    signature: FunctionSignature | None
    item_adapter: TypeAdapter[Any] | None


def _bind(
    queue: FunctionQueue,
    job_name: str,
    fn: Callable[..., Any],
    pass_context: bool,
    context_var: str,
) -> _Binding:
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
    return _Binding(processor, signature, adapter)


def connect_function(
    queue: FunctionQueue,
    job_name: str,
    fn: Callable[P, R],
    pass_context: bool = False,
    context_var: str = "context",
) -> AsyncTask[P, R]:
    """Register a plain function as the handler of ``job_name`` (replacing any) on ``queue``."""
    binding = _bind(queue, job_name, fn, pass_context, context_var)
    queue.processors[job_name] = binding.processor
    return AsyncTask(queue, job_name, fn, binding=binding)
