"""Kubernetes manifests: schema-valid (kubernetes-validate's bundled schemas, strict), wired together,
locked down, and configured with settings the service really reads."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_support import K8S_BASE, K8S_GPU, find_object, k8s_manifest_files, k8s_objects, load_yaml_docs

kubernetes_validate = pytest.importorskip(
    "kubernetes_validate", reason="kubernetes-validate (PyPI, dev extra) bundles the Kubernetes schemas"
)

# The oldest Kubernetes minor still commonly run, and the newest schemas the package bundles.
VERSIONS = ("1.30.0", kubernetes_validate.latest_version())

DOCS = [(path.name, i, doc) for path in k8s_manifest_files() for i, doc in enumerate(load_yaml_docs(path))]


def pod_specs() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{o['kind']}/{o['metadata']['name']}", o["spec"]["template"]["spec"])
        for o in k8s_objects()
        if o["kind"] in {"Deployment", "StatefulSet"}
    ]


def claim_templates() -> set[str]:
    return {
        t["metadata"]["name"]
        for o in k8s_objects()
        if o["kind"] == "StatefulSet"
        for t in o["spec"].get("volumeClaimTemplates", [])
    }


def all_containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*spec.get("initContainers", []), *spec["containers"]]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("name", "index", "doc"), DOCS, ids=[f"{n}#{i}" for n, i, _ in DOCS])
def test_manifest_matches_the_kubernetes_schema(name: str, index: int, doc: dict[str, Any], version: str) -> None:
    kubernetes_validate.validate(doc, version, strict=True)


def test_schema_check_rejects_a_misspelt_field() -> None:
    """Guard: strict validation does fail on what kubectl would refuse."""
    bad = copy.deepcopy(find_object("Deployment", "luodi"))
    bad["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, VERSIONS[-1], strict=True)


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S_BASE / "kustomization.yaml").read_text(encoding="utf-8"))
    assert sorted(kustomization["resources"]) == sorted(p.name for p in k8s_manifest_files())
    assert {i["name"] for i in kustomization["images"]} == {
        c["image"].split(":")[0] for _, s in pod_specs() for c in all_containers(s) if "redis" not in c["image"]
    }


def _merge(base: Any, patch: Any) -> Any:
    """Strategic-merge as kubectl does for what the overlay patches: maps deep, containers by name."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            out[key] = _merge(base[key], value) if key in base else copy.deepcopy(value)
        return out
    if isinstance(base, list) and isinstance(patch, list) and all(isinstance(x, dict) and "name" in x for x in patch):
        out_list = [copy.deepcopy(x) for x in base]
        for item in patch:
            match = [i for i, x in enumerate(out_list) if x.get("name") == item["name"]]
            if match:
                out_list[match[0]] = _merge(out_list[match[0]], item)
            else:
                out_list.append(copy.deepcopy(item))
        return out_list
    return copy.deepcopy(patch)


