"""Extensions of the action server (`rasa run actions`), through rasa_sdk's plugin hook.

rasa_sdk imports this package by its name when the action server starts (Rasa SDK
docs, "Sanic Extensions") and calls `init_hooks`; nothing else imports it.
"""

import pluggy

from rasa_sdk_plugins import access, warm_up


def init_hooks(manager: pluggy.PluginManager) -> None:
    manager.register(access)
    manager.register(warm_up)
