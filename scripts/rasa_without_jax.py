"""The `rasa` command, without JAX: how the project starts the Rasa server.

    python -m scripts.rasa_without_jax run --model models/assistant.tar.gz ...

TensorFlow 2.12's Lite utilities import JAX when it is installed (TensorFlow requires
it) for a JAX-to-Lite converter that Rasa never calls: 0.5 s of the server's start
(`python -X importtime`). TensorFlow handles JAX's absence (`except ImportError`), so here
it is made absent before anything is imported; every argument goes to Rasa's own CLI.
"""

import sys

if __name__ == "__main__":
    sys.modules["jax"] = None  # `import jax` raises ImportError from here on
    from rasa.__main__ import main

    main()
