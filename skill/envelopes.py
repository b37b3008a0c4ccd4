"""Request envelopes shaped exactly as Alexa sends them, for trying the skill without an Echo.

Used by ``breathing-room chat``, the tests' conversation helper and the benchmarks, so all of
them exercise the same JSON that a real device produces (session, context.System,
entity-resolution blocks on slots).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

DEV_SKILL_ID = "amzn1.ask.skill.00000000-0000-0000-0000-000000000000"


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _slot(name: str, value: str | None, slot_id: str | None, skill_id: str) -> dict:
    slot: dict = {"name": name, "confirmationStatus": "NONE"}
    if value is None:
        return slot
    slot["value"] = value
    if slot_id is not None:
        status = "ER_SUCCESS_MATCH"
        values = [{"value": {"name": value, "id": slot_id}}]
    else:
        status, values = "ER_SUCCESS_NO_MATCH", []
    slot["resolutions"] = {
        "resolutionsPerAuthority": [
            {
                "authority": f"amzn1.er-authority.echo-sdk.{skill_id}.{name}",
                "status": {"code": status},
                **({"values": values} if values else {}),
            }
        ]
    }
    return slot


class Conversation:
    """Builds the envelopes of one person's conversation and threads the session.

    Call :meth:`absorb` with each response so the next request carries the session
    attributes the skill set, as Alexa does; a response that ends the session starts a new
    session on the next request.
    """

    def __init__(
        self,
        user_id: str | None = None,
        *,
        locale: str = "en-US",
        skill_id: str = DEV_SKILL_ID,
        device_id: str | None = None,
        api_endpoint: str = "https://api.amazonalexa.com",
        api_access_token: str = "dev-token",
    ) -> None:
        self.user_id = user_id or f"amzn1.ask.account.{uuid.uuid4().hex.upper()}"
        self.device_id = device_id or f"amzn1.ask.device.{uuid.uuid4().hex.upper()}"
        self.locale = locale
        self.skill_id = skill_id
        self.api_endpoint = api_endpoint
        self.api_access_token = api_access_token
        #: Granted permission scopes, e.g. {"alexa::alerts:reminders:skill:readwrite"}.
        self.granted: set[str] = set()
        self.session_id: str | None = None
        self.attributes: dict = {}
        self.ended = True

    def _user(self) -> dict:
        user: dict = {"userId": self.user_id}
        if self.granted:
            user["permissions"] = {
                "consentToken": self.api_access_token,
                "scopes": {scope: {"status": "GRANTED"} for scope in sorted(self.granted)},
            }
        return user

    def _system(self) -> dict:
        return {
            "application": {"applicationId": self.skill_id},
            "user": self._user(),
            "device": {"deviceId": self.device_id, "supportedInterfaces": {}},
            "apiEndpoint": self.api_endpoint,
            "apiAccessToken": self.api_access_token,
        }

    def envelope(self, request: dict, *, with_session: bool = True) -> dict:
        """Wrap ``request`` (type-specific fields) in a full envelope."""
        request = {
            "requestId": f"amzn1.echo-api.request.{uuid.uuid4()}",
            "timestamp": now_iso(),
            "locale": self.locale,
            **request,
        }
        envelope: dict = {"version": "1.0", "context": {"System": self._system()}}
        if with_session:
            new = self.ended or self.session_id is None
            if new:
                self.session_id = f"amzn1.echo-api.session.{uuid.uuid4()}"
                self.attributes = {}
            envelope["session"] = {
                "new": new,
                "sessionId": self.session_id,
                "application": {"applicationId": self.skill_id},
                "user": self._user(),
                "attributes": self.attributes,
            }
            self.ended = False
        envelope["request"] = request
        return envelope

    def launch(self) -> dict:
        self.ended = True
        return self.envelope({"type": "LaunchRequest"})

    def intent(self, name: str, slots: dict | None = None, *, new_session: bool = False) -> dict:
        """An IntentRequest; ``slots`` maps slot name -> value or (value, id)."""
        if new_session:
            self.ended = True
        built = {}
        for slot_name, given in (slots or {}).items():
            value, slot_id = given if isinstance(given, tuple) else (given, None)
            built[slot_name] = _slot(slot_name, value, slot_id, self.skill_id)
        return self.envelope(
            {
                "type": "IntentRequest",
                "dialogState": "COMPLETED",
                "intent": {"name": name, "confirmationStatus": "NONE", "slots": built},
            }
        )

    def session_ended(self, reason: str = "USER_INITIATED", error: dict | None = None) -> dict:
        request = {"type": "SessionEndedRequest", "reason": reason}
        if error:
            request["error"] = error
        envelope = self.envelope(request)
        self.ended = True
        return envelope

    def skill_event(self, event: str, body: dict | None = None) -> dict:
        """An ``AlexaSkillEvent.*`` request: no session, no device, as Alexa sends them."""
        request: dict = {"type": f"AlexaSkillEvent.{event}",
                         "eventCreationTime": now_iso(), "eventPublishingTime": now_iso()}
        if body is not None:
            request["body"] = body
        envelope = self.envelope(request, with_session=False)
        del envelope["context"]["System"]["device"]
        return envelope

    def permission_answer(self, status: str, token: str = "breathing-room-reminder") -> dict:
        """The Connections.Response that answers an AskFor permission request."""
        return self.envelope({
            "type": "Connections.Response",
            "name": "AskFor",
            "status": {"code": "200", "message": "OK"},
            "token": token,
            "payload": {"permissionScope": "alexa::alerts:reminders:skill:readwrite",
                        "status": status},
        })

    def absorb(self, response: dict) -> None:
        """Carry the session forward from a response envelope."""
        self.attributes = response.get("sessionAttributes") or {}
        body = response.get("response") or {}
        if body.get("shouldEndSession", True) is not False:
            # Alexa closes the session unless the skill asked a question.
            self.ended = True
