"""Wallet benchmark: the certificate PDF, the career view at 1,000,000 credentials, the first load on a phone.

Plain script; prints a Markdown section to stdout (`make bench` collects it).
    .venv/bin/python bench/bench_wallet.py [--pdfs 60] [--credentials 1000000] [--contracts 200]
                                           [--no-postgres] [--no-browser] [--only-browser]
Targets: certificate PDF <= 50 ms each and <= 150 KB; the career view <= 50 ms for a worker with 200
contracts in a wallet database of 1,000,000 credentials (SQLite and PostgreSQL); the wallet's first
load on a phone profile (Chromium, 4x CPU slowdown, slow 3G) <= 3 s to a usable page, <= 300 KB.

The 1,000,000-row databases are generated once with set-based inserts inside the database (SQLite:
a recursive CTE with randomblob; PostgreSQL: generate_series) and reused by later runs:
/tmp/workcred-bench-wallet/wallet.sqlite3 and the schema `bench_wallet` of the PostgreSQL test
database (WORKCRED_TEST_PG_URL). The measured worker's 200 contracts and their career records go
in through the wallet's own store (sealed under the worker's data key), like any received credential.
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402

import schemas  # noqa: E402
from agents import certificate, dataintegrity, verify  # noqa: E402
from agents.keys import Ed25519KeyPair  # noqa: E402
from holder_wallet import career  # noqa: E402
from holder_wallet.models import HeldCredential, Worker  # noqa: E402
from holder_wallet.store import WalletStore  # noqa: E402
from web import db, envelope  # noqa: E402

BENCH_DIR = Path("/tmp/workcred-bench-wallet")
PG_URL = os.environ.get("WORKCRED_TEST_PG_URL", "postgresql://127.0.0.1:5432/test")
PG_SCHEMA = "bench_wallet"
MASTER = envelope.MasterKey(b"\x5b" * 32, "wallet")
TODAY = date(2027, 1, 15)
FILLER_WORKERS = 5_000
NAMES = ("홍길동", "김민지", "이서준", "박지우", "최예린", "정하늘", "강도윤", "윤서아", "임채원", "한결")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def timed(fn: Callable[[], Any], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


# --- 1. certificate PDF ------------------------------------------------------------------------------


def certificate_inputs(n: int) -> list[tuple[dict[str, Any], dict[str, Any], str]]:
    """n different signed certificates (names, projects, links differ: no two pages alike)."""
    issuer = Ed25519KeyPair.from_seed(b"i" * 32)
    out = []
    for i in range(n):
        holder = Ed25519KeyPair.from_seed(i.to_bytes(4, "big") * 8)
        vc = schemas.example("career-certificate" if i % 2 else "career-record")
        vc["id"] = f"urn:uuid:{uuid.UUID(int=i + 1)}"
        vc["issuer"] = issuer.public.did_key
        vc.pop("credentialStatus", None)
        subject = vc["credentialSubject"]
        subject["id"] = holder.public.did_key
        subject["employee"]["name"] = NAMES[i % len(NAMES)]
        subject["project"]["name"] = f"{2020 + i % 7} 서울 데이터 서포터즈 {i}기"
        signed = dataintegrity.sign(vc, issuer, at=datetime(2027, 1, 15, tzinfo=UTC))
        vp = verify.create_presentation([signed], holder, challenge=f"certificate:{i}", domain="https://wallet.workcred.seoul.go.kr")
        receipts = {signed["id"]: {"origin": "registry.workcred.seoul.go.kr/log", "index": 41 + i, "type": "credential",
                                   "salt": "A" * 43, "inclusionProof": ["B" * 43] * 20,
                                   "checkpoint": "registry.workcred.seoul.go.kr/log\n1000000\nAAAA\n\n— registry sig\n"}}  # fmt: skip
        out.append((vp, receipts, f"https://wallet.workcred.seoul.go.kr/p/{uuid.UUID(int=i).hex[:16]}"))
    return out


def bench_pdf(n: int) -> list[tuple[str, str]]:
    inputs = certificate_inputs(n)
    certificate.build_certificate_pdf(*inputs[0][:2], qr_url=inputs[0][2])  # the font file is read once per process
    sizes: list[int] = []
    walls: list[float] = []
    cpus: list[float] = []
    for lang in ("ko", "en"):
        for vp, receipts, url in inputs:
            t0, c0 = time.perf_counter(), time.process_time()
            pdf = certificate.build_certificate_pdf(vp, receipts, qr_url=url, qr_expires="2027-02-14T00:00:00Z", lang=lang)
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
            sizes.append(len(pdf))
    return [
        (f"certificate PDF, {len(walls)} different pages (ko and en), wall time",
         f"median **{ms(statistics.median(walls))}**, p95 {ms(p95(walls))} (target <= 50 ms)"),
        ("same, CPU time of the process", f"median {ms(statistics.median(cpus))}, p95 {ms(p95(cpus))}"),
        ("certificate PDF size (PDF/A-3U, NanumGothic subsets, both attachments)",
         f"median {statistics.median(sizes) / 1024:.1f} KB, largest **{max(sizes) / 1024:.1f} KB** (target <= 150 KB)"),
    ]  # fmt: skip


# --- 2. career view at 1,000,000 credentials ---------------------------------------------------------


def _contract(i: int, holder: str) -> dict[str, Any]:
    vc = schemas.example("labor-contract-part-time")
    vc["id"] = f"urn:uuid:{uuid.UUID(int=10_000 + i)}"
    s = vc["credentialSubject"]
    s["id"] = holder
    start = date(2019, 1, 1) + timedelta(days=14 * i)
    s["contractPeriod"] = {"startDate": start.isoformat(), "endDate": (start + timedelta(days=20 + i % 60)).isoformat()}
    s["project"] = {"id": f"urn:uuid:{uuid.UUID(int=500 + i % 12)}", "name": f"서울 사업 {i % 12}"}
    return vc


def _career_record(contract: dict[str, Any], i: int) -> dict[str, Any]:
    vc = schemas.example("career-record")
    vc["id"] = f"urn:uuid:{uuid.UUID(int=20_000 + i)}"
    s = vc["credentialSubject"]
    s["id"] = contract["credentialSubject"]["id"]
    s["contract"] = contract["id"]
    s["employmentPeriod"] = copy.deepcopy(contract["credentialSubject"]["contractPeriod"])
    s["project"] = copy.deepcopy(contract["credentialSubject"]["project"])
    return vc


def _fill_sqlite(conn: Any, rows: int) -> None:
    conn.execute(text(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :w - 1) "
        "INSERT INTO worker (id, user_handle, wrapped_dek, created_at) "
        "SELECT 'filler-' || i, randomblob(32), randomblob(60), '2026-01-01 00:00:00.000000' FROM n"), {"w": FILLER_WORKERS})  # fmt: skip
    conn.execute(text(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :rows - 1) "
        "INSERT INTO held_credential (worker_id, credential_id, kind, contract_id, start_date, end_date, status, "
        "sealed_credential, sealed_summary, received_at) "
        "SELECT 'filler-' || (i % :w), 'urn:uuid:' || lower(hex(randomblob(16))), "
        "CASE i % 3 WHEN 0 THEN 'contract' WHEN 1 THEN 'career' ELSE 'certificate' END, NULL, "
        "date('2019-01-01', '+' || (i % 2500) || ' days'), date('2019-03-01', '+' || (i % 2500) || ' days'), "
        "'completed', randomblob(1500), randomblob(220), '2026-01-01 00:00:00.000000' FROM n"),
        {"rows": rows, "w": FILLER_WORKERS})  # fmt: skip


def _fill_postgres(conn: Any, rows: int) -> None:
    conn.execute(text(
        "INSERT INTO worker (id, user_handle, wrapped_dek, created_at) "
        "SELECT 'filler-' || i, decode(md5(i::text) || md5('h' || i), 'hex'), decode(md5('k' || i), 'hex'), "
        "'2026-01-01Z' FROM generate_series(0, :w - 1) AS i"), {"w": FILLER_WORKERS})  # fmt: skip
    # 1,500 and 220 bytes of md5 output per row: not random, but as large as sealed values
    conn.execute(text(
        "INSERT INTO held_credential (worker_id, credential_id, kind, contract_id, start_date, end_date, status, "
        "sealed_credential, sealed_summary, received_at) "
        "SELECT 'filler-' || (i % :w), 'urn:uuid:' || md5(i::text), "
        "(ARRAY['contract', 'career', 'certificate'])[i % 3 + 1], NULL, "
        "date '2019-01-01' + (i % 2500), date '2019-03-01' + (i % 2500), 'completed', "
        "substring(decode(repeat(md5(i::text) || md5('x' || i::text), 24), 'hex') from 1 for 1500), "
        "substring(decode(repeat(md5('s' || i::text), 14), 'hex') from 1 for 220), '2026-01-01Z' "
        "FROM generate_series(0, :rows - 1) AS i"), {"rows": rows, "w": FILLER_WORKERS})  # fmt: skip


def prepare(url: str, total: int, contracts: int) -> tuple[WalletStore, str, float]:
    """The wallet database with `total` credentials, `contracts` contracts (+ career records) of one worker."""
    db.migrate("holder_wallet", url)
    engine = db.make_engine(url)
    store = WalletStore(db.session_factory(engine), MASTER, clock=lambda: datetime(2027, 1, 15, 9, tzinfo=UTC))
    took = 0.0
    with store.factory() as s:
        have = s.scalar(select(func.count()).select_from(HeldCredential)) or 0
        mine = s.scalar(select(Worker.id).where(Worker.id.not_like("filler-%")).limit(1))
    if have != total or mine is None:
        t0 = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM held_credential"))
            conn.execute(text("DELETE FROM worker_passkey"))
            conn.execute(text("DELETE FROM worker"))
        account = store.create_account(name="홍길동", birth_date="1998-04-12", key=Ed25519KeyPair.from_seed(b"b" * 32))
        for i in range(contracts):
            vc = _contract(i, account.did)
            store.put_credential(account.id, vc, status="completed")
            if i % 4:  # three in four contracts have their career record
                store.put_credential(account.id, _career_record(vc, i), status="completed")
        filler = total - (contracts + sum(1 for i in range(contracts) if i % 4))
        with engine.begin() as conn:
            (_fill_sqlite if url.startswith("sqlite") else _fill_postgres)(conn, filler)
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        took = time.perf_counter() - t0
        with store.factory() as s:
            mine = s.scalar(select(Worker.id).where(Worker.id.not_like("filler-%")).limit(1))
    assert mine is not None
    return store, mine, took


def bench_career(url: str, label: str, total: int, contracts: int, rounds: int) -> list[tuple[str, str]]:
    store, wid, took = prepare(url, total, contracts)
    with store.factory() as s:
        count = s.scalar(select(func.count()).select_from(HeldCredential)) or 0
        held = s.scalar(select(func.count()).select_from(HeldCredential).where(HeldCredential.worker_id == wid)) or 0

    def view() -> career.Career:
        return career.build(store.summaries(wid), today=TODAY)

    got = view()
    c0 = time.process_time()
    times = timed(view, rounds)
    cpu = (time.process_time() - c0) / rounds
    year = timed(lambda: career.build(store.summaries(wid), today=TODAY, year=2022), rounds)
    made = f"generated in {took:.0f} s" if took else "reused from an earlier run"
    return [
        (f"career view, {label}: {count:,} credentials, the worker holds {held} ({contracts} contracts + career records); {made}",
         f"median **{ms(statistics.median(times))}**, p95 {ms(p95(times))} (target <= 50 ms); CPU time of the "
         f"wallet process {ms(cpu)} per view (the database server's own time is in the wall time only); "
         f"{len(got.works)} entries, {got.total_days} days"),
        (f"same, filtered to one year ({label})", f"median {ms(statistics.median(year))}, p95 {ms(p95(year))}"),
    ]  # fmt: skip


def pg_bench_url() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{PG_SCHEMA}"')
    except Exception as e:  # no server: the section says so
        print(f"<!-- PostgreSQL not reachable: {type(e).__name__} -->", file=sys.stderr)
        return None
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{PG_SCHEMA}"


# --- 3. first load on a phone ------------------------------------------------------------------------

SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 400_000 // 8, "uploadThroughput": 400_000 // 8}
PHONE_UA = "Mozilla/5.0 (Linux; Android 12; SM-A135F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36"


class _Counted:
    """WSGI middleware: the bytes the wallet sends (status line, headers, body), service worker included."""

    def __init__(self, app: Any) -> None:
        self.app, self.sent = app, 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            self.sent += len(status) + 11 + sum(len(k) + len(v) + 4 for k, v in headers)
            return start_response(status, headers, exc_info)

        for chunk in self.app(environ, start):
            self.sent += len(chunk)
            yield chunk


def first_load(rounds: int = 3) -> list[tuple[str, str]]:
    """The wallet's landing page and the career view, cold, on a phone: 4x CPU slowdown, slow 3G."""
    import tempfile
    import threading

    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from holder_wallet.app import create_app
    from web.config import RoleConfig

    out: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        counted = _Counted(None)
        server = make_server("127.0.0.1", 0, counted, threaded=True)
        url = f"http://localhost:{server.port}"
        config = RoleConfig("wallet", base_url=url, database_url=f"sqlite:///{tmp}/wallet.sqlite3", secret_key="bench", dev=True,
                            extra={"registry_url": "http://127.0.0.1:9", "issuer_url": "http://127.0.0.1:9"})  # fmt: skip
        app = create_app(config, master=MASTER)
        counted.app = app
        threading.Thread(target=server.serve_forever, daemon=True).start()
        store: WalletStore = app.extensions["wallet"]
        account = store.create_account(name="홍길동", birth_date="1998-04-12")
        for i in range(40):
            vc = _contract(i, account.did)
            store.put_credential(account.id, vc, status="completed")
            store.put_credential(account.id, _career_record(vc, i), status="completed")
        cookie = app.session_interface.get_signing_serializer(app).dumps({"wid": account.id})  # type: ignore[attr-defined]
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"])
        try:
            for label, path, signed_in in (("landing page `/` (signed out)", "/", False), ("career view `/career` (signed in, 80 entries)", "/career", True)):
                usable, fcp, loaded, sent = [], [], [], []
                for _ in range(rounds):
                    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=3, is_mobile=True,
                                                  has_touch=True, user_agent=PHONE_UA, locale="ko-KR")  # fmt: skip
                    if signed_in:
                        context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": url}])
                    page = context.new_page()
                    cdp = context.new_cdp_session(page)
                    cdp.send("Network.enable")
                    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
                    cdp.send("Network.emulateNetworkConditions", SLOW_3G)
                    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
                    counted.sent = 0
                    page.goto(url + path, wait_until="load", timeout=60_000)
                    timing = page.evaluate("""() => {
                        const nav = performance.getEntriesByType("navigation")[0];
                        const paint = performance.getEntriesByName("first-contentful-paint")[0];
                        return {dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd, fcp: paint ? paint.startTime : 0};
                    }""")  # fmt: skip
                    page.wait_for_timeout(2000)  # the service worker installs after load: its fetches count too
                    usable.append(timing["dcl"] / 1000)
                    loaded.append(timing["load"] / 1000)
                    fcp.append(timing["fcp"] / 1000)
                    sent.append(counted.sent)
                    context.close()
                out.append((f"first load on a phone, {label}: Chromium 390x844, 4x CPU slowdown, slow 3G (400 ms RTT, 400 kbit/s)",
                            f"usable (DOMContentLoaded: text drawn, styles and scripts in; fonts swap in later) median "
                            f"**{statistics.median(usable):.2f} s** (target <= 3 s), first paint {statistics.median(fcp):.2f} s, "
                            f"load event with fonts {statistics.median(loaded):.2f} s; **{max(sent) / 1024:.0f} KB** sent by "
                            f"the wallet incl. the service worker's shell (target <= 300 KB)"))  # fmt: skip
        finally:
            browser.close()
            server.shutdown()
            app.extensions["wallet.engine"].dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pdfs", type=int, default=60)
    ap.add_argument("--credentials", type=int, default=1_000_000)
    ap.add_argument("--contracts", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--only-browser", action="store_true")
    args = ap.parse_args()

    rows: list[tuple[str, str]] = []
    if not args.only_browser:
        rows += bench_pdf(args.pdfs)
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        rows += bench_career(f"sqlite:///{BENCH_DIR / 'wallet.sqlite3'}", "SQLite", args.credentials, args.contracts, args.rounds)
        pg = None if args.no_postgres else pg_bench_url()
        if pg:
            rows += bench_career(pg, "PostgreSQL", args.credentials, args.contracts, args.rounds)
    if not args.no_browser:
        rows += first_load()

    print("## Wallet: certificate PDF, career view, first load on a phone\n")
    print("`bench/bench_wallet.py` (issue 10). The career view is the wallet's own query (one indexed")
    print("SELECT of the worker's contract and career-record summaries, each unsealed with the worker's data")
    print("key) plus `holder_wallet.career.build`; the PDF is `agents.certificate.build_certificate_pdf`.")
    one, five, _ = os.getloadavg()
    print(f"Load average while this ran: {one:.1f} (1 min) / {five:.1f} (5 min) on 2 cores: wall times on a shared, busy")
    print("machine are several times what the same code takes alone; the CPU times are given beside them.\n")
    print("| what | figure |")
    print("|---|---|")
    for what, figure in rows:
        print(f"| {what} | {figure} |")
    print()


if __name__ == "__main__":
    main()
