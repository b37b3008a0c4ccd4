"""Calls to Alexa's own APIs (reminders, device settings), always with timeouts.

Alexa gives a skill 8 seconds to answer. ask-sdk's ``DefaultApiClient`` calls ``requests``
with no timeout, so a slow API would make the person hear nothing at all; this client
bounds every call. Errors are turned into :class:`AlexaApiError` with a ``kind`` the
handlers can speak about calmly ("permission", "busy", "failed").
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ask_sdk_core.exceptions import ApiClientException
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model.services import ApiClient, ApiClientRequest, ApiClientResponse
from ask_sdk_model.services.reminder_management import (
    AlertInfo,
    PushNotification,
    PushNotificationStatus,
    Recurrence,
    ReminderRequest,
    SpokenInfo,
    SpokenText,
    Trigger,
    TriggerType,
)
from ask_sdk_model.services.service_exception import ServiceException

log = logging.getLogger(__name__)
# urllib3 logs every URL at DEBUG, and Alexa's URLs carry device ids
# (/v2/devices/<deviceId>/settings/...). Logs must never hold them, whatever the level.
logging.getLogger("urllib3").setLevel(logging.WARNING)

#: (connect, read) seconds: two calls must fit comfortably inside Alexa's 8 s.
DEFAULT_TIMEOUT = (2.0, 2.5)
REMINDER_SCOPE = "alexa::alerts:reminders:skill:readwrite"


class AlexaApiError(Exception):
    """An Alexa API call failed; ``kind`` is what the person is told about."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


class TimedApiClient(ApiClient):
    """ask-sdk's API client contract over a ``requests`` session with timeouts.

    ``verify`` is ``True`` (the system's trusted CAs) in production; tests pass the path of
    a CA bundle for their local HTTPS server standing in for Alexa.
    """

    def __init__(self, timeout=DEFAULT_TIMEOUT, verify: bool | str = True) -> None:
        self.timeout = timeout
        self.verify = verify
        self._session = None

    @property
    def session(self):
        """Created on the first call: importing requests costs a cold start ~65 ms, and
        most requests (every exercise) never call Alexa's APIs."""
        if self._session is None:
            import requests

            self._session = requests.Session()
        return self._session

    def invoke(self, request: ApiClientRequest) -> ApiClientResponse:
        import requests

        if not (request.url or "").startswith("https://"):
            raise ApiClientException("Requests against non-HTTPS endpoints are not allowed.")
        headers: dict[str, str] = {}
        for name, value in request.headers or []:
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        data = request.body
        if data is not None and "json" in headers.get("Content-type", ""):
            data = json.dumps(data)
        try:
            reply = self.session.request(
                request.method,
                request.url,
                headers=headers,
                data=data,
                timeout=self.timeout,
                verify=self.verify,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise ApiClientException(f"request failed: {type(exc).__name__}") from exc
        return ApiClientResponse(
            headers=list(reply.headers.items()),
            status_code=reply.status_code,
            body=reply.text,
        )


def _error(exc: Exception) -> AlexaApiError:
    """Map an SDK failure to what the person should hear about."""
    status = getattr(exc, "status_code", None)
    if status in (401, 403):
        return AlexaApiError("permission", f"HTTP {status}")
    if status == 429:
        return AlexaApiError("busy", "HTTP 429")
    if status is not None:
        return AlexaApiError("failed", f"HTTP {status}")
    return AlexaApiError("failed", type(exc).__name__)


def has_reminder_permission(handler_input: HandlerInput) -> bool:
    """Whether the person has granted reminders (a consent token, or the scope GRANTED)."""
    user = handler_input.request_envelope.context.system.user
    permissions = getattr(user, "permissions", None)
    if permissions is None:
        return False
    scopes = getattr(permissions, "scopes", None) or {}
    scope = scopes.get(REMINDER_SCOPE)
    status = getattr(getattr(scope, "status", None), "value", None)
    if status is not None:
        return status == "GRANTED"
    return bool(getattr(permissions, "consent_token", None))


def device_time_zone(handler_input: HandlerInput, fallback: str) -> str:
    """The device's time zone from the Alexa Settings API, or ``fallback`` if unreadable.

    A reminder must always name a time zone, so a failure here falls back rather than
    failing the whole request.
    """
    device = handler_input.request_envelope.context.system.device
    device_id = getattr(device, "device_id", None)
    if not device_id:
        return fallback
    try:
        ups = handler_input.service_client_factory.get_ups_service()
        zone = ups.get_system_time_zone(device_id)
        ZoneInfo(zone)
        return zone
    except (ServiceException, ApiClientException, ValueError, ZoneInfoNotFoundError,
            TypeError) as exc:
        log.info("device time zone unavailable (%s); using %s", type(exc).__name__, fallback)
        return fallback


def daily_rule(hour: int, minute: int) -> str:
    """The RFC 5545 rule for "every day at hour:minute"."""
    return f"FREQ=DAILY;BYHOUR={hour};BYMINUTE={minute};BYSECOND=0;INTERVAL=1"


def reminder_request(hour: int, minute: int, zone: str, text: str, locale: str,
                     now: datetime | None = None) -> ReminderRequest:
    """A daily recurring reminder starting at the next occurrence in ``zone``."""
    local_now = (now or datetime.now(ZoneInfo(zone))).astimezone(ZoneInfo(zone))
    start = local_now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if start <= local_now:
        start += timedelta(days=1)
    return ReminderRequest(
        request_time=local_now.replace(tzinfo=None, microsecond=0),
        trigger=Trigger(
            object_type=TriggerType.SCHEDULED_ABSOLUTE,
            time_zone_id=zone,
            recurrence=Recurrence(
                start_date_time=start.replace(tzinfo=None),
                recurrence_rules=[daily_rule(hour, minute)],
            ),
        ),
        alert_info=AlertInfo(spoken_info=SpokenInfo(content=[SpokenText(locale=locale,
                                                                         text=text)])),
        push_notification=PushNotification(status=PushNotificationStatus.ENABLED),
    )


def create_reminder(handler_input: HandlerInput, request: ReminderRequest) -> str:
    """Create the reminder; returns Alexa's alert token."""
    try:
        client = handler_input.service_client_factory.get_reminder_management_service()
        response = client.create_reminder(request)
    except (ServiceException, ApiClientException) as exc:
        raise _error(exc) from exc
    token = getattr(response, "alert_token", None)
    if not token:
        raise AlexaApiError("failed", "no alert token in the response")
    return token


def update_reminder(handler_input: HandlerInput, token: str, request: ReminderRequest
                    ) -> str | None:
    """Move an existing reminder in place (never a second one); ``None`` if it is gone
    (the person deleted it in the Alexa app), so the caller creates a new one."""
    try:
        client = handler_input.service_client_factory.get_reminder_management_service()
        response = client.update_reminder(token, request)
    except (ServiceException, ApiClientException) as exc:
        if getattr(exc, "status_code", None) == 404:
            return None
        raise _error(exc) from exc
    return getattr(response, "alert_token", None) or token


def delete_reminder(handler_input: HandlerInput, token: str) -> None:
    """Delete a reminder; one that is already gone (404) counts as deleted."""
    try:
        client = handler_input.service_client_factory.get_reminder_management_service()
        client.delete_reminder(token)
    except (ServiceException, ApiClientException) as exc:
        if getattr(exc, "status_code", None) == 404:
            return
        raise _error(exc) from exc
