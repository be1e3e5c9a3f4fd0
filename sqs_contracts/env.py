"""SQSEnv: the composition root that wires a session, codecs, queues, handlers and runners."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager, contextmanager
from datetime import datetime
from typing import Any, Literal, TypeVar, overload

from pydantic import BaseModel
from typing_extensions import ParamSpec

from sqs_contracts.contracts import binding
from sqs_contracts.contracts.errors import HandlerError, NoCurrentEnv
from sqs_contracts.contracts.handler_check import check_handler
from sqs_contracts.contracts.task import Task
from sqs_contracts.dispatch.backoff import DEFAULT_BACKOFF, BackoffPolicy
from sqs_contracts.dispatch.batch_policies import BatchingConfiguration, NoBatching
from sqs_contracts.dispatch.middleware import MiddlewareChain
from sqs_contracts.dispatch.processor import Processor
from sqs_contracts.queues.base import GenericQueue
from sqs_contracts.queues.dead_letters import DeadLetter, contracts_of, read_dead_letters
from sqs_contracts.queues.function_api import AsyncTask
from sqs_contracts.queues.job_queue import JobQueue
from sqs_contracts.queues.management import RedrivePolicy
from sqs_contracts.queues.offload import S3Offload
from sqs_contracts.queues.raw_queue import RawQueue
from sqs_contracts.queues.registry import settings_conflicts
from sqs_contracts.queues.send_buffer import SendBuffer
from sqs_contracts.queues.session_override import SessionOverride
from sqs_contracts.queues.shutdown_policies import NeverShutdown, ShutdownPolicy
from sqs_contracts.runners.lambda_handler import make_handler
from sqs_contracts.runners.worker import DEFAULT_CONCURRENCY, Worker
from sqs_contracts.sessions.base import SQSSession
from sqs_contracts.sessions.boto import make_session
from sqs_contracts.sessions.errors import QueueConfigError
from sqs_contracts.wire.codecs import (
    CONTENT_TYPES_CODECS,
    PICKLE_CONTENT_TYPES,
    Codec,
    resolve_encoder,
)
from sqs_contracts.wire.context import JobContext, SQSContext

_M = TypeVar("_M", bound=Task)
_R = TypeVar("_R")
_P = ParamSpec("_P")
_Q = TypeVar("_Q", bound=GenericQueue)

__all__ = ["NoCurrentEnv", "SQSEnv", "current_env"]


def current_env(env: SQSEnv | None = None, subject: object = None) -> SQSEnv:
    """The env by the ``.delay()`` rule: ``env``, the active, the one serving, the only one."""
    found = binding.current_producer(env, subject)
    assert isinstance(found, SQSEnv)
    return found


class SQSEnv:
    """One application's view of SQS: session, codec, job context, queues and handlers.

    ``session`` is a ``boto3.Session`` (default: boto3's default credentials), a
    ``MemorySession`` for tests, or any object implementing ``SQSSession``.
    ``coalesce=True`` (or a linger in ms) sends concurrent ``.delay()``/``.adelay()`` calls
    together in ``SendMessageBatch`` requests. ``large_payloads=S3Offload(bucket)`` stores
    bodies too large for SQS in S3.
    """

    def __init__(
        self,
        session: Any = None,
        queue_prefix: str = "",
        codec: str = "json",
        retry_max_attempts: int = 3,
        retry_mode: str = "standard",
        backoff_policy: BackoffPolicy = DEFAULT_BACKOFF,
        processor_maker: Callable[..., Processor] = Processor,
        context_maker: Callable[[], SQSContext] = SQSContext,
        *,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        allowed_content_types: Collection[str] | None = None,
        sqs_client: Any = None,
        sqs_resource: Any = None,
        middleware: Sequence[object] = (),
        coalesce: bool | float = False,
        large_payloads: S3Offload | None = None,
    ) -> None:
        # ``sqs_resource`` is accepted for sqs-workers compatibility; the client is enough.
        del sqs_resource
        self.session: SQSSession = make_session(
            session,
            sqs_client,
            endpoint_url,
            region_name,
            retry_max_attempts=retry_max_attempts,
            retry_mode=retry_mode,
        )
        self.queue_prefix = queue_prefix
        self.codec = codec
        resolve_encoder(codec)  # fail now on an unknown codec name, not at the first send
        self.backoff_policy = backoff_policy
        self.processor_maker = processor_maker
        self.context_maker = context_maker
        self.context: SQSContext = context_maker()
        if allowed_content_types is None:
            allowed_content_types = set(CONTENT_TYPES_CODECS) - PICKLE_CONTENT_TYPES
        self.allowed_content_types = frozenset(allowed_content_types)
        self.queues: dict[str, GenericQueue] = {}
        self._declared: set[str] = set()
        self.send_buffer = SendBuffer(coalesce=coalesce)
        self.large_payloads = large_payloads
        """Where bodies too large for SQS go (``S3Offload``), read back by consumers."""
        self.middleware = MiddlewareChain(middleware)
        """Hooks around sends, jobs and worker runs (dispatch/middleware), in order."""
        binding.register(self)

    def __repr__(self) -> str:
        return f"<SQSEnv {self.describe_endpoint()} prefix={self.queue_prefix!r}>"

    def describe_endpoint(self) -> str:
        """Where this env's SQS is, for error messages."""
        return repr(self.session)

    def add_middleware(self, middleware: object) -> None:
        """Add a middleware (a ``Middleware`` subclass or any object with some of its hooks);
        it runs after those added before it, its ``after_*`` hooks before theirs."""
        self.middleware.add(middleware)

    # -- current env -----------------------------------------------------------------------

    @contextmanager
    def activate(self) -> Iterator[SQSEnv]:
        """Make this env the one ``.delay()`` uses inside the block (per thread and task)."""
        with binding.activate(self):
            yield self

    def serves(self, queue_name: str) -> bool:
        """Whether a handler or ``env.queue(...)`` registered the queue here (sends do not)."""
        return queue_name in self._declared

    def override(self, session: SQSSession) -> SessionOverride[SQSEnv]:
        """Point the env and its queues at ``session`` in a ``with``/``async with`` block."""
        return SessionOverride(self, session)

    # -- codecs ----------------------------------------------------------------------------

    def encoder(self, content_type: str | None = None) -> tuple[str, type[Codec]]:
        """The (content type, codec) for new jobs: ``content_type`` or the env's codec."""
        return resolve_encoder(content_type or self.codec)

    # -- queues ----------------------------------------------------------------------------

    def get_sqs_queue_name(self, queue_name: str) -> str:
        """The SQS name of a queue: the env's prefix plus the name."""
        return self.queue_prefix + queue_name

    @overload
    def queue(
        self,
        queue_name: str,
        queue_maker: type[JobQueue] = JobQueue,
        batching_policy: BatchingConfiguration = ...,
        backoff_policy: BackoffPolicy | None = None,
        *,
        queue_url: str | None = None,
        dead_letter_invalid: bool | None = None,
    ) -> JobQueue: ...

    @overload
    def queue(
        self,
        queue_name: str,
        queue_maker: type[_Q] | Callable[..., _Q],
        batching_policy: BatchingConfiguration = ...,
        backoff_policy: BackoffPolicy | None = None,
        *,
        queue_url: str | None = None,
        dead_letter_invalid: bool | None = None,
    ) -> _Q: ...

    def queue(
        self,
        queue_name: str,
        queue_maker: Any = JobQueue,
        batching_policy: BatchingConfiguration | None = None,
        backoff_policy: BackoffPolicy | None = None,
        *,
        queue_url: str | None = None,
        dead_letter_invalid: bool | None = None,
    ) -> Any:
        """Return the queue registered under a name, creating its object on first use.

        A later call with different settings raises instead of silently ignoring them.
        """
        self._declared.add(queue_name)
        existing = self.queues.get(queue_name)
        if existing is None:
            queue = queue_maker(
                self,
                queue_name,
                backoff_policy,
                batching_policy or NoBatching(),
                queue_url=queue_url,
                dead_letter_invalid=bool(dead_letter_invalid),
            )
            queue.maker_used = queue_maker
            self.queues[queue_name] = queue
            return queue
        conflicts = settings_conflicts(
            existing,
            queue_maker=None if queue_maker is JobQueue else queue_maker,
            batching_policy=batching_policy,
            backoff_policy=backoff_policy,
            queue_url=queue_url,
            dead_letter_invalid=dead_letter_invalid,
        )
        if conflicts:
            raise QueueConfigError(
                f"queue {queue_name!r} is already set up as {existing!r}; the new settings "
                f"{', '.join(conflicts)} differ: configure a queue once, in its first "
                f"env.queue() call"
            )
        return existing

    def get_all_known_queues(self) -> list[str]:
        """Names (without prefix) of the SQS queues that carry this env's prefix."""
        urls = self.session.list_queues(QueueNamePrefix=self.queue_prefix).get("QueueUrls", [])
        return [url.rsplit("/", 1)[-1][len(self.queue_prefix) :] for url in urls]

    def redrive_policy(self, dead_letter_queue_name: str, max_receive_count: int) -> RedrivePolicy:
        """A redrive policy moving messages to the named queue after ``max_receive_count``."""
        return RedrivePolicy(self, dead_letter_queue_name, max_receive_count)

    # -- handlers ----------------------------------------------------------------------------

    @overload
    def handler(
        self, model: type[_M], *, pass_context: Literal[False] = False
    ) -> Callable[[Callable[[_M], _R]], Callable[[_M], _R]]: ...

    @overload
    def handler(
        self, model: type[_M], *, pass_context: Literal[True]
    ) -> Callable[[Callable[[_M, JobContext], _R]], Callable[[_M, JobContext], _R]]: ...

    def handler(self, model: type[Any], *, pass_context: bool = False) -> Callable[[Any], Any]:
        """Register the decorated function as the handler of a contract; returns it unchanged."""
        if not (isinstance(model, type) and issubclass(model, Task)):
            raise HandlerError(f"env.handler() takes a Task subclass, got {model!r}")

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            queue = self.queue(model.queue_name())
            check_handler(
                fn,
                model,
                pass_context,
                batching=queue.batching_policy.batching_enabled,
                queue_name=queue.name,
            )
            queue.processors[model.job_name()] = self.processor_maker(
                queue=queue,
                fn=fn,
                job_name=model.job_name(),
                pass_context=pass_context,
                model=model,
                style="model",
            )
            return fn

        return register

    def processor(
        self,
        queue_name: str,
        job_name: str,
        pass_context: bool = False,
        context_var: str = "context",
    ) -> Callable[[Callable[_P, _R]], AsyncTask[_P, _R]]:
        """Decorate a plain function into an ``AsyncTask`` of ``job_name`` on a job queue."""
        return self.queue(queue_name).processor(job_name, pass_context, context_var)

    def raw_processor(self, queue_name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register the decorated function as the raw processor of a ``RawQueue``."""
        return self.queue(queue_name, RawQueue).raw_processor()

    # -- producing ----------------------------------------------------------------------------

    def send_task(
        self,
        task: BaseModel,
        *,
        delay_seconds: int | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        content_type: str | None = None,
        eta: datetime | None = None,
    ) -> str | None:
        """Encode and send a contract instance; returns the MessageId (None when batching)."""
        cls = _contract(task)
        queue = self._queue_of(cls)
        return queue.send_payload(
            cls.job_name(),
            task,
            content_type=content_type,
            delay_seconds=delay_seconds,
            group_id=group_id,
            deduplication_id=deduplication_id,
            version=cls.__task_version__,
            eta=eta,
        )

    def run_task(self, task: BaseModel) -> Any:
        """Call a contract's handler synchronously with the current context (an async
        handler runs to completion on a private event loop)."""
        return self._queue_of(_contract(task)).run_task(_contract(task), task)

    async def arun_task(self, task: BaseModel) -> Any:
        """Run a contract's handler without blocking the loop: awaited, or in a thread."""
        return await self._queue_of(_contract(task)).arun_task(_contract(task), task)

    def _queue_of(self, cls: type[Task]) -> JobQueue:
        # A contract without a queue finds none here, and queue_name() says why below.
        queue = self.queues.get(cls.__task_queue__)  # type: ignore[arg-type]
        if queue is None:
            queue = self.queue(cls.queue_name())
            self._declared.discard(cls.queue_name())
        return queue  # type: ignore[return-value]  # typing.cast is a call per send

    def batch(self) -> AbstractContextManager[None]:
        """Buffer every send in the block (any queue) into ``SendMessageBatch`` calls."""
        return self.send_buffer.block()

    async def asend_task(
        self,
        task: BaseModel,
        *,
        delay_seconds: int | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        content_type: str | None = None,
        eta: datetime | None = None,
    ) -> str | None:
        """``send_task`` for coroutines: checked at the call, sent off the event loop."""
        cls = _contract(task)
        return await self.queue(cls.queue_name()).asend_payload(
            cls.job_name(),
            task,
            content_type=content_type,
            delay_seconds=delay_seconds,
            group_id=group_id,
            deduplication_id=deduplication_id,
            version=cls.__task_version__,
            eta=eta,
        )

    def abatch(self) -> AbstractAsyncContextManager[None]:
        """``batch()`` for coroutines: ``async with env.abatch():``, flushed without blocking."""
        return self.send_buffer.ablock()

    def add_job(self, queue_name: str, job_name: str, **kwargs: Any) -> str | None:
        """Deprecated: use ``env.queue(name).add_job(...)``."""
        warnings.warn(
            "SQSEnv.add_job() is deprecated, use env.queue(queue_name).add_job(...)",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.queue(queue_name).add_job(job_name, **kwargs)

    # -- consuming ----------------------------------------------------------------------------

    def worker(self, concurrency: int = DEFAULT_CONCURRENCY, **options: Any) -> Worker:
        """A worker that runs this env's handlers on ``concurrency`` threads (default 1)."""
        return Worker(self, concurrency=concurrency, **options)

    def dead_letters(self, queue_name: str, limit: int | None = None) -> Iterator[DeadLetter]:
        """Typed records of a dead-letter queue's messages, validated; the messages stay."""
        # A GenericQueue resolves the URL with the usual not-found message, unregistered.
        url = (self.queues.get(queue_name) or GenericQueue(self, queue_name)).url
        contracts = contracts_of(self.queues.values())
        types = self.allowed_content_types
        return read_dead_letters(
            self.session, url, allowed_content_types=types, contracts=contracts, limit=limit
        )

    def lambda_handler(
        self, *, concurrency: int = 1, time_margin_seconds: float = 5.0
    ) -> Callable[[Any, Any], dict[str, list[dict[str, str]]]]:
        """A ``handler(event, context)`` for AWS Lambda behind an SQS event source mapping:
        it runs this env's handlers and returns ``batchItemFailures``; building it calls nothing."""
        return make_handler(self, concurrency=concurrency, time_margin_seconds=time_margin_seconds)

    def process_queues(
        self,
        queue_names: Sequence[str] | None = None,
        shutdown_policy_maker: Callable[[], ShutdownPolicy] = NeverShutdown,
    ) -> None:
        """Process several queues (default: every queue with the prefix) in this process.

        Threads, not processes: it works under every multiprocessing start method.
        """
        names = list(queue_names) if queue_names else self.get_all_known_queues()
        self.worker(concurrency=max(1, len(names))).run(
            *names, shutdown_policy=shutdown_policy_maker()
        )


def _contract(task: BaseModel) -> type[Task]:
    cls = type(task)
    if not issubclass(cls, Task):
        raise HandlerError(f"{cls.__name__} is not a Task contract: subclass sqs_contracts.Task")
    return cls
