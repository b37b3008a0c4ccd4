"""The skill: ONE ordered list of handlers, interceptors, and the catch-all.

The first handler whose ``can_handle`` is true wins, so order is part of the design:
safety first, then starting practices, then controls (which check for a running practice),
then the general intents, then requests that must not speak, then the catch-all.
"""

from __future__ import annotations

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.skill import CustomSkill
from ask_sdk_core.skill_builder import CustomSkillBuilder

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
from .interceptors import RequestLogger, SaveRecord
from .lifecycle import (
    CatchAllExceptionHandler,
    ExceptionEncounteredHandler,
    FallbackHandler,
    HelpHandler,
    LaterHandler,
    LaunchHandler,
    NavigateHomeHandler,
    SessionEndedHandler,
    StopHandler,
    UnknownRequestHandler,
)
from .safety import CrisisHandler
from .support import Runtime

HANDLERS: tuple[type[Handler], ...] = (
    CrisisHandler,
    LaunchHandler,
    BreathingHandler,
    GroundingHandler,
    SelfCompassionHandler,
    ReflectionHandler,
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
    LaterHandler,
    SessionEndedHandler,
    ExceptionEncounteredHandler,
    UnknownRequestHandler,
)


def handled_intents() -> set[str]:
    return {name for handler in HANDLERS for name in handler.intents}


def build_skill(
    runtime: Runtime, persistence: AbstractPersistenceAdapter | None = None
) -> CustomSkill:
    builder = CustomSkillBuilder(persistence_adapter=persistence)
    for handler in HANDLERS:
        builder.add_request_handler(handler(runtime))
    builder.add_exception_handler(CatchAllExceptionHandler(runtime))
    builder.add_global_request_interceptor(RequestLogger())
    builder.add_global_response_interceptor(SaveRecord())
    return builder.create()
