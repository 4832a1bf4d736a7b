"""Pydantic mapper and orjson transcoder for the event store.

eventsourcing 9.5.6 ships no pydantic support; this mapper stores each event as plain JSON
(``{"timestamp": "…", "field": …}``) so DuckDB can read bodies directly, and runs the
``upcast_vN_vN+1`` chain itself because the library's upcasting lives in the default mapper.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent, Transcoder
from eventsourcing.utils import get_topic, resolve_topic
from pydantic import BaseModel

from events.errors import CipherKeyError

__all__ = [
    "OrjsonTranscoder",
    "PydanticMapper",
]


class OrjsonTranscoder(Transcoder):
    """Encode and decode event bodies as compact JSON with orjson."""

    def encode(self, obj: Any) -> bytes:
        """Encode ``obj`` as JSON bytes."""
        return orjson.dumps(obj)

    def decode(self, data: bytes) -> Any:
        """Decode JSON bytes."""
        return orjson.loads(data)


class PydanticMapper(Mapper[UUID]):
    """Map pydantic domain events to stored events and back, with upcasting."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        """Serialise a domain event (without its id and version, which are columns)."""
        event: BaseModel = domain_event
        state = event.model_dump(mode="json", exclude={"originator_id", "originator_version"})
        class_version = getattr(type(event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        data = self.transcoder.encode(state)
        if self.compressor:
            data = self.compressor.compress(data)
        if self.cipher:
            data = self.cipher.encrypt(data)
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=get_topic(type(event)),
            state=data,
        )

    def decode_state(self, stored: StoredEvent) -> dict[str, Any]:
        """Decrypt, decompress and decode a stored body, then upcast it to the current class."""
        data = stored.state
        try:
            if self.cipher:
                data = self.cipher.decrypt(data)
            if self.compressor:
                data = self.compressor.decompress(data)
        except Exception as exc:
            msg = "event body could not be decrypted: the cipher key does not match this log"
            raise CipherKeyError(msg, hint="check SYNAPSE_HOME/cipher.key") from exc
        state: dict[str, Any] = self.transcoder.decode(data)
        cls = resolve_topic(stored.topic)
        class_version = getattr(cls, "class_version", 1)
        from_version = state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        return state

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        """Rebuild the pydantic domain event from a stored event."""
        cls = resolve_topic(stored_event.topic)
        state = self.decode_state(stored_event)
        try:
            return cls(
                originator_id=stored_event.originator_id,
                originator_version=stored_event.originator_version,
                **state,
            )
        except Exception as exc:
            msg = f"stored event {stored_event.topic} v{stored_event.originator_version} is invalid"
            raise MapperDeserialisationError(msg) from exc
