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

import functools
from collections.abc import Callable, Coroutine, Mapping
from contextlib import AbstractContextManager
from typing import Any, Generic, NoReturn, cast, overload

from pydantic import BaseModel, ValidationError
from typing_extensions import ParamSpec, TypeVar

from sqs_contracts.dispatch.awaitables import (
    await_result,
    call_in_thread,
    is_async_callable,
    run_to_completion,
)
from sqs_contracts.dispatch.processor import describe_validation_error
from sqs_contracts.queues.function_binding import (
    AsyncTaskDelayArgs,
    Binding,
    FunctionQueue,
    SendOptions,
    bind_function,
)
from sqs_contracts.wire.codecs import is_json_mode
from sqs_contracts.wire.context import JobContext
from sqs_contracts.wire.errors import UnsendableValue
from sqs_contracts.wire.json_safety import check_sendable

__all__ = ["AsyncTask", "AsyncTaskDelayArgs", "BakedAsyncTask", "P", "connect_function"]

P = ParamSpec("P")
"""The handler's parameters."""
R = TypeVar("R", default=Any)  # the default keeps sqs-workers' one-parameter AsyncTask[P] valid
"""The handler's return type."""
_T = TypeVar("_T")


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
        binding: Binding | None = None,
    ) -> None:
        self.queue = queue
        self.job_name = job_name
        self.processor = processor  # the function, as sqs-workers names it
        self.__doc__ = processor.__doc__
        if binding is None:
            binding = bind_function(queue, job_name, processor, False, "context")
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
        options = SendOptions.pop_from(kwargs)
        return self._send(self._payload(args, kwargs), options)

    async def adelay(self, *args: P.args, **kwargs: P.kwargs) -> str | None:
        """:meth:`delay` for coroutines: validated at the call, sent off the event loop."""
        options = SendOptions.pop_from(kwargs)
        return await self._asend(self._payload(args, kwargs), options)

    def bake(self, *args: P.args, **kwargs: P.kwargs) -> BakedAsyncTask[R]:
        """Validate the arguments now and keep them for a later ``.delay()`` or ``.run()``."""
        return BakedAsyncTask(self, args, kwargs)

    def batch(self) -> AbstractContextManager[None]:
        """Send every job enqueued to this queue inside the block in ``SendMessageBatch`` calls."""
        return self.queue.add_batch()

    @overload
    def run(
        self: AsyncTask[P, Coroutine[Any, Any, _T]], *args: P.args, **kwargs: P.kwargs
    ) -> _T: ...

    @overload
    def run(self, *args: P.args, **kwargs: P.kwargs) -> R: ...

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """Validate the arguments and call the handler now, in this process (no queue); an
        async handler runs to completion on a private event loop."""
        name = getattr(self.processor, "__name__", "task")
        hint = f"use `await {name}.arun(...)` inside a running loop"
        return run_to_completion(self._call(args, kwargs), f"async task {self._where}", hint)

    @overload
    async def arun(
        self: AsyncTask[P, Coroutine[Any, Any, _T]], *args: P.args, **kwargs: P.kwargs
    ) -> _T: ...

    @overload
    async def arun(self, *args: P.args, **kwargs: P.kwargs) -> R: ...

    async def arun(self, *args: Any, **kwargs: Any) -> Any:
        """:meth:`run` without blocking the loop: an async handler is awaited, a sync one
        runs in a thread."""
        if is_async_callable(self.processor):
            return await await_result(self._call(args, kwargs))
        return await await_result(await call_in_thread(functools.partial(self._call, args, kwargs)))

    def _call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Validate the arguments and call the handler; its result, awaitable or not."""
        context = JobContext(
            data=self.queue.context.to_dict(),
            queue_name=self.queue.name,
            job_name=self.job_name,
        )
        payload = self._payload(args, kwargs)
        processor = self.job_processor
        if not self._batching:
            return processor.call(payload, context)
        if isinstance(payload, BaseModel):
            items: list[Any] = [payload]
        else:
            item = dict(payload)
            if processor.pass_context:
                item[processor.context_var] = context
            items = [item]
        return processor.fn(items)

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

    def _send(self, payload: BaseModel | Mapping[str, Any], options: SendOptions) -> str | None:
        return self.queue.send_payload(
            self.job_name, self._sendable(payload, options), **options.send_kwargs()
        )

    async def _asend(
        self, payload: BaseModel | Mapping[str, Any], options: SendOptions
    ) -> str | None:
        return await self.queue.asend_payload(
            self.job_name, self._sendable(payload, options), **options.send_kwargs()
        )

    def _sendable(
        self, payload: BaseModel | Mapping[str, Any], options: SendOptions
    ) -> BaseModel | Mapping[str, Any]:
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
        return payload


class BakedAsyncTask(Generic[R]):
    """A job with its arguments validated and bound, to ``.delay()`` or ``.run()`` later."""

    def __init__(
        self, async_task: AsyncTask[Any, R], args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> None:
        self.async_task = async_task
        self.args = tuple(args)
        self.kwargs = dict(kwargs)
        call_kwargs = dict(kwargs)
        self._options = SendOptions.pop_from(call_kwargs)
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

    async def adelay(self) -> str | None:
        """:meth:`delay` for coroutines: sent off the event loop."""
        return await self.async_task._asend(self._payload, self._options)

    @overload
    def run(self: BakedAsyncTask[Coroutine[Any, Any, _T]]) -> _T: ...

    @overload
    def run(self) -> R: ...

    def run(self) -> Any:
        """Call the handler now, in this process, with the baked arguments."""
        return self.async_task.run(*self.args, **self._call_kwargs)

    @overload
    async def arun(self: BakedAsyncTask[Coroutine[Any, Any, _T]]) -> _T: ...

    @overload
    async def arun(self) -> R: ...

    async def arun(self) -> Any:
        """:meth:`run` without blocking the loop."""
        return await self.async_task.arun(*self.args, **self._call_kwargs)


def connect_function(
    queue: FunctionQueue,
    job_name: str,
    fn: Callable[P, R],
    pass_context: bool = False,
    context_var: str = "context",
) -> AsyncTask[P, R]:
    """Register a plain function as the handler of ``job_name`` (replacing any) on ``queue``."""
    binding = bind_function(queue, job_name, fn, pass_context, context_var)
    queue.processors[job_name] = binding.processor
    return AsyncTask(queue, job_name, fn, binding=binding)
