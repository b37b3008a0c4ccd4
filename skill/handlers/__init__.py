"""The skill: ONE ordered list of handlers, interceptors, and the catch-all.

The first handler whose ``can_handle`` is true wins, so order is part of the design:
safety first (crisis, dizziness), then events that carry no session (skill events, the
answer to a permission question), then starting practices and the features around them,
then controls (which check for a running practice), then the general intents, then
requests that must not speak, then the catch-all.
"""

from __future__ import annotations

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.skill import CustomSkill
from ask_sdk_core.skill_builder import CustomSkillBuilder
from ask_sdk_model.services import ApiClient

from ..alexa_api import TimedApiClient
from .base import Handler
from .controls import (
    NextHandler,
    NoHandler,
    PaceHandler,
    PauseHandler,
    RepeatHandler,
    ResumeHandler,
    StartOverHandler,
    YesHandler,
)
from .exercises import (
    BreathingHandler,
    GroundingHandler,
    ReflectionHandler,
    SelfCompassionHandler,
)
from .feedback import FeedbackHandler, PatternsHandler
from .interceptors import RequestLogger, SaveRecord
from .lifecycle import (
    CatchAllExceptionHandler,
    ExceptionEncounteredHandler,
    FallbackHandler,
    HelpHandler,
    LaunchHandler,
    NavigateHomeHandler,
    SessionEndedHandler,
    StopHandler,
    UnknownRequestHandler,
)
from .privacy import ForgetMeHandler, SkillDisabledHandler, SkillPermissionHandler
from .reminders import CancelReminderHandler, PermissionAnswerHandler, ReminderHandler
from .safety import CrisisHandler, DizzyHandler
from .support import Runtime

HANDLERS: tuple[type[Handler], ...] = (
    CrisisHandler,
    DizzyHandler,
    SkillDisabledHandler,
    SkillPermissionHandler,
    PermissionAnswerHandler,
    LaunchHandler,
    BreathingHandler,
    GroundingHandler,
    SelfCompassionHandler,
    ReflectionHandler,
    FeedbackHandler,
    PatternsHandler,
    ReminderHandler,
    CancelReminderHandler,
    ForgetMeHandler,
    PauseHandler,
    ResumeHandler,
    NextHandler,
    RepeatHandler,
    StartOverHandler,
    PaceHandler,
    YesHandler,
    NoHandler,
    HelpHandler,
    StopHandler,
    NavigateHomeHandler,
    FallbackHandler,
    SessionEndedHandler,
    ExceptionEncounteredHandler,
    UnknownRequestHandler,
)


def handled_intents() -> set[str]:
    return {name for handler in HANDLERS for name in handler.intents}


def build_skill(
    runtime: Runtime,
    persistence: AbstractPersistenceAdapter | None = None,
    api_client: ApiClient | None = None,
    skill_id: str | None = None,
) -> CustomSkill:
    builder = CustomSkillBuilder(persistence_adapter=persistence,
                                 api_client=api_client or TimedApiClient())
    builder.skill_id = skill_id  # when set, the SDK refuses other skills' requests (Lambda)
    for handler in HANDLERS:
        builder.add_request_handler(handler(runtime))
    builder.add_exception_handler(CatchAllExceptionHandler(runtime))
    builder.add_global_request_interceptor(RequestLogger())
    builder.add_global_response_interceptor(SaveRecord())
    return builder.create()
