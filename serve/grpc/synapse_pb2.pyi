from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Empty(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TaskRequest(_message.Message):
    __slots__ = ("capability", "prompt", "context", "agent", "request_id", "argv", "cwd")
    CAPABILITY_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ARGV_FIELD_NUMBER: _ClassVar[int]
    CWD_FIELD_NUMBER: _ClassVar[int]
    capability: str
    prompt: str
    context: str
    agent: str
    request_id: str
    argv: _containers.RepeatedScalarFieldContainer[str]
    cwd: str
    def __init__(self, capability: _Optional[str] = ..., prompt: _Optional[str] = ..., context: _Optional[str] = ..., agent: _Optional[str] = ..., request_id: _Optional[str] = ..., argv: _Optional[_Iterable[str]] = ..., cwd: _Optional[str] = ...) -> None: ...

class TaskReply(_message.Message):
    __slots__ = ("request_id", "text", "agent", "attempts", "fallback", "degraded", "ok")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    FALLBACK_FIELD_NUMBER: _ClassVar[int]
    DEGRADED_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    text: str
    agent: str
    attempts: int
    fallback: str
    degraded: bool
    ok: bool
    def __init__(self, request_id: _Optional[str] = ..., text: _Optional[str] = ..., agent: _Optional[str] = ..., attempts: _Optional[int] = ..., fallback: _Optional[str] = ..., degraded: _Optional[bool] = ..., ok: _Optional[bool] = ...) -> None: ...

class TaskEvent(_message.Message):
    __slots__ = ("seq", "kind", "text", "is_error", "data_json")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    IS_ERROR_FIELD_NUMBER: _ClassVar[int]
    DATA_JSON_FIELD_NUMBER: _ClassVar[int]
    seq: int
    kind: str
    text: str
    is_error: bool
    data_json: str
    def __init__(self, seq: _Optional[int] = ..., kind: _Optional[str] = ..., text: _Optional[str] = ..., is_error: _Optional[bool] = ..., data_json: _Optional[str] = ...) -> None: ...

class Agent(_message.Message):
    __slots__ = ("name", "backend", "capabilities", "enabled", "breaker", "error_rate", "ewma_latency_ms", "in_flight")
    NAME_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    BREAKER_FIELD_NUMBER: _ClassVar[int]
    ERROR_RATE_FIELD_NUMBER: _ClassVar[int]
    EWMA_LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    name: str
    backend: str
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    enabled: bool
    breaker: str
    error_rate: float
    ewma_latency_ms: float
    in_flight: int
    def __init__(self, name: _Optional[str] = ..., backend: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ..., enabled: _Optional[bool] = ..., breaker: _Optional[str] = ..., error_rate: _Optional[float] = ..., ewma_latency_ms: _Optional[float] = ..., in_flight: _Optional[int] = ...) -> None: ...

class AgentList(_message.Message):
    __slots__ = ("agents",)
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    agents: _containers.RepeatedCompositeFieldContainer[Agent]
    def __init__(self, agents: _Optional[_Iterable[_Union[Agent, _Mapping]]] = ...) -> None: ...
