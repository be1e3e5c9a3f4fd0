"""SQSEnv: the session, codec, context, queues and handlers of one application."""

from __future__ import annotations

import contextvars
import inspect
import typing
import warnings
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from typing_extensions import ParamSpec

from sqs_contracts.backoff_policies import DEFAULT_BACKOFF, BackoffPolicy
from sqs_contracts.batching import BatchingConfiguration, NoBatching, SendBuffer
from sqs_contracts.codecs import CONTENT_TYPES_CODECS, PICKLE_CONTENT_TYPES, Codec, resolve_encoder
from sqs_contracts.context import JobContext, SQSContext
from sqs_contracts.errors import HandlerError, NoCurrentEnv, QueueConfigError, UnknownJob
from sqs_contracts.management import RedrivePolicy
from sqs_contracts.processors import Processor
from sqs_contracts.queues import GenericQueue, JobQueue
from sqs_contracts.raw_queue import RawQueue
from sqs_contracts.sessions.base import SQSSession
from sqs_contracts.sessions.boto import BotoSession
from sqs_contracts.shutdown_policies import NeverShutdown, ShutdownPolicy

if TYPE_CHECKING:
    from sqs_contracts.async_task import AsyncTask
    from sqs_contracts.dead_letters import DeadLetter
    from sqs_contracts.task import Task
    from sqs_contracts.worker import Worker

_M = TypeVar("_M", bound="Task")
_R = TypeVar("_R")
_P = ParamSpec("_P")
_Q = TypeVar("_Q", bound=GenericQueue)

_active: contextvars.ContextVar[SQSEnv | None] = contextvars.ContextVar(
    "sqs_contracts_env", default=None
)
_last_created: SQSEnv | None = None


def current_env(env: SQSEnv | None = None, subject: object = None) -> SQSEnv:
    """The env to use: ``env`` if given, else ``with env.activate()``, else the last created."""
    found = env or _active.get() or _last_created
    if found is None:
        what = getattr(subject, "__name__", type(subject).__name__) if subject else "this job"
        raise NoCurrentEnv(
            f"no SQSEnv to send {what} through: create one (env = SQSEnv(...)), pass env=, "
            f"or wrap the call in `with env.activate():`"
        )
    return found


def _make_session(
    session: Any, sqs_client: Any, endpoint_url: str | None, region_name: str | None, **config: Any
) -> SQSSession:
    if sqs_client is not None:
        return BotoSession(sqs_client)
    if isinstance(session, SQSSession):
        return session
    return BotoSession.create(session, endpoint_url=endpoint_url, region_name=region_name, **config)


