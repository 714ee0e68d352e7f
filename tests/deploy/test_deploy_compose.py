"""The compose stack: parses, every referenced file exists, services are wired, healthy and locked down."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_support import DEPLOY, REPO

COMPOSE = DEPLOY / "compose.yaml"
ONE_SHOT = {"jobs-volume-init", "minio-init", "models-push"}
LUODI_SERVICES = ("luodi", "worker")


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))  # resolves anchors, << merges
    return loaded


def services() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose()["services"]
    return found


def dockerfile_env() -> dict[str, str]:
    """ENV of the Dockerfile's last stage (the image compose runs)."""
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    last_stage = text.split("\nFROM ")[-1]
    env: dict[str, str] = {}
    for line in last_stage.splitlines():
        if line.startswith("ENV "):
            env.update(dict(re.findall(r"(\w+)=(\S+)", line)))
    return env


def test_compose_has_the_stack() -> None:
    names = set(services())
    assert {"luodi", "worker", "nginx", "redis", "minio", "minio-init", "prometheus", "grafana"} <= names
    assert services()["luodi"]["deploy"]["replicas"] >= 2
    assert services()["worker"]["deploy"]["replicas"] >= 1


@pytest.mark.parametrize("name", sorted(yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]))
def test_service_restart_and_healthcheck(name: str) -> None:
    svc = services()[name]
    if name in ONE_SHOT:
        assert svc["restart"] == "no"
        return
    assert svc["restart"] == "unless-stopped"
    assert svc["healthcheck"]["test"][0] == "CMD"
    assert not svc["healthcheck"].get("disable")


