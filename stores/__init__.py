"""Rasa's stores with less work per message (sql.py) and safe across replicas
(redis_lock.py). The tracker store (sql.py) also installs remote_action.py, the
Rasa server's faster client for the action server."""
