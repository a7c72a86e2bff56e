"""What every service client shares: a channel, a generated stub and the call helper.

A client never owns its channel: one channel is shared by the clients of every
service behind the same address, and the caller closes it.

Every client method is keyword-only and takes:

- ``request`` (or ``requests``, an iterable, or for async clients an async
  iterable, for client- and bidirectional streams): the generated message.
- ``timeout``: overall deadline in seconds for the call and all of its retries.
  Left out: the RPC's default from the policy table; ``None``: no deadline.
- ``retry`` (unary RPCs only): a :class:`~fintech.client.Retry`. Left out: the
  table's default (none for RPCs that are unsafe to repeat); ``None``: one attempt.
  Passing a ``Retry`` for an RPC that is unsafe to repeat raises ``ValueError``.
- ``metadata``: extra gRPC metadata, sent after the client's own.
- ``traceparent``: a W3C ``traceparent`` header continuing the caller's trace.

Failures raise a :class:`~fintech.client.FintechError` subclass.
"""

from __future__ import annotations

import asyncio
import random as _random
import time
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import grpc

from fintech.client._call import AsyncCaller, Clock, RandomSource, SyncCaller
from fintech.client._options import Metadata


class AsyncServiceClient:
    """Base of the ``grpc.aio`` service clients."""

    _stub_class: ClassVar[Any]

    def __init__(
        self,
        channel: grpc.aio.Channel,
        *,
        metadata: Metadata = (),
        clock: Clock = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        random: RandomSource = _random.random,
    ) -> None:
        """Wrap ``channel``.

        Args:
            channel: A ``grpc.aio`` channel, normally from ``secure_channel``.
            metadata: Sent with every call of this client (before per-call metadata).
            clock: Monotonic clock used for the overall deadline (tests pass their own).
            sleep: Awaitable pause between retry attempts (tests pass their own).
            random: Source of uniform floats in ``[0, 1)`` for the jitter.
        """
        if not isinstance(channel, grpc.aio.Channel):
            raise TypeError(f"channel must be a grpc.aio.Channel (see secure_channel), got {type(channel).__name__}")
        self._channel = channel
        # The generated stub is unannotated; the policy table carries the message types.
        self._stub: Any = self._stub_class(channel)
        self._caller = AsyncCaller(metadata=metadata, clock=clock, sleep=sleep, random=random)


class SyncServiceClient:
    """Base of the blocking service clients."""

    _stub_class: ClassVar[Any]

    def __init__(
        self,
        channel: grpc.Channel,
        *,
        metadata: Metadata = (),
        clock: Clock = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        random: RandomSource = _random.random,
    ) -> None:
        """Wrap ``channel``.

        Args:
            channel: A blocking ``grpc`` channel, normally from ``secure_channel_sync``.
            metadata: Sent with every call of this client (before per-call metadata).
            clock: Monotonic clock used for the overall deadline (tests pass their own).
            sleep: Pause between retry attempts (tests pass their own).
            random: Source of uniform floats in ``[0, 1)`` for the jitter.
        """
        if isinstance(channel, grpc.aio.Channel) or not isinstance(channel, grpc.Channel):
            raise TypeError(
                f"channel must be a blocking grpc.Channel (see secure_channel_sync), got {type(channel).__name__}"
            )
        self._channel = channel
        # The generated stub is unannotated; the policy table carries the message types.
        self._stub: Any = self._stub_class(channel)
        self._caller = SyncCaller(metadata=metadata, clock=clock, sleep=sleep, random=random)
