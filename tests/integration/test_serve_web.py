"""The web page on `kass serve` (kass.serve.web): web/'s files at their paths with the frontend
module's security headers, a local config.json, and the gateway's 403 for everything else."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from test_serve import FORBIDDEN, serving
from typer.testing import CliRunner

from kass.cli import app as cli_app
from kass.serve import web
from kass.serve.app import create_app
from kass.serve.functions import LocalFunctions
from kass.serve.web import default_web_dir, web_routes

pytestmark = pytest.mark.timeout(60)

REPO_WEB = default_web_dir()
LOCAL_CONFIG = {"apiUrl": "", "streamUrl": "/stream", "apiKey": None}


@pytest.fixture()
def page_dir(tmp_path) -> Path:
    """A web dir with the files the routes must serve and the ones they must not."""
    (tmp_path / "index.html").write_text("<!doctype html><title>t</title>")
    (tmp_path / "app.js").write_text("export {};")
    (tmp_path / "icons").mkdir()
    (tmp_path / "icons" / "logo.svg").write_text("<svg/>")
    (tmp_path / "config.json").write_text('{"apiUrl": "https://x", "apiKey": "deployed-key"}')
    (tmp_path / ".env").write_text("SECRET=1")
    (tmp_path / "notes.md").write_text("not a web asset")
    (tmp_path / "odd name.js").write_text("export {};")
    return tmp_path


def client_for(web_dir: Path | None) -> Iterator[httpx.Client]:
    app = create_app(LocalFunctions({}), routes=(), extra_routes=web_routes(web_dir))
    with serving(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        yield http


@pytest.fixture()
def client(page_dir) -> Iterator[httpx.Client]:
    yield from client_for(page_dir)


@pytest.fixture()
def repo_client() -> Iterator[httpx.Client]:
    yield from client_for(None)


def test_given_the_page_when_root_is_requested_then_index_html_with_the_frontend_headers(client):
    response = client.get("/")

    assert response.status_code == 200
    assert response.text == "<!doctype html><title>t</title>"
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    policy = response.headers["content-security-policy"]
    host = client.base_url.netloc.decode()
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert f"connect-src 'self' ws://{host};" in policy
    assert "frame-ancestors 'none'" in policy and "upgrade-insecure-requests" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"


def test_given_assets_when_requested_then_each_at_its_path_with_its_content_type(client):
    script = client.get("/app.js")
    icon = client.get("/icons/logo.svg")
    head = client.head("/app.js")

    assert (script.status_code, script.text) == (200, "export {};")
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert icon.headers["content-type"] == "image/svg+xml"
    assert head.status_code == 200


def test_given_a_deployed_config_in_the_dir_when_config_json_is_requested_then_the_local_one(
    client,
):
    response = client.get("/config.json")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == LOCAL_CONFIG  # relative URLs, and never the deployed key


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/missing.js"),
        ("GET", "/.env"),
        ("GET", "/notes.md"),
        ("GET", "/odd%20name.js"),
        ("GET", "/icons/../.env"),
        ("POST", "/"),
        ("PUT", "/app.js"),
    ],
)
def test_given_anything_else_when_requested_then_the_gateways_403(client, method, path):
    response = client.request(method, path)

    assert response.status_code == 403
    assert response.json() == FORBIDDEN


def test_given_a_forged_host_header_when_served_then_it_adds_no_policy_directive(client):
    response = client.get("/", headers={"host": "evil; script-src *"})

    assert "connect-src 'self';" in response.headers["content-security-policy"]
    assert "evil" not in response.headers["content-security-policy"]


def test_given_a_dir_without_index_html_when_routed_then_value_error(tmp_path):
    with pytest.raises(ValueError, match="index.html does not exist"):
        web_routes(tmp_path)


def test_given_no_web_dir_in_the_installation_when_routed_then_no_routes(tmp_path, monkeypatch):
    monkeypatch.setattr(web, "default_web_dir", lambda: tmp_path / "absent")

    assert web_routes() == []


def test_given_kass_serve_web_dir_without_a_page_when_serving_then_one_line_error(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("KASS_HOME", str(tmp_path))
    monkeypatch.setenv("KASS_SERVE_WEB_DIR", str(tmp_path / "nothing"))

    result = CliRunner().invoke(cli_app, ["serve", "--port", "0"])

    assert result.exit_code == 2
    assert "KASS_SERVE_WEB_DIR: no web page:" in result.output
    assert len(result.output.strip().splitlines()) == 1


# -- the repository's page ------------------------------------------------------------------
def test_given_the_repository_page_when_served_then_every_file_it_loads_answers(repo_client):
    index = repo_client.get("/").text
    loaded = re.findall(r'(?:src|href)="([^":]+)"', index)
    modules = [p.name for p in REPO_WEB.glob("*.js")]

    assert "style.css" in loaded and "app.js" in loaded
    for path in [*loaded, *modules]:
        assert repo_client.get(f"/{path}").status_code == 200, path
    assert repo_client.get("/config.json").json() == LOCAL_CONFIG


def test_given_the_repository_page_then_it_names_no_other_origin_and_stays_small():
    files = [p for p in REPO_WEB.rglob("*") if p.is_file()]
    text = "".join(p.read_text("utf-8") for p in files)

    assert not re.findall(r"(?:https?|wss?):/{2}", text), "no third-party origin, no CDN"
    assert sum(p.stat().st_size for p in files) < 100_000
