"""/docs and /redoc work with no internet: every asset the pages name is served by luodi itself."""

from __future__ import annotations

import asyncio
import re
import socket
from urllib.parse import urlsplit

import httpx
import pytest
from serve_fakes import fake_pipeline

from luodi.serve.app import create_app
from luodi.serve.settings import ServeSettings

pytestmark = pytest.mark.usefixtures("no_api_keys")

_ASSET_REFS = re.compile(r'(?:src|href)="([^"]+)"')


def _asset_urls(html: str) -> list[str]:
    return _ASSET_REFS.findall(html)


def _raw_get(url: str, target: str) -> tuple[int, bytes]:
    """GET with the request target sent byte for byte (httpx would collapse ``..`` segments first)."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    response = b"".join(chunks)
    status = int(response.split(b" ", 2)[1])
    return status, response.partition(b"\r\n\r\n")[2]


def test_swagger_page_names_only_local_assets_and_they_are_served(serve):
    srv = serve()
    page = httpx.get(srv.url + "/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "SwaggerUIBundle" in html and "url: '/openapi.json'" in html
    assert "http://" not in html and "https://" not in html  # no CDN, no fonts, no favicon from the web
    assert '"validatorUrl": null' in html  # no badge calling validator.swagger.io with our spec's address
    urls = _asset_urls(html)
    assert sorted(urls) == [
        "/docs/assets/favicon.png",
        "/docs/assets/swagger-ui-bundle.js",
        "/docs/assets/swagger-ui.css",
    ]
    kinds = {}
    for url in urls:
        r = httpx.get(srv.url + url)
        assert r.status_code == 200, url
        kinds[url.rsplit(".", 1)[1]] = r
    assert "javascript" in kinds["js"].headers["content-type"]
    assert kinds["css"].headers["content-type"].startswith("text/css")
    assert kinds["png"].headers["content-type"] == "image/png" and kinds["png"].content.startswith(b"\x89PNG")
    # Swagger UI 5 or later: FastAPI emits OpenAPI 3.1, which 4.x cannot render
    version = re.search(rb'PACKAGE_VERSION:"(\d+)\.(\d+)\.(\d+)"', kinds["js"].content)
    assert version is not None and int(version[1]) >= 5
    assert b".swagger-ui" in kinds["css"].content[:2000]


def test_redoc_page_is_local_too(serve):
    srv = serve()
    page = httpx.get(srv.url + "/redoc")
    assert page.status_code == 200
    assert "http://" not in page.text and "https://" not in page.text  # google fonts off as well
    assert 'spec-url="/openapi.json"' in page.text
    urls = _asset_urls(page.text)
    assert sorted(urls) == ["/docs/assets/favicon.png", "/docs/assets/redoc.standalone.js"]
    js = httpx.get(srv.url + "/docs/assets/redoc.standalone.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"] and b"Redoc" in js.content[:1000]


def test_docs_pages_follow_a_proxy_root_path(tmp_path):
    # behind a proxy at /ocr-api (uvicorn --root-path), the pages must name /ocr-api/... URLs;
    # the pages need no models, so the ASGI app is called without its lifespan
    app = create_app(ServeSettings(home=tmp_path / "home"), pipeline_factory=lambda s: fake_pipeline(s.core))

    async def fetch() -> tuple[str, str, list[int]]:
        transport = httpx.ASGITransport(app=app, root_path="/ocr-api")
        async with httpx.AsyncClient(transport=transport, base_url="http://luodi") as client:
            docs = (await client.get("/docs")).text
            redoc = (await client.get("/redoc")).text
            codes = [(await client.get(url.removeprefix("/ocr-api"))).status_code for url in _asset_urls(docs + redoc)]
        return docs, redoc, codes

    try:
        docs, redoc, codes = asyncio.run(fetch())
    finally:
        app.state.luodi.gate.shutdown()
    assert "url: '/ocr-api/openapi.json'" in docs and 'spec-url="/ocr-api/openapi.json"' in redoc
    assert set(_asset_urls(docs + redoc)) == {
        "/ocr-api/docs/assets/favicon.png",
        "/ocr-api/docs/assets/swagger-ui-bundle.js",
        "/ocr-api/docs/assets/swagger-ui.css",
        "/ocr-api/docs/assets/redoc.standalone.js",
    }
    assert codes == [200] * 5


@pytest.mark.parametrize(
    "target",
    [
        "/docs/assets/../core.py",  # the wheel's own code, one folder up
        "/docs/assets/%2e%2e/core.py",
        "/docs/assets/..%2fcore.py",
        "/docs/assets/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/docs/assets/../../../../../../../../../etc/passwd",
        "/docs/assets//etc/passwd",
        "/docs/assets/%2fetc%2fpasswd",
        "/docs/assets/",
    ],
)
def test_asset_route_stays_inside_its_folder(serve, target):
    srv = serve()
    status, body = _raw_get(srv.url, target)
    assert status in (400, 404), (target, status)
    assert b"FastAPIOffline" not in body and b"root:" not in body
    assert httpx.get(srv.url + "/healthz").status_code == 200


def test_docs_and_assets_are_public_like_the_schema(serve, monkeypatch):
    monkeypatch.setenv("LUODI_API_KEYS", "k1")
    srv = serve()
    assert httpx.get(srv.url + "/v1/models").status_code == 401  # keys are on
    for path in (
        "/openapi.json",
        "/docs",
        "/redoc",
        "/docs/assets/swagger-ui-bundle.js",
        "/docs/assets/swagger-ui.css",
    ):
        assert httpx.get(srv.url + path).status_code == 200, path
    assert httpx.post(srv.url + "/docs/assets/swagger-ui.css").status_code == 405  # read-only


def test_assets_share_one_metrics_label(serve):
    srv = serve()
    for name in ("swagger-ui.css", "favicon.png", "no-such-file.js"):
        httpx.get(srv.url + "/docs/assets/" + name)
    httpx.get(srv.url + "/docs")
    text = httpx.get(srv.url + "/metrics").text
    assert 'luodi_requests_total{method="GET",route="/docs/assets/{name}",status="200"} 2.0' in text
    assert 'luodi_requests_total{method="GET",route="/docs/assets/{name}",status="404"} 1.0' in text
    assert 'luodi_requests_total{method="GET",route="/docs",status="200"} 1.0' in text
    assert "favicon" not in text and "swagger-ui.css" not in text


def test_openapi_schema_is_unchanged_by_the_docs_routes(serve):
    validator = pytest.importorskip("openapi_spec_validator")
    srv = serve()
    spec = httpx.get(srv.url + "/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    assert not [p for p in spec["paths"] if p.startswith(("/docs", "/redoc"))]
    validator.validate(spec)


def test_job_body_documents_every_task_and_its_option(serve):
    """The job form is hand-declared (the route reads multipart itself): it must name the text and
    inspection tasks and their ``model`` field, or clients generated from the schema cannot send them."""
    spec = httpx.get(serve().url + "/openapi.json").json()
    form = spec["paths"]["/v1/jobs"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["properties"]["task"]["enum"] == ["ocr", "extract", "text", "inspect"]
    assert {"schema", "model", "webhook", "file", "files"} <= set(form["properties"])
