from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.billing import accounts
from app.cli import main
from app.db import migrate, schema_is_current
from app.runtime import Runtime
from tests.support.factories import read_all_rows


def test_keys_and_credit_commands(
    runtime: Runtime, database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOXPARSE_DATABASE_URL", database_url)
    assert main(["keys", "create", "--name", "acme", "--credit-cents", "250"]) == 0
    out = capsys.readouterr().out
    key = re.search(r"API key: (vxp_live_\S+)", out)
    account = re.search(r"account: (\S+)", out)
    assert key
    assert account
    with runtime.db.transaction() as session:
        principal = accounts.authenticate(session, key.group(1))
    assert principal.account_id == account.group(1)

    assert main(["credit", account.group(1), "1000", "--reason", "goodwill"]) == 0
    assert "1250 cents ($12.50)" in capsys.readouterr().out
    assert main(["credit", account.group(1), "-50", "--reason", "correction"]) == 0
    assert "1200 cents" in capsys.readouterr().out

    assert main(["keys", "list"]) == 0
    listing = capsys.readouterr().out
    assert key.group(1)[:15] in listing
    assert key.group(1) not in listing

    prefix = key.group(1)[:15]
    assert main(["keys", "revoke", prefix]) == 0
    capsys.readouterr()
    assert key.group(1).removeprefix("vxp_live_") not in read_all_rows(runtime)

    assert main(["credit", "no-such-account", "5", "--reason", "x"]) == 1
    assert "No account" in capsys.readouterr().err


def test_a_worker_never_migrates_and_refuses_an_old_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scaled-out workers must not race each other through migrations: they check, and say what to do."""
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    monkeypatch.setenv("VOXPARSE_DATABASE_URL", url)
    monkeypatch.setenv("VOXPARSE_BROKER_URL", "redis://127.0.0.1:6379/15")
    assert main(["worker"]) == 2
    assert "voxparse migrate" in capsys.readouterr().out
    assert not schema_is_current(url)
    migrate(url, "0001")
    assert main(["worker"]) == 2
    assert main(["migrate"]) == 0
    assert schema_is_current(url)


@pytest.mark.slow
def test_warm_loads_the_models_and_fills_the_numba_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the image's build step runs."""
    cache = tmp_path / "numba-cache"
    monkeypatch.setenv("VOXPARSE_DATABASE_URL", f"sqlite:///{tmp_path / 'unused.db'}")
    monkeypatch.setenv("VOXPARSE_NUMBA_CACHE_DIR", str(cache))
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    assert main(["warm"]) == 0
    assert f"numba cache in {cache}" in capsys.readouterr().out
    assert cache.is_dir()
