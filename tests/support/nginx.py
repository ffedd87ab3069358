"""Debian's nginx in front of a live server, configured with the repository's own location block
(deploy/voxparse-location.conf), as a host without containers would run it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.live import ROOT, free_port, stop_process

LOCATION_CONF = ROOT / "deploy" / "voxparse-location.conf"
PREFIX = "/voxparse"


@dataclass
class Proxy:
    base_url: str
    """Where clients reach the service: the proxy's address and the path prefix."""
    error_log: Path


def _config(folder: Path, listen_port: int, upstream_port: int) -> str:
    temp = {name: folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir(exist_ok=True)
    # As root (CI), the workers must be allowed into pytest's root-only temporary folders.
    user = "user root;" if os.geteuid() == 0 else ""
    return f"""
{user}
worker_processes 1;
error_log {folder / "error.log"} info;
pid {folder / "nginx.pid"};
events {{ worker_connections 256; }}
http {{
    access_log {folder / "access.log"};
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    upstream voxparse_api {{ server 127.0.0.1:{upstream_port}; keepalive 16; keepalive_timeout 4s; }}
    server {{
        listen 127.0.0.1:{listen_port};
        include {LOCATION_CONF};
    }}
}}
"""


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    assert found, "nginx is missing: `make test` installs it (apt-get install nginx)"
    return found


@contextmanager
def nginx_proxy(upstream_port: int, folder: Path, timeout: float = 20) -> Iterator[Proxy]:
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = folder / "nginx.conf"
    conf.write_text(_config(folder, port, upstream_port))
    binary = nginx_binary()
    check = subprocess.run([binary, "-t", "-p", str(folder), "-c", str(conf)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen(
        [binary, "-p", str(folder), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((folder / "error.log").read_text(errors="replace")) from None
                time.sleep(0.1)
        yield Proxy(f"http://127.0.0.1:{port}{PREFIX}", folder / "error.log")
    finally:
        stop_process(process)
