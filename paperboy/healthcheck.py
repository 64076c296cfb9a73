"""The container's HEALTHCHECK: `python -m paperboy.healthcheck` asks the running bot's
`GET /healthz` and exits 0 when it answers 200, 1 otherwise (503, refused, timed out).

Standard library only, because the slim image has no curl. The port and host come from
`$PAPERBOY_HEALTH_PORT` (default 8080, as the image sets it) and `$PAPERBOY_HEALTH_HOST`
(an address to listen on such as 0.0.0.0 is asked through the loopback). Prints the first
problem the bot reported, which Docker keeps in `docker inspect`'s health log.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 4.0
_ANY = ("", "0.0.0.0", "::")


def probe_url(env: dict[str, str] | None = None) -> str:
    env = dict(os.environ) if env is None else env
    port = env.get("PAPERBOY_HEALTH_PORT", "").strip() or "8080"
    host = env.get("PAPERBOY_HEALTH_HOST", "").strip()
    host = "127.0.0.1" if host in _ANY else host
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/healthz"


def main() -> int:
    url = probe_url()
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            print(f"healthy ({response.status})")
            return 0
    except urllib.error.HTTPError as exc:
        try:
            problems = json.loads(exc.read() or b"{}").get("problems") or []
        except ValueError:
            problems = []
        print(f"unhealthy ({exc.code}): {problems[0] if problems else exc.reason}")
    except (OSError, TimeoutError) as exc:
        print(f"no answer from {url}: {exc}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