def test_depends_on_refers_to_services_with_what_the_condition_needs() -> None:
    all_services = services()
    for name, svc in all_services.items():
        for dep, cond in svc.get("depends_on", {}).items():
            assert dep in all_services, f"{name} depends on unknown {dep}"
            condition = cond["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in all_services[dep], f"{name} waits for {dep} to be healthy, it has no check"
            elif condition == "service_completed_successfully":
                assert dep in ONE_SHOT
            else:
                assert condition == "service_started"


def test_bind_mounts_and_build_files_exist() -> None:
    data = compose()
    for name, svc in data["services"].items():
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in data["volumes"], f"{name} uses undeclared volume {source}"
        if "build" in svc:
            context = (DEPLOY / svc["build"]["context"]).resolve()
            assert context == REPO
            assert (context / svc["build"]["dockerfile"]).is_file()
    for secret in data["secrets"].values():
        assert (DEPLOY / secret["file"]).is_file()


def test_every_service_on_the_luodi_image_can_build_it() -> None:
    """Compose would try to pull an image that no service builds; `luodi:*` is never on a registry."""
    for name, svc in services().items():
        if "luodi:" in svc.get("image", ""):
            assert "build" in svc, name


@pytest.mark.parametrize("name", LUODI_SERVICES)
def test_luodi_containers_run_read_only_with_the_writable_paths_mounted(name: str) -> None:
    svc = services()[name]
    assert svc["read_only"] is True
    assert any(t.split(":")[0] == "/tmp" for t in svc["tmpfs"])
    jobs_dir = dockerfile_env()["LUODI_SERVE_JOBS__DIR"]
    assert f"jobs:{jobs_dir}" in svc["volumes"]
    assert svc["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in svc["security_opt"]
    assert svc["environment"]["LUODI_SERVE_JOBS__BACKEND"] == "redis"


def test_luodi_environment_is_accepted_by_the_service_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from luodi.serve.settings import load_serve_settings

    env = {**dockerfile_env(), **services()["worker"]["environment"]}
    env.pop("PATH")
    for key, value in env.items():
        monkeypatch.setenv(key, str(value))
    settings = load_serve_settings()
    assert settings.host == "0.0.0.0"
    assert settings.jobs.redis_url == "redis://redis:6379/0"
    assert settings.jobs.embedded_worker is False
    assert settings.keys_file == Path("/run/secrets/luodi_api_keys")
    assert "luodi_api_keys" in services()["luodi"]["secrets"]


def test_example_keys_file_parses() -> None:
    from luodi.serve.auth import hash_key, parse_keys_file

    path = DEPLOY / compose()["secrets"]["luodi_api_keys"]["file"]
    assert path.read_text(encoding="utf-8").startswith("# EXAMPLE ONLY")
    assert parse_keys_file(path) == {hash_key("luodi-example-key-CHANGE-ME")}


def test_nginx_balances_over_the_replicas() -> None:
    conf = (DEPLOY / "nginx" / "nginx.conf").read_text(encoding="utf-8")
    assert conf.count("{") == conf.count("}")
    server = re.search(r"upstream luodi \{[^}]*server (\S+):(\d+) resolve", conf)
    assert server is not None
    assert server.group(1) in services()
    assert int(server.group(2)) == int(dockerfile_env()["LUODI_SERVE_PORT"])
    port = re.search(r"listen (\d+);", conf)
    assert port is not None
    assert f"{port.group(1)}:{port.group(1)}" in services()["nginx"]["ports"]
    assert "location = /metrics" in conf  # metrics not exposed through the load balancer


def test_prometheus_discovers_every_replica() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "luodi"]
    (sd,) = job["dns_sd_configs"]
    assert sd["names"] == ["luodi"]
    assert sd["type"] == "A"  # one target per replica address, not one per service
    assert sd["port"] == int(dockerfile_env()["LUODI_SERVE_PORT"])
    prom = services()["prometheus"]
    assert set(prom["networks"]) >= set(services()["luodi"]["networks"])


def test_backend_network_is_internal() -> None:
    data = compose()
    assert data["networks"]["backend"]["internal"] is True
    for name in ("luodi", "worker", "redis"):
        assert data["services"][name]["networks"] == ["backend"], name
        assert "ports" not in data["services"][name]


def test_models_push_publishes_where_the_k8s_init_container_pulls() -> None:
    from deploy_support import find_object

    push = services()["models-push"]["command"]
    assert push[:2] == ["models", "push"]
    config = find_object("ConfigMap", "luodi")["data"]
    assert push[2] == config["LUODI_MODEL"]
    assert push[3] == config["LUODI_MODELS_S3_URL"]
    bucket = push[3].removeprefix("s3://").split("/")[0]
    script = (DEPLOY / "minio" / "minio-init.sh").read_text(encoding="utf-8")
    assert f"local/{bucket}" in script


def test_minio_init_script_parses_and_creates_the_buckets() -> None:
    import subprocess

    script = DEPLOY / "minio" / "minio-init.sh"
    assert subprocess.run(["sh", "-n", str(script)], capture_output=True, timeout=10, check=False).returncode == 0
    assert "mc mb --ignore-existing local/luodi-models local/luodi-artifacts" in script.read_text(encoding="utf-8")


def test_redis_wants_the_password_luodi_reads(tmp_path: Path) -> None:
    """One secret: Redis's config file (requirepass) is what every luodi container reads the password from."""
    from luodi.serve.settings import JobSettings

    redis, env = services()["redis"], services()["worker"]["environment"]
    conf = "/run/secrets/redis_conf"
    assert redis["command"][:2] == ["redis-server", conf]  # the config file first, as redis-server wants
    assert "redis_conf" in redis["secrets"] and env["LUODI_SERVE_JOBS__REDIS_PASSWORD_FILE"] == conf
    for name in ("luodi", "worker"):
        assert "redis_conf" in services()[name]["secrets"]
    example = DEPLOY / compose()["secrets"]["redis_conf"]["file"]
    assert JobSettings(redis_password_file=example).redis_auth() == "luodi-example-redis-password-CHANGE-ME"
    assert "CHANGE-ME" in example.read_text(encoding="utf-8")