class SQSEnv:
    """One application's view of SQS: session, codec, job context, queues and handlers.

    ``session`` is a ``boto3.Session`` (default: boto3's default credentials), a
    ``MemorySession`` for tests, or any object implementing ``SQSSession``.
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
    ) -> None:
        global _last_created
        # ``sqs_resource`` is accepted for sqs-workers compatibility; the client is enough.
        del sqs_resource
        self.session: SQSSession = _make_session(
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
        self.send_buffer = SendBuffer()
        _last_created = self

    def __repr__(self) -> str:
        return f"<SQSEnv {self.describe_endpoint()} prefix={self.queue_prefix!r}>"

    def describe_endpoint(self) -> str:
        """Where this env's SQS is, for error messages."""
        return repr(self.session)

    # -- current env -----------------------------------------------------------------------

    @contextmanager
    def activate(self) -> Iterator[SQSEnv]:
        """Make this env the one ``.delay()`` uses inside the block (per thread and task)."""
        token = _active.set(self)
        try:
            yield self
        finally:
            _active.reset(token)

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
        conflicts = []
        if queue_maker is not JobQueue and not _same_maker(queue_maker, existing):
            conflicts.append(f"queue_maker={queue_maker!r}")
        if batching_policy is not None and batching_policy != existing.batching_policy:
            conflicts.append(f"batching_policy={batching_policy!r}")
        if backoff_policy is not None and backoff_policy is not existing.backoff_policy:
            conflicts.append(f"backoff_policy={backoff_policy!r}")
        if queue_url is not None and queue_url != existing.queue_url:
            conflicts.append(f"queue_url={queue_url!r}")
        if dead_letter_invalid is not None and dead_letter_invalid != existing.dead_letter_invalid:
            conflicts.append(f"dead_letter_invalid={dead_letter_invalid!r}")
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
        from sqs_contracts.task import Task

        if not (isinstance(model, type) and issubclass(model, Task)):
            raise HandlerError(f"env.handler() takes a Task subclass, got {model!r}")

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            _check_handler(fn, model, pass_context)
            queue = self.queue(model.queue_name())
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
        task: Task,
        *,
        delay_seconds: int | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        content_type: str | None = None,
    ) -> str | None:
        """Encode and send a contract instance; returns the MessageId (None when batching)."""
        cls = type(task)
        queue = self.queue(cls.queue_name())
        return queue.send_payload(
            cls.job_name(),
            task,
            content_type=content_type,
            delay_seconds=delay_seconds,
            group_id=group_id,
            deduplication_id=deduplication_id,
            version=cls.__task_version__,
        )

    def run_task(self, task: Task) -> Any:
        """Call a contract's handler synchronously with the current context."""
        cls = type(task)
        queue = self.queue(cls.queue_name())
        processor = queue.processors.get(cls.job_name())
        if processor is None:
            raise UnknownJob(
                f"no handler for {cls.__name__} (job {cls.job_name()!r} on queue "
                f"{cls.queue_name()!r}): register one with @env.handler({cls.__name__})"
            )
        context = JobContext(
            data=self.context.to_dict(),
            queue_name=queue.name,
            job_name=cls.job_name(),
            version=cls.__task_version__,
        )
        return processor.call(task, context)

    def batch(self) -> AbstractContextManager[None]:
        """Buffer every send in the block (any queue) into ``SendMessageBatch`` calls."""
        return self.send_buffer.block()

    def add_job(self, queue_name: str, job_name: str, **kwargs: Any) -> str | None:
        """Deprecated: use ``env.queue(name).add_job(...)``."""
        warnings.warn(
            "SQSEnv.add_job() is deprecated, use env.queue(queue_name).add_job(...)",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.queue(queue_name).add_job(job_name, **kwargs)

    # -- consuming ----------------------------------------------------------------------------

    def worker(self, concurrency: int | None = None, **options: Any) -> Worker:
        """A worker that runs this env's handlers on ``concurrency`` threads (default 1)."""
        from sqs_contracts.worker import DEFAULT_CONCURRENCY, Worker

        return Worker(
            self, concurrency=DEFAULT_CONCURRENCY if concurrency is None else concurrency, **options
        )

    def dead_letters(self, queue_name: str, limit: int | None = None) -> Iterator[DeadLetter]:
        """Typed records of a dead-letter queue's messages, validated; the messages stay."""
        from sqs_contracts.dead_letters import contracts_of, read_dead_letters

        # A GenericQueue resolves the URL with the usual not-found message, unregistered.
        url = (self.queues.get(queue_name) or GenericQueue(self, queue_name)).url
        contracts = contracts_of(self.queues.values())
        types = self.allowed_content_types
        return read_dead_letters(
            self.session, url, allowed_content_types=types, contracts=contracts, limit=limit
        )

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


def _same_maker(maker: Any, queue: GenericQueue) -> bool:
    used = getattr(queue, "maker_used", None)
    if used is maker:
        return True
    keys = ("func", "args", "keywords")
    return all(getattr(used, k, None) == getattr(maker, k, object()) for k in keys)


def _check_handler(fn: Callable[..., Any], model: type[Any], pass_context: bool) -> None:
    """Refuse at registration a handler whose first parameter is annotated with another type."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    needed = 2 if pass_context else 1
    has_varargs = any(p.kind is p.VAR_POSITIONAL for p in params)
    if len(positional) < needed and not has_varargs:
        raise HandlerError(
            f"handler {fn.__qualname__} for {model.__name__} must take "
            f"{'(task, context)' if pass_context else '(task)'}"
        )
    if not positional:
        return
    try:
        hints = typing.get_type_hints(fn)
    except Exception:
        return
    annotation = hints.get(positional[0].name)
    if isinstance(annotation, type) and not issubclass(model, annotation):
        raise HandlerError(
            f"handler {fn.__qualname__} takes {annotation.__name__} but is registered for "
            f"{model.__name__}: fix its annotation or the contract in @env.handler(...)"
        )
