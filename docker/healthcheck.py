"""Container healthcheck: GET /healthz with a Host header the app accepts (the first of ALLOWED_HOSTS)."""

import os
import sys
import urllib.request

host = os.environ.get("ALLOWED_HOSTS", "localhost").split(",")[0].strip().lstrip(".") or "localhost"
# The proxy terminates TLS; say so, or a BEHIND_TLS_PROXY deployment would treat the probe as plain http.
url = os.environ.get("HEALTHCHECK_URL", "http://127.0.0.1:8000/healthz")
request = urllib.request.Request(url, headers={"Host": host, "X-Forwarded-Proto": "https"})  # noqa: S310 (deployer sets the URL)
try:
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        sys.exit(0 if response.status == 200 else 1)
except OSError as error:
    print(f"healthz failed: {error}", file=sys.stderr)
    sys.exit(1)
