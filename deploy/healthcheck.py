"""The image's HEALTHCHECK: exits 0 when this container's server answers.

deploy/docker-entrypoint writes the server's health URL to /tmp/health-url
(Rasa's /, the action server's /health, the demo page); no URL, no server: unhealthy.
"""

import sys
import urllib.request
from pathlib import Path

try:
    url = Path("/tmp/health-url").read_text().strip()
    with urllib.request.urlopen(url, timeout=4) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception as error:  # not up (yet), or no server in this container
    print(f"unhealthy: {error}")
    sys.exit(1)