@pytest.mark.parametrize("version", VERSIONS)
def test_gpu_overlay_patches_existing_objects_and_stays_valid(version: str) -> None:
    kustomization = yaml.safe_load((K8S_GPU / "kustomization.yaml").read_text(encoding="utf-8"))
    assert (K8S_GPU / kustomization["resources"][0] / "kustomization.yaml").resolve() == (
        K8S_BASE / "kustomization.yaml"
    ).resolve()
    for entry in kustomization["patches"]:
        patch = yaml.safe_load((K8S_GPU / entry["path"]).read_text(encoding="utf-8"))
        target = entry["target"]
        assert (patch["kind"], patch["metadata"]["name"]) == (target["kind"], target["name"])
        merged = _merge(find_object(target["kind"], target["name"]), patch)
        kubernetes_validate.validate(merged, version, strict=True)
        if target["kind"] == "Deployment":
            spec = merged["spec"]["template"]["spec"]
            assert spec["nodeSelector"]
            assert spec["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
            assert len(spec["containers"]) == 1, "the patch must merge into the luodi container, not add one"


@pytest.mark.parametrize(("name", "spec"), pod_specs(), ids=[n for n, _ in pod_specs()])
def test_pods_are_locked_down(name: str, spec: dict[str, Any]) -> None:
    pod = spec["securityContext"]
    assert pod["runAsNonRoot"] is True
    assert pod["runAsUser"] != 0
    assert pod["seccompProfile"]["type"] == "RuntimeDefault"
    assert spec["automountServiceAccountToken"] is False
    for c in all_containers(spec):
        sc = c["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True, c["name"]
        assert sc["allowPrivilegeEscalation"] is False, c["name"]
        assert sc["capabilities"]["drop"] == ["ALL"], c["name"]
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(c["resources"][kind]), f"{name}/{c['name']} lacks {kind}"
        declared = {v["name"] for v in spec.get("volumes", [])} | claim_templates()
        for mount in c.get("volumeMounts", []):
            assert mount["name"] in declared, f"{c['name']} mounts undeclared volume {mount['name']}"


def test_image_uid_matches_the_pod_security_context() -> None:
    dockerfile = (K8S_BASE.parents[1] / "Dockerfile").read_text(encoding="utf-8")
    assert "USER 10001:10001" in dockerfile
    for name, spec in pod_specs():
        if name.startswith("Deployment/"):
            assert spec["securityContext"]["runAsUser"] == 10001


def _env(obj: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in obj["data"].items()}


def test_api_deployment_probes_models_and_writable_paths() -> None:
    dep = find_object("Deployment", "luodi")
    spec = dep["spec"]["template"]["spec"]
    (main,) = spec["containers"]
    assert main["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert main["readinessProbe"]["httpGet"]["path"] == "/readyz"
    config = _env(find_object("ConfigMap", "luodi"))
    mounts = {m["mountPath"]: m for m in main["volumeMounts"]}
    # the model store is filled by the init container and read-only for the service
    assert mounts[config["LUODI_HOME"]].get("readOnly") is True
    # job state is the one persistent writable path, shared (RWX) with the workers
    jobs = mounts[config["LUODI_SERVE_JOBS__DIR"]]
    assert not jobs.get("readOnly")
    volumes = {v["name"]: v for v in spec["volumes"]}
    claim = volumes[jobs["name"]]["persistentVolumeClaim"]["claimName"]
    assert find_object("PersistentVolumeClaim", claim)["spec"]["accessModes"] == ["ReadWriteMany"]
    assert "/tmp" in mounts
    keys_dir = str(Path(config["LUODI_SERVE_KEYS_FILE"]).parent)
    assert volumes[mounts[keys_dir]["name"]]["secret"]["secretName"] == "luodi-api-keys"
    key_name = Path(config["LUODI_SERVE_KEYS_FILE"]).name
    assert key_name in find_object("Secret", "luodi-api-keys")["stringData"]


@pytest.mark.parametrize("deployment", ["luodi", "luodi-worker"])
def test_init_container_pulls_the_models_from_s3_into_the_store(deployment: str) -> None:
    spec = find_object("Deployment", deployment)["spec"]["template"]["spec"]
    (init,) = spec["initContainers"]
    assert init["command"][:3] == ["luodi", "models", "pull"]
    assert init["command"][4] == "--from"
    config = _env(find_object("ConfigMap", "luodi"))
    # $(VAR) references resolve from the ConfigMap the init container loads
    for arg in init["command"]:
        if arg.startswith("$("):
            assert arg[2:-1] in config
    assert config["LUODI_MODELS_S3_URL"].startswith("s3://")
    init_mounts = {m["mountPath"]: m["name"] for m in init["volumeMounts"]}
    main_mounts = {m["mountPath"]: m["name"] for m in spec["containers"][0]["volumeMounts"]}
    assert init_mounts[config["LUODI_HOME"]] == main_mounts[config["LUODI_HOME"]]
    assert "emptyDir" in {v["name"]: v for v in spec["volumes"]}[init_mounts[config["LUODI_HOME"]]]
    secret_refs = {e["secretRef"]["name"] for e in init["envFrom"] if "secretRef" in e}
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= set(find_object("Secret", secret_refs.pop())["stringData"])


def test_configmap_is_accepted_by_the_service_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every LUODI_* key is read by luodi's real settings classes (a typo would be silently ignored)."""
    from luodi.config import load_settings
    from luodi.serve.settings import CORE_KEYS, ServeSettings, load_serve_settings

    config = _env(find_object("ConfigMap", "luodi"))
    gpu = yaml.safe_load((K8S_GPU / "gpu-configmap.yaml").read_text(encoding="utf-8"))
    for data in (config, {**config, **_env(gpu)}):
        for key, value in data.items():
            monkeypatch.setenv(key, value)
        settings = load_serve_settings()
        assert str(settings.jobs.dir) == data["LUODI_SERVE_JOBS__DIR"]
        assert settings.jobs.backend == "redis"
        assert settings.jobs.embedded_worker is False
        assert settings.concurrency == int(data["LUODI_SERVE_CONCURRENCY"])
        assert settings.core.threads == int(data["LUODI_SERVE_THREADS"])
        assert settings.core.model == data["LUODI_MODEL"]
        assert str(load_settings().home) == data["LUODI_HOME"] == str(settings.core.home)
    serve_fields = set(ServeSettings.model_fields) | set(CORE_KEYS)
    known_other = {"LUODI_MODEL", "LUODI_HOME", "LUODI_MODELS_S3_URL", "LUODI_S3_ENDPOINT_URL", "AWS_DEFAULT_REGION"}
    for key in config:
        if key.startswith("LUODI_SERVE_"):
            assert key[len("LUODI_SERVE_") :].split("__")[0].lower() in serve_fields, key
        else:
            assert key in known_other, key
    assert "batching" in serve_fields


def test_selectors_match_pod_labels() -> None:
    templates = {
        o["metadata"]["name"]: o["spec"]["template"]["metadata"]["labels"]
        for o in k8s_objects()
        if o["kind"] in {"Deployment", "StatefulSet"}
    }

    def selects(selector: dict[str, str]) -> list[str]:
        return [n for n, labels in templates.items() if selector.items() <= labels.items()]

    for obj in k8s_objects():
        kind, spec = obj["kind"], obj.get("spec", {})
        if kind in {"Deployment", "StatefulSet"}:
            assert selects(spec["selector"]["matchLabels"]) == [obj["metadata"]["name"]]
        elif kind == "Service":
            assert selects(spec["selector"]), obj["metadata"]["name"]
        elif kind == "PodDisruptionBudget":
            assert len(selects(spec["selector"]["matchLabels"])) == 1
        elif kind == "NetworkPolicy" and spec["podSelector"]:
            assert selects(spec["podSelector"]["matchLabels"]), obj["metadata"]["name"]
    hpa = find_object("HorizontalPodAutoscaler", "luodi")
    assert find_object(hpa["spec"]["scaleTargetRef"]["kind"], hpa["spec"]["scaleTargetRef"]["name"])
    assert hpa["spec"]["minReplicas"] >= 2
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"


def test_service_routes_to_the_api_port() -> None:
    svc = find_object("Service", "luodi")
    (main,) = find_object("Deployment", "luodi")["spec"]["template"]["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in main["ports"]}
    assert svc["spec"]["ports"][0]["targetPort"] in ports
    assert ports["http"] == 8000


def test_network_policy_denies_by_default_and_opens_only_what_is_needed() -> None:
    deny = find_object("NetworkPolicy", "default-deny")
    assert deny["spec"]["podSelector"] == {}
    assert set(deny["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    api = find_object("NetworkPolicy", "luodi-api")
    assert [p["port"] for rule in api["spec"]["ingress"] for p in rule["ports"]] == [8000]
    assert find_object("NetworkPolicy", "luodi-worker")["spec"]["ingress"] == []


def test_example_secrets_are_marked_as_examples() -> None:
    text = (K8S_BASE / "secret.example.yaml").read_text(encoding="utf-8")
    assert text.startswith("# EXAMPLE VALUES ONLY")
    for doc in load_yaml_docs(K8S_BASE / "secret.example.yaml"):
        assert doc["metadata"]["labels"]["luodi.io/example"] == "true"


def test_example_api_key_hash_is_what_the_service_parses(tmp_path: Path) -> None:
    from luodi.serve.auth import hash_key, parse_keys_file

    keys = tmp_path / "api-keys.txt"
    keys.write_text(find_object("Secret", "luodi-api-keys")["stringData"]["api-keys.txt"], encoding="utf-8")
    assert parse_keys_file(keys) == {hash_key("luodi-example-key-CHANGE-ME")}


def test_redis_and_luodi_share_one_password_secret() -> None:

    conf_path = Path(find_object("ConfigMap", "luodi")["data"]["LUODI_SERVE_JOBS__REDIS_PASSWORD_FILE"])
    for name, spec in pod_specs():
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for c in spec["containers"]:
            mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
            if name.startswith("StatefulSet/redis"):
                conf = Path(c["args"][1])
                assert c["args"][0] == "redis-server"
            else:
                conf = conf_path
            mount = mounts[str(conf.parent)]
            assert volumes[mount["name"]]["secret"]["secretName"] == "luodi-redis", name
    secret = find_object("Secret", "luodi-redis")["stringData"]
    assert set(secret) == {conf_path.name}
    assert "requirepass " in secret[conf_path.name]


def test_redis_accepts_only_luodi_pods() -> None:
    policy = find_object("NetworkPolicy", "redis")
    sources = [peer for rule in policy["spec"]["ingress"] for peer in rule["from"]]
    assert sources and all(set(p) == {"podSelector"} for p in sources)  # no namespace or ipBlock peers
    assert {p["podSelector"]["matchLabels"]["app.kubernetes.io/component"] for p in sources} == {"api", "worker"}


# --- Redis over TLS ------------------------------------------------------------------------------
REDIS_TLS_SECRET = "luodi-redis-tls"


def redis_container() -> tuple[dict[str, Any], dict[str, Any]]:
    spec = find_object("StatefulSet", "redis")["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    return spec, container


def redis_flags(args: list[str]) -> dict[str, list[str]]:
    """``redis-server CONF --flag value…`` as {flag: values}."""
    flags: dict[str, list[str]] = {}
    for word in args[2:]:
        if word.startswith("--"):
            flags[word] = current = []
        else:
            current.append(word)
    return flags


def test_redis_serves_tls_only_and_luodi_checks_it_against_the_ca() -> None:
    spec, redis = redis_container()
    flags = redis_flags(redis["args"])
    port = find_object("Service", "redis")["spec"]["ports"][0]["port"]
    assert flags["--port"] == ["0"] and flags["--tls-port"] == [str(port)]  # no plain-TCP port at all
    mounts = {m["mountPath"]: m["name"] for m in redis["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    files = {flag: Path(flags[flag][0]) for flag in ("--tls-cert-file", "--tls-key-file", "--tls-ca-cert-file")}
    for path in files.values():
        assert volumes[mounts[str(path.parent)]]["secret"]["secretName"] == REDIS_TLS_SECRET
    assert {p.name for p in files.values()} == {"tls.crt", "tls.key", "ca.crt"}
    for probe in ("readinessProbe", "livenessProbe"):
        assert f"redis-cli --tls --cacert {files['--tls-ca-cert-file']} " in redis[probe]["exec"]["command"][-1]

    from urllib.parse import urlsplit

    config = find_object("ConfigMap", "luodi")["data"]
    url = urlsplit(config["LUODI_SERVE_JOBS__REDIS_URL"])
    assert (url.scheme, url.hostname, url.port) == ("rediss", "redis", port)
    ca = Path(config["LUODI_SERVE_JOBS__REDIS_TLS_CA_FILE"])
    for name, pod in pod_specs():
        if name.startswith("StatefulSet/redis"):
            continue
        (main,) = pod["containers"]
        mount = {m["mountPath"]: m for m in main["volumeMounts"]}[str(ca.parent)]
        secret = {v["name"]: v for v in pod["volumes"]}[mount["name"]]["secret"]
        # the CA alone: a luodi pod never holds Redis's private key
        assert secret["secretName"] == REDIS_TLS_SECRET and secret["items"] == [{"key": "ca.crt", "path": ca.name}]


def test_redis_as_deployed_speaks_tls_to_luodi_and_its_probes(tmp_path: Path) -> None:
    """The manifest's own redis-server arguments and probes, and luodi's settings from the ConfigMap,
    against a real redis-server with a certificate from deploy/k8s/redis-tls.sh (paths moved into tmp)."""
    import os
    import shutil
    import socket
    import subprocess
    import sys
    import time

    import redis as redis_py

    from luodi.serve.queue import redis_pool
    from luodi.serve.settings import JobSettings

    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if server is None or cli is None or shutil.which("openssl") is None:
        pytest.skip("redis-server, redis-cli and openssl are needed")
    script = K8S_BASE.parent / "redis-tls.sh"
    subprocess.run(["sh", str(script), str(tmp_path / "tls"), "redis", "localhost"], check=True, capture_output=True)
    assert not (tmp_path / "tls" / "tls.key").stat().st_mode & 0o077  # the key is the owner's alone
    conf = tmp_path / "redis.conf"
    conf.write_text(find_object("Secret", "luodi-redis")["stringData"]["redis.conf"], encoding="utf-8")
    (tmp_path / "data").mkdir()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    def local(text: str) -> str:
        return (
            text.replace("/etc/redis-tls/", f"{tmp_path}/tls/")
            .replace("/etc/redis/redis.conf", str(conf))
            .replace("/etc/luodi/redis-tls/", f"{tmp_path}/tls/")
            .replace("/etc/luodi/redis/redis.conf", str(conf))
        )

    _, container = redis_container()
    args = [local(a) for a in container["args"][1:]]
    args[args.index("--tls-port") + 1] = str(port)
    args[args.index("/data")] = str(tmp_path / "data")
    log = tmp_path / "redis.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([server, *args, "--bind", "127.0.0.1"], stdout=out, stderr=subprocess.STDOUT)
    try:
        probe = local(container["readinessProbe"]["exec"]["command"][-1]).replace("redis-cli ", f"redis-cli -p {port} ")
        for _ in range(100):
            if subprocess.run(["sh", "-c", probe], capture_output=True, timeout=10, check=False).returncode == 0:
                break
            assert proc.poll() is None, log.read_text(encoding="utf-8", errors="replace")
            time.sleep(0.1)
        else:
            pytest.fail("the readiness probe never passed")

        config = {k: local(v) for k, v in find_object("ConfigMap", "luodi")["data"].items()}
        url = config["LUODI_SERVE_JOBS__REDIS_URL"].replace("//redis:6379", f"//localhost:{port}")
        settings = JobSettings(
            backend="redis",
            redis_url=url,
            redis_password_file=Path(config["LUODI_SERVE_JOBS__REDIS_PASSWORD_FILE"]),
            redis_tls_ca_file=Path(config["LUODI_SERVE_JOBS__REDIS_TLS_CA_FILE"]),
        )
        client = redis_py.Redis(connection_pool=redis_pool(settings, socket_timeout=5))
        assert client.ping() and client.set("k", "v") and client.get("k") == b"v"
        with pytest.raises(redis_py.ConnectionError):  # plain TCP is not served
            redis_py.Redis.from_url(f"redis://localhost:{port}/0", socket_timeout=3).ping()
        other = JobSettings(backend="redis", redis_url=url, redis_password_file=settings.redis_password_file)
        with pytest.raises(redis_py.ConnectionError):  # the system's CAs do not vouch for this certificate
            redis_py.Redis(connection_pool=redis_pool(other, socket_timeout=3)).ping()

        # the worker's liveness probe, with the ConfigMap's environment
        worker = find_object("Deployment", "luodi-worker")["spec"]["template"]["spec"]["containers"][0]
        code = worker["livenessProbe"]["exec"]["command"][-1].replace("/var/lib/luodi/jobs", str(tmp_path))
        env = {
            **os.environ,
            **config,
            "LUODI_SERVE_JOBS__REDIS_URL": url,
            "LUODI_SERVE_JOBS__DIR": str(tmp_path),
            "LUODI_SERVE_KEYS_FILE": str(conf),
            "LUODI_HOME": str(tmp_path),
            "PYTHONPATH": str(K8S_BASE.parents[2] / "src"),
        }
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stderr[-2000:]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
