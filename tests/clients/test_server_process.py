"""`allotment serve` and `allotment keys create` as processes: the first-start key, keys made
by the CLI, a restart on the same database, and a clean exit on SIGTERM.

(The shared servers of the other tests check the first-start line on both databases; this
runs on SQLite only, since none of it depends on the database.)"""

from __future__ import annotations

import signal
from pathlib import Path

import httpx

from tests.clients.conftest import ServerProcess, start_server


def _post(server: ServerProcess, key: str, path: str, body: object) -> httpx.Response:
    return httpx.post(
        f"{server.url}{path}",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=10.0,
    )


def test_first_start_key_cli_keys_restart_and_clean_sigterm_exit(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'allotment.db'}"
    first = start_server("first start", database_url, tmp_path)
    try:
        listed = _post(first, first.first_key, "/v1/features.list", {})
        assert (listed.status_code, listed.json()) == (200, {"list": []})
        refused = _post(first, "am_sk_test_unknown", "/v1/features.list", {})
        assert (refused.status_code, refused.json()["code"]) == (401, "invalid_secret_key")

        secret = first.new_key("cli-org")
        created = _post(
            first,
            secret,
            "/v1/features.create",
            {"feature_id": "f", "name": "F", "type": "metered", "consumable": True},
        )
        assert created.status_code == 200, created.text
        assert _post(first, first.first_key, "/v1/features.list", {}).json() == {"list": []}
        publishable = first.cli_new_key("cli-org", publishable=True)  # the real CLI
        read = _post(first, publishable, "/v1/features.get", {"feature_id": "f"})
        assert (read.status_code, read.json()["id"]) == (200, "f")
        write = _post(first, publishable, "/v1/features.delete", {"feature_id": "f"})
        assert (write.status_code, write.json()["code"]) == (400, "invalid_request")
    finally:
        first_code = first.stop()

    restart_dir = tmp_path / "restart"
    restart_dir.mkdir()
    second = start_server("restart", database_url, restart_dir, first_start=False)
    try:
        assert _post(second, first.first_key, "/v1/features.list", {}).status_code == 200
    finally:
        second_code = second.stop()

    for server in (first, second):
        assert "Traceback" not in server.errors(), server.describe()
    assert (first_code, second_code) == (0, 0), (
        f"`allotment serve` exited with {first_code} and {second_code} on SIGTERM, expected 0 "
        f"(-{signal.SIGTERM.value} means it died of the re-raised signal)\n{first.describe()}"
    )
