"""Plays back recorded exchanges: demos and offline use, no network, no key.

A recording (``pipeline/agents/recordings/<claim_id>.json``) lists the replies a drafter
and a reviewer gave, in order, each tagged with the kind of prompt it answered. The replay
provider hands them out in that order and refuses a reply whose kind does not match what
the loop asks for, so a recording that no longer fits the loop fails loudly.
Recordings are made with :class:`RecordingLog` (``sequent draft --record PATH``,
``sequent ab run --record DIR``).

A reply that called tools carries its ``tool_calls``; replay hands them to the loop, which runs
the real tools again (as it runs Lean again), and the model's next reply of the same kind
follows. A recorded call of a tool the loop does not offer (or after its tool rounds) is refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import ValidationError, model_validator

from pipeline.agents.models import Completion, Family, Prompt, PromptKind, ProviderName, ToolCall
from pipeline.agents.providers.base import Provider
from pipeline.errors import InputError, NotFoundError, ProviderError
from pipeline.models import Frozen

Role = Literal["drafter", "reviewer"]
MAX_RECORDING_BYTES = 4 * 1024 * 1024
PACKAGED_RECORDINGS = Path(__file__).resolve().parent.parent / "recordings"


class RecordedModel(Frozen):
    family: Family
    model: str


class RecordedExchange(Frozen):
    role: Role
    kind: PromptKind
    output: str
    prompt_hash: str | None = None
    """Hash of the prompt when it was recorded (informational: Lean's messages may differ)."""
    input_tokens: int = 0
    output_tokens: int = 0
    tool_calls: tuple[ToolCall, ...] = ()
    """The tools this reply asked to call (its ``output`` is then the text said with them)."""

    # the format's two directions, kept together: a live reply recorded, a recorded one replayed
    @classmethod
    def of(cls, completion: Completion, prompt: Prompt, role: Role) -> RecordedExchange:
        """What a live ``completion`` to ``prompt`` records. Tool calls made where none were
        allowed are ignored by the loop: they are not replayed either."""
        calls = completion.tool_calls if prompt.tool_choice == "auto" else ()
        return cls(role=role, kind=prompt.kind, output=completion.text, prompt_hash=prompt.digest,
                   input_tokens=completion.input_tokens, output_tokens=completion.output_tokens,
                   tool_calls=calls)

    def replayed(self, provider: ProviderName, family: Family, model: str) -> Completion:
        """This exchange as the reply of the recorded ``model`` (a replay spends nothing)."""
        return Completion(text=self.output, provider=provider, family=family, model=model,
                          input_tokens=self.input_tokens, output_tokens=self.output_tokens,
                          cost_usd=0.0, tool_calls=self.tool_calls)


class Recording(Frozen):
    claim_id: str
    description: str = ""
    drafter: RecordedModel
    reviewer: RecordedModel | None = None
    exchanges: list[RecordedExchange]

    @model_validator(mode="after")
    def _families_differ(self) -> Recording:
        if self.reviewer is not None and self.reviewer.family == self.drafter.family:
            raise ValueError("the reviewer must come from the other family than the drafter")
        if self.reviewer is None and any(e.role == "reviewer" for e in self.exchanges):
            raise ValueError("reviewer exchanges need a 'reviewer' entry")
        return self


def recording_path(claim_id: str, recordings_dir: Path | None = None) -> Path:
    return (recordings_dir or PACKAGED_RECORDINGS) / f"{claim_id}.json"


def load_recording(path: Path) -> Recording:
    """Read and validate a recording file; InputError with the file name if it is unusable."""
    if not path.is_file():
        raise NotFoundError(f"no recording at {path}")
    size = path.stat().st_size
    if size > MAX_RECORDING_BYTES:
        raise InputError(f"{path}: recording is {size} bytes, more than {MAX_RECORDING_BYTES}")
    try:
        text = path.read_bytes().decode("utf-8")
        return Recording.model_validate_json(text)
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: recording is not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(file)"
        raise InputError(f"{path}: invalid recording at {where}: {first['msg']}") from exc


class ReplayProvider:
    """Serves the replies of one role of a recording, in order."""

    name: ProviderName = "replay"

    def __init__(self, recording: Recording, *, role: Role = "drafter", source: str = "") -> None:
        model = recording.drafter if role == "drafter" else recording.reviewer
        if model is None:
            raise ProviderError(f"recording for {recording.claim_id} has no reviewer")
        self.recording = recording
        self.role: Role = role
        self.family: Family = model.family
        self.model = model.model
        self._source = source or f"recording for {recording.claim_id}"
        self._queue = [e for e in recording.exchanges if e.role == role]
        self._next = 0

    @classmethod
    def for_claim(cls, claim_id: str, recordings_dir: Path | None = None) -> ReplayProvider:
        path = recording_path(claim_id, recordings_dir)
        if not path.is_file():
            raise NotFoundError(
                f"no replay recording for claim '{claim_id}' (looked for {path}); "
                "record one with `sequent draft CLAIM --provider anthropic --record FILE`"
            )
        return cls.from_file(path)

    @classmethod
    def from_file(cls, path: Path) -> ReplayProvider:
        return cls(load_recording(path), source=str(path))

    def reviewer(self) -> ReplayProvider:
        """The recorded reviewer (from the other family), as a provider."""
        return ReplayProvider(self.recording, role="reviewer", source=self._source)

    @property
    def remaining(self) -> int:
        return len(self._queue) - self._next

    def complete(self, prompt: Prompt) -> Completion:
        if self._next >= len(self._queue):
            raise ProviderError(
                f"{self._source}: no more recorded {self.role} replies "
                f"(the loop asked for a '{prompt.kind}' reply)"
            )
        exchange = self._queue[self._next]
        if exchange.kind != prompt.kind:
            raise ProviderError(
                f"{self._source}: {self.role} reply {self._next + 1} answers a "
                f"'{exchange.kind}' prompt but the loop asked for '{prompt.kind}'"
            )
        offered = {t.name for t in prompt.tools} if prompt.tool_choice == "auto" else set()
        for call in exchange.tool_calls:
            if call.name not in offered:
                raise ProviderError(
                    f"{self._source}: {self.role} reply {self._next + 1} calls the tool "
                    f"'{call.name}', which the loop does not offer here "
                    f"(offered: {', '.join(sorted(offered)) or 'none'})"
                )
        self._next += 1
        return exchange.replayed(self.name, self.family, self.model)

    def close(self) -> None:
        pass


class RecordingLog:
    """Wraps live providers and records every exchange, to be saved as a recording."""

    def __init__(self) -> None:
        self.exchanges: list[RecordedExchange] = []
        self.models: dict[Role, RecordedModel] = {}

    def wrap(self, provider: Provider, role: Role) -> RecordingProvider:
        self.models[role] = RecordedModel(family=provider.family, model=provider.model)
        return RecordingProvider(provider, role, self)

    def recording(self, claim_id: str, description: str = "") -> Recording:
        return Recording(
            claim_id=claim_id,
            description=description,
            drafter=self.models["drafter"],
            reviewer=self.models.get("reviewer"),
            exchanges=[
                e for e in self.exchanges if e.role == "drafter" or "reviewer" in self.models
            ],
        )

    def save(self, path: Path, claim_id: str, description: str = "") -> Path:
        data = self.recording(claim_id, description).model_dump(mode="json", exclude_none=True)
        for exchange in data["exchanges"]:
            if not exchange["tool_calls"]:
                del exchange["tool_calls"]
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n",
                            encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write the recording {path}: {exc.strerror}") from exc
        return path


class RecordingProvider:
    """A provider that passes requests through and logs each reply."""

    def __init__(self, inner: Provider, role: Role, log: RecordingLog) -> None:
        self.inner, self.role, self.log = inner, role, log
        self.name: ProviderName = inner.name
        self.family: Family = inner.family
        self.model = inner.model

    def complete(self, prompt: Prompt) -> Completion:
        completion = self.inner.complete(prompt)
        self.log.exchanges.append(RecordedExchange.of(completion, prompt, self.role))
        return completion

    def close(self) -> None:
        self.inner.close()


__all__ = [
    "PACKAGED_RECORDINGS",
    "RecordedExchange",
    "RecordedModel",
    "Recording",
    "RecordingLog",
    "RecordingProvider",
    "ReplayProvider",
    "Role",
    "load_recording",
    "recording_path",
]
