"""Real implementations of two seams over the other helpers' components.

- :class:`ClassifierIntents`: :class:`IntentSource` over the trained BANKING77 classifier
  (``server.customer.intents``), run in an executor (it embeds the text: CPU-bound).
- :class:`PoolAnswerModel`: :class:`AnswerModel` over ``inference.pool.InferencePool``'s streaming chat,
  turning every inference failure into :class:`LlmUnavailable` (the engine then hands off and says so).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from concurrent.futures import Executor

from inference.errors import InferenceError, TokenBudgetExceeded
from inference.pool import InferencePool
from server.customer.answering.ports import IntentGuess, LlmUnavailable
from server.customer.intents.model import IntentClassifier
from server.runtime.errors import ResourceExhausted


class ClassifierIntents:
    """The trained intent classifier as an :class:`IntentSource`."""

    def __init__(self, classifier: IntentClassifier, executor: Executor | None = None) -> None:
        self._classifier = classifier
        self._executor = executor

    @property
    def model_id(self) -> str:
        """The artefact's content hash."""
        return self._classifier.model_id

    async def classify(self, text: str) -> IntentGuess:
        """Predicts in the executor (embedding is CPU-bound)."""
        loop = asyncio.get_running_loop()
        prediction = (await loop.run_in_executor(self._executor, self._classifier.predict, [text]))[0]
        return IntentGuess(
            prediction.intent,
            prediction.confidence,
            self._classifier.model_id,
            tuple(name for name, _ in prediction.alternatives),
        )


class PoolAnswerModel:
    """Streams answers through the inference pool.

    Args:
        pool: The shared pool.
        group: Model group asked first (primary when empty).
        max_tokens: Completion limit.
        temperature: Sampling temperature.
        default_timeout: Seconds allowed when the caller gives no deadline.
        caller: Identity charged in the token budget.
    """

    def __init__(
        self,
        pool: InferencePool,
        *,
        group: str = "",
        max_tokens: int = 400,
        temperature: float = 0.0,
        default_timeout: float = 20.0,
        caller: str = "customer-service",
    ) -> None:
        self._pool = pool
        self._group = group or None
        self._max_tokens = max_tokens
        self._temperature = temperature
        self._timeout = default_timeout
        self._caller = caller
        self._last = ""

    @property
    def model_ref(self) -> str:
        """``group/model@endpoint`` of the last stream, or the group asked for."""
        return self._last or (self._group or "primary")

    async def stream(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        conversation_id: str,
        customer: str,
        time_remaining: float | None,
    ) -> AsyncIterator[str]:
        """Text deltas from the pool.

        Raises:
            LlmUnavailable: any inference failure (unavailable, deadline, interrupted, rejected).
            ResourceExhausted: the customer's or caller's token budget is spent.
        """
        remaining = self._timeout if time_remaining is None else min(time_remaining, self._timeout)
        try:
            async for event in self._pool.stream(
                list(messages),
                group=self._group,
                max_tokens=self._max_tokens,
                temperature=self._temperature,
                time_remaining=remaining,
                caller=self._caller,
                customer=customer,
                conversation_id=conversation_id,
            ):
                self._last = str(event.served_by)
                if event.delta:
                    yield event.delta
        except TokenBudgetExceeded as exc:
            raise ResourceExhausted(
                "token budget exceeded",
                reason=exc.reason,
                domain="customer.fintech",
                retry_after_seconds=exc.retry_after_seconds,
            ) from exc
        except InferenceError as exc:
            raise LlmUnavailable(exc.reason) from exc
