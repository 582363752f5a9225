"""Debian's nginx in front of paperboy instances on 127.0.0.1, as docs/deploy.md configures it
(its timeouts and forwarding headers; TLS aside): started in the foreground by its PID, on a
free port, with every file in the test's folder. Not a conftest.py (see app_client.py)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from bench.server import free_port

NGINX = shutil.which("nginx") or next(
    (path for path in ("/usr/sbin/nginx",) if os.access(path, os.X_OK)), None
)


def require_nginx() -> str:
    if NGINX is None:
        pytest.skip("nginx is not installed (apt-get install nginx; .ci/run installs it)")
    return NGINX


# The docs' server block, less TLS; upstream failures (a killed instance) go to the next server.
_CONFIG = """
{user}
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 512; }}
http {{
    log_format with_id '$remote_addr "$request" $status $request_id $upstream_addr';
    access_log {folder}/access.log with_id;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    upstream paperboy {{
{servers}
        keepalive 16;
        keepalive_timeout 4s;
    }}
    server {{
        listen 127.0.0.1:{port};
        client_header_timeout 10s;
        client_body_timeout 10s;
        send_timeout 30s;
        keepalive_timeout 15s;
        client_max_body_size 3m;
        location = /metrics {{ return 404; }}
        location / {{
            proxy_pass http://paperboy;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Request-ID $request_id;
            proxy_connect_timeout 2s;
            proxy_read_timeout 60s;
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 2;
        }}
    }}
}}
"""


@contextmanager
def nginx_in_front(upstreams: Sequence[str], folder: Path) -> Iterator[str]:
    """nginx balancing over `upstreams` ("127.0.0.1:PORT") until the block ends; its base URL."""
    binary = require_nginx()
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    servers = "\n".join(f"        server {up} max_fails=1 fail_timeout=30s;" for up in upstreams)
    user = "user root;" if os.geteuid() == 0 else ""  # workers write temp files in the test's folder
    config = folder / "nginx.conf"
    config.write_text(_CONFIG.format(user=user, folder=folder, servers=servers, port=port))
    with (folder / "nginx.out").open("wb") as out:
        proc = subprocess.Popen(
            [binary, "-c", str(config), "-p", str(folder)], stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(proc, base, folder)
        yield base
    finally:
        proc.terminate()  # SIGTERM: nginx's fast shutdown
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_for(proc: subprocess.Popen[bytes], base: str, folder: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"nginx exited {proc.returncode}: {(folder / 'error.log').read_text()[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    pytest.fail("nginx did not answer /healthz within 30 s")
