"""The base every request handler shares: the runtime, and the intents it answers.

``intents`` is declared on each class so a test can check, both ways, that every intent in
the interaction model has a handler and every handler's intent is in the model.
"""

from __future__ import annotations

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput

from .support import Runtime


class Handler(AbstractRequestHandler):
    intents: tuple[str, ...] = ()

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def can_handle(self, handler_input: HandlerInput) -> bool:
        # What ask-sdk's is_intent_name checks, read once: every request asks most handlers.
        request = handler_input.request_envelope.request
        if request.object_type != "IntentRequest":
            return False
        return request.intent.name in self.intents
