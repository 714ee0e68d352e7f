"""Helpers for the review tests: a private PostgreSQL server (Debian's package) and test images."""

from __future__ import annotations

import glob
import io
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
# what every browser test launches Chromium with: no sandbox (root in CI), no network of its own
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def postgres_bin() -> Path | None:
    """The folder of Debian's postgresql binaries (``/usr/lib/postgresql/<v>/bin``), newest first."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), reverse=True)
    if found:
        return Path(found[0]).parent
    which = shutil.which("postgres")
    return Path(which).resolve().parent if which else None


@dataclass
class Postgres:
    proc: subprocess.Popen[bytes]
    port: int
    data: Path
    log: io.BufferedWriter

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()
        shutil.rmtree(self.data.parent, ignore_errors=True)


def start_postgres(workdir: Path) -> Postgres:
    """initdb + postgres on a free loopback port, trust auth, fsync on; as user postgres when we are root
    (the server refuses to run as root)."""
    binaries = postgres_bin()
    if binaries is None:
        raise FileNotFoundError("postgres")
    # the cluster lives in a folder of its own right under the temp root: the postgres user must be
    # able to reach it, and pytest's own tree is 0700 (and re-made so by every other pytest session)
    own = Path(tempfile.mkdtemp(prefix="luodi-pg-"))
    data = own / "pgdata"
    sockets = own / "sock"
    sockets.mkdir()
    prefix: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        for path in (own, sockets):
            os.chown(path, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*prefix, str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    log = open(workdir / "postgres.log", "wb")  # noqa: SIM115 - the server writes to it until stopped
    proc = subprocess.Popen(
        [*prefix, str(binaries / "postgres"), "-D", str(data), "-p", str(port), "-h", "127.0.0.1", "-k", str(sockets)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.close()
            raise RuntimeError(f"postgres exited: {(workdir / 'postgres.log').read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                pass
            import psycopg

            with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres", connect_timeout=2):
                return Postgres(proc, port, data, log)
        except Exception:
            time.sleep(0.1)
    proc.kill()
    log.close()
    raise RuntimeError("postgres did not start in 30 s")


def png(width: int = 120, height: int = 32, text: str = "", color: str = "white") -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), color)
    if text:
        ImageDraw.Draw(image).text((4, 4), text, fill="black")
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def waybill_png(values: dict[str, str]) -> bytes:
    """A small labelled page (CJK font from Debian's fonts-wqy) with one value per line."""
    from PIL import Image, ImageDraw, ImageFont

    fonts = sorted(glob.glob("/usr/share/fonts/truetype/wqy/*.ttc"))
    font = ImageFont.truetype(fonts[0], 26) if fonts else ImageFont.load_default()
    image = Image.new("RGB", (760, 60 + 55 * len(values)), "white")
    draw = ImageDraw.Draw(image)
    for row, (label, value) in enumerate(values.items()):
        draw.text((30, 30 + 55 * row), f"{label}：{value}", fill="black", font=font)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()
