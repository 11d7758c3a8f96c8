"""Upload a large file through the app to each blob backend: the server's peak memory growth and its throughput.

    python -m bench.uploads [--size-mb 1024]

The app runs as its own server process (werkzeug, threaded) on 127.0.0.1, so its memory is measured alone;
for the S3 backend, moto's S3 server runs in another process (it keeps objects in memory, which must not be
counted as the app's). The client streams a multipart body from disk over HTTP. Goals (issue 3): peak resident
memory growth of the server < 64 MB, and throughput ≥ 0.5 × copying the same file on the same disk (measured in
the same run, so machine noise hits both).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from web.core import migrate
from web.core.config import from_environment
from web.core.security import hash_password
from workflow import audit, operations
from workflow.accounts import Organisation, User
from workflow.db import db

PASSWORD = "bench-password-2026"
CHUNK = 1024 * 1024
BOUNDARY = "emc-bench-boundary-7d1f"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def status_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(field + ":"))


def prepare(workdir: Path) -> tuple[str, int]:
    """A migrated SQLite database with one applicant and one draft; returns (database URL, application id)."""
    url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    db.configure(url)
    audit.configure(from_environment()["AUDIT_KEYS"])
    migrate.upgrade(url)
    with db.transaction() as session:
        operations.seed_programmes(session)
        org = Organisation(uscc="91110108551385082Q", name="基准测试单位", kind="enterprise", district="闵行区")
        session.add(org)
        session.flush()
        user = User(username="bench", role="applicant", organisation_id=org.id, password_hash=hash_password(PASSWORD))
        session.add(user)
        session.flush()
        user_id = user.id
    app = operations.create_application(user_id, "emc-acceptance", "enterprise", "上传基准", {})
    db.engine.dispose()  # type: ignore[union-attr]
    return url, app.id


def make_file(path: Path, size_mb: int) -> None:
    """A 'PDF' (the magic bytes the type check wants), then incompressible bytes."""
    block = os.urandom(CHUNK)
    with path.open("wb") as out:
        out.write(b"%PDF-1.7\n")
        for i in range(size_mb):
            out.write(block[i % 7 :] + block[: i % 7])  # vary the blocks a little


def start_server(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    code = (
        "from werkzeug.serving import run_simple; from web.app import create_app; "
        f"run_simple('127.0.0.1', {port}, create_app(), threaded=True)"
    )
    return subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def token(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", "/api/v1/auth/token", json.dumps({"username": "bench", "password": PASSWORD}),
                 {"Content-Type": "application/json"})  # fmt: skip
    body = json.loads(conn.getresponse().read())
    return str(body["token"])


def upload(port: int, bearer: str, application_id: int, path: Path) -> tuple[int, dict[str, object], float]:
    """Stream a multipart body from disk; returns (status, JSON body, seconds)."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="category"\r\n\r\nequipment_list\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="设备清单.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    length = len(head) + path.stat().st_size + len(tail)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    conn.putrequest("POST", f"/api/v1/applications/{application_id}/attachments")
    conn.putheader("Authorization", f"Bearer {bearer}")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
    conn.putheader("Content-Length", str(length))
    conn.endheaders()
    conn.send(head)
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            conn.send(chunk)
    conn.send(tail)
    response = conn.getresponse()
    body = json.loads(response.read() or b"{}")
    return response.status, body, time.perf_counter() - started


def copy_seconds(source: Path, target: Path) -> float:
    started = time.perf_counter()
    shutil.copyfile(source, target)
    with target.open("rb+") as fh:
        os.fsync(fh.fileno())  # the local backend fsyncs its blob; the baseline does the same
    seconds = time.perf_counter() - started
    target.unlink()
    return seconds


def measure(backend: str, workdir: Path, url: str, application_id: int, source: Path) -> dict[str, float | int]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "EMC_INSTANCE": str(workdir / "instance"), "SECRET_KEY": "bench",
           "MAX_UPLOAD_BYTES": str(4 * 1024**3)}  # fmt: skip
    env.pop("CELERY_BROKER_URL", None)
    moto = None
    if backend == "s3":
        moto_port = free_port()
        moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        wait_for(moto_port)
        env["STORAGE_URL"] = f"s3://benchkey:benchsecret@127.0.0.1:{moto_port}/emc-bench"
    else:
        env["STORAGE_URL"] = f"file://{workdir / 'blobs'}"
    server = start_server(port, env)
    try:
        wait_for(port)
        bearer = token(port)
        # Warm up: the first request imports and connects; then reset the peak so only the upload counts.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", "/api/v1/programmes", headers={"Authorization": f"Bearer {bearer}"})
        conn.getresponse().read()
        baseline = status_kib(server.pid, "VmRSS")
        Path(f"/proc/{server.pid}/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        status, body, seconds = upload(port, bearer, application_id, source)
        peak = status_kib(server.pid, "VmHWM")
        if status != 201:
            raise RuntimeError(f"upload to {backend} answered {status}: {body}")
        return {"seconds": seconds, "growth_kib": peak - baseline, "size": int(body["size"])}  # type: ignore[call-overload]
    finally:
        server.terminate()
        server.wait(10)
        if moto is not None:
            moto.terminate()
            moto.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="emc-bench-uploads-", dir=os.environ.get("BENCH_DIR")) as tmp:
        workdir = Path(tmp)
        url, application_id = prepare(workdir)
        source = workdir / "upload.pdf"
        make_file(source, args.size_mb)
        size_mb = source.stat().st_size / 1024**2
        print(f"EMC upload benchmark: {size_mb:,.0f} MiB file, Python {sys.version.split()[0]}, "
              f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}")  # fmt: skip
        print(f"  {'backend':<10} {'upload s':>9} {'copy s':>8} {'MiB/s':>8} {'× copy':>8} {'peak RSS growth':>16}")
        for backend in ("file", "s3"):
            copy = copy_seconds(source, workdir / "copy.bin")  # the baseline, in the same run, next to each upload
            result = measure(backend, workdir, url, application_id, source)
            ratio = copy / float(result["seconds"])
            growth_mib = float(result["growth_kib"]) / 1024
            print(f"  {backend:<10} {result['seconds']:>9.2f} {copy:>8.2f} {size_mb / float(result['seconds']):>8.1f}"
                  f" {ratio:>7.2f}× {growth_mib:>13.1f} MiB"
                  f"   goals: ≥ 0.5× {'met' if ratio >= 0.5 else 'MISSED'}, < 64 MiB "
                  f"{'met' if growth_mib < 64 else 'MISSED'}")  # fmt: skip


if __name__ == "__main__":
    main()
