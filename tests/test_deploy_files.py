"""deploy/compose.yaml, its .env.example and the Dockerfile, checked against the repository: no
container engine runs here, so every name they use must be shown to exist by reading them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.cli import build_parser
from app.config import Settings
from tests.support.live import ROOT

DEPLOY = ROOT / "deploy"
APP_SERVICES = ("migrate", "api", "worker")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DEPLOY / "compose.yaml").read_text()))


def _settings_field(variable: str) -> str:
    assert variable.startswith("VOXPARSE_"), variable
    return variable.removeprefix("VOXPARSE_").lower()


def test_every_service_runs_something_that_exists(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"migrate", "api", "worker", "postgres", "redis", "proxy"}
    parser = build_parser()
    for name in APP_SERVICES:
        service = services[name]
        assert (ROOT / service["build"]["context"].replace("..", ".") / service["build"]["dockerfile"]).is_file()
        command = service["command"]
        assert command[0] == "voxparse"
        parser.parse_args(command[1:])  # exits (fails the test) on an unknown command or option
    assert services["worker"]["command"][1] == "worker"
    assert "--no-migrate" in services["api"]["command"]
    for name in ("api", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for service in services.values():
        for dependency in service.get("depends_on", {}):
            assert dependency in services


def test_volumes_and_mounted_files_exist(compose: dict[str, Any]) -> None:
    named = set(compose["volumes"])
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (DEPLOY / source).is_file(), source
            else:
                assert source in named, source
    worker, api = compose["services"]["worker"], compose["services"]["api"]
    assert "audio:/data/audio" in worker["volumes"]
    assert "audio:/data/audio" in api["volumes"]
    assert api["environment"]["VOXPARSE_AUDIO_STORE_DIR"] == "/data/audio"


def test_the_stateful_services_are_checked_and_kept(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("postgres", "redis", "api"):
        assert services[name]["healthcheck"]["test"], name
    assert "--appendonly" in services["redis"]["command"]
    assert services["redis"]["command"][services["redis"]["command"].index("--appendonly") + 1] == "yes"
    assert any(v.endswith(":/var/lib/postgresql/data") for v in services["postgres"]["volumes"])


def test_every_setting_named_is_a_setting(compose: dict[str, Any]) -> None:
    fields = set(Settings.model_fields)
    named = set(compose["services"]["api"]["environment"])
    example = (DEPLOY / ".env.example").read_text()
    named |= set(re.findall(r"^#?\s*(VOXPARSE_[A-Z0-9_]+)=", example, flags=re.M))
    named.discard("VOXPARSE_HTTP_PORT")  # compose's own (the host port), not the service's
    assert named
    for variable in sorted(named):
        assert _settings_field(variable) in fields, variable
    for variable in ("VOXPARSE_DATABASE_URL", "VOXPARSE_BROKER_URL", "VOXPARSE_TRUSTED_PROXIES", "VOXPARSE_ROOT_PATH"):
        assert variable in compose["services"]["api"]["environment"], variable
    for required in (
        "POSTGRES_PASSWORD",
        "VOXPARSE_STRIPE_SECRET_KEY",
        "VOXPARSE_APEX_BASE_URL",
        "VOXPARSE_LLM_BASE_URL",
    ):
        assert required in example, required


def test_the_proxy_is_the_trusted_one_and_serves_the_root_path(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = compose["services"]["proxy"]
    address = proxy["networks"]["default"]["ipv4_address"]
    environment = compose["services"]["api"]["environment"]
    monkeypatch.setenv("VOXPARSE_TRUSTED_PROXIES", environment["VOXPARSE_TRUSTED_PROXIES"])
    assert Settings().trusted_proxies == [address]
    subnet = compose["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert address.rsplit(".", 1)[0] == subnet.split("/")[0].rsplit(".", 1)[0]
    location = (DEPLOY / "voxparse-location.conf").read_text()
    assert f"location {environment['VOXPARSE_ROOT_PATH']}/ {{" in location
    assert "include /etc/nginx/voxparse-location.conf;" in (DEPLOY / "nginx.conf").read_text()
    # A body limit above the service's own, so that the service answers with its JSON 413.
    limit = re.search(r"client_max_body_size (\d+)m;", location)
    assert limit
    assert int(limit.group(1)) * 1024 * 1024 > Settings().max_upload_bytes + 1024 * 1024


def test_the_image_is_multi_stage_non_root_and_warmed() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM \S+ AS (\w+)$", dockerfile, flags=re.M)
    assert len(stages) >= 2
    final = dockerfile.split(f"AS {stages[-1]}", 1)[1]
    assert "build-essential" not in final
    assert re.search(r"^USER (?!root)\w+", final, flags=re.M)
    assert "RUN voxparse warm" in final
    build_parser().parse_args(["warm"])
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, flags=re.M):
        for path in source.split():
            assert (ROOT / path).exists(), path


def test_deploy_files_hold_no_secrets() -> None:
    for path in (*DEPLOY.iterdir(), ROOT / "Dockerfile"):
        text = Path(path).read_text()
        assert not re.search(r"sk_live_\w{8,}|whsec_\w{8,}|vxp_live_\w{8,}", text), path
