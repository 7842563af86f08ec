"""Rasa's stores with less work per message (sql.py) and safe across replicas
(redis_lock.py). Loading the package also applies remote_action.py, so that every
Rasa server using these stores (endpoints.yml) checks action replies faster."""

from stores import remote_action  # noqa: F401
