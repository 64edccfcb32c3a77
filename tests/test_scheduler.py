"""End to end: the scheduler process crawls the sample sites, flags, mails a digest, stops cleanly."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mediawatch.siteserver import SiteServer
from models import Article, Delivery, JobRun, Mention, make_engine, read_session
from tests.conftest import ROOT, run_cli, write_config
from tests.test_digest import SmtpServer

pytestmark = pytest.mark.slow


def test_scheduler_crawls_flags_and_mails_then_shuts_down_cleanly(
    tmp_path: Path, sites: SiteServer
) -> None:
    smtp = SmtpServer()
    smtp.start()
    try:
        cfg = write_config(tmp_path, sites.base)
        text = cfg.read_text()
        text = text.replace("port = 8025", f"port = {smtp.port}")
        text = text.replace("[flag]\ninterval_minutes = 15", "[flag]\ninterval_minutes = 0.05")
        text = text.replace('schedule = "0 7 * * *"', 'schedule = "* * * * *"')
        cfg.write_text(text)
        assert run_cli("init", config=cfg).returncode == 0
        engine = make_engine(f"sqlite:///{tmp_path / 'mediawatch.db'}")
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "scheduler.py"), "--config", str(cfg)],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            deadline = time.time() + 150
            while time.time() < deadline:
                with read_session(engine) as s:
                    if s.scalar(select(func.count()).select_from(Delivery)):
                        break
                time.sleep(1)
            # Only one scheduler per database.
            second = run_cli("run", config=cfg, timeout=60)
            assert second.returncode == 1 and "already running" in second.stderr
        finally:
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, out[-3000:]
        with read_session(engine) as s:
            assert s.scalar(select(func.count()).select_from(Article)) >= 10
            assert s.scalar(select(func.count()).select_from(Mention)) > 0
            jobs = set(s.scalars(select(JobRun.job)))
            assert "flag" in jobs and "crawl:vesti" in jobs and "digest:analyst@example.org" in jobs
            assert (
                s.scalar(select(func.count()).select_from(JobRun).where(JobRun.status == "running"))
                == 0
            )
        rcpts = [r[0] for r, _ in smtp.inbox.messages]
        assert rcpts.count("analyst@example.org") == 1
        assert "scheduler stopped" in out
        # One line when each crawl starts and one when it ends, with what it brought.
        assert "crawl started" in out and "outlet=vesti" in out
        ended = [ln for ln in out.splitlines() if "crawl ended" in ln and "outlet=vesti" in ln]
        assert ended and "status=ok" in ended[0] and "new=2" in ended[0]
        assert "Traceback" not in out
    finally:
        smtp.stop()
