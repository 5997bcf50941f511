"""`netmon report wifi`: HTML, CSV and PDF from the aggregates; no data; privacy; looked at in headless Chromium."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import subprocess
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from PIL import Image

from netmon.privacy import Pseudonymizer
from netmon.reports import build
from netmon.store import Store
from tests.conftest import require_tool, run_netmon

UTC = ZoneInfo("UTC")
FIRST, LAST = date(2026, 5, 11), date(2026, 5, 17)  # Monday to Sunday; the previous period is the week before
KEY = b"report-test-key-0123456789abcdef"
USERS = {
    "alice.tremblay@uni.example": "uni.example",
    "robert.gagnon@uni.example": "uni.example",
    "carole.roy@college.example": "college.example",
}
AP_MACS = {"00:3a:a0:00:00:01": ("ap-lib-lobby", 1), "00:3a:a0:00:00:02": ("ap-lib-floor2", 1),
           "00:3a:a0:00:00:03": ("ap-arena-01", 2)}  # fmt: skip


def client_mac(i: int) -> str:
    return f"02:00:5e:00:{i // 256:02x}:{i % 256:02x}"


def at(day: date, hour: float) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() + hour * 3600


class City:
    """Two weeks of a small city: the library doubles its public Wi-Fi users, the arena stays as it was."""

    def __init__(self, path: Path):
        self.pz = Pseudonymizer(KEY)
        self.store = Store(path)
        self.secrets: set[str] = set()  # everything that must never appear in a report
        with self.store.transaction() as c:
            c.execute("INSERT INTO sites (id, name, kind) VALUES (1, 'central-library', 'library'), "
                      "(2, 'arena-west', 'arena'), (3, 'city-hall', 'city-hall')")  # fmt: skip
            c.execute(
                "INSERT INTO devices (id, hostname, address, site_id, role) VALUES (1, 'wlc', '127.0.0.1', 3, 'wlc')"
            )
            for mac, (name, site) in AP_MACS.items():
                c.execute(
                    "INSERT INTO access_points (controller_id, mac, name, status, site_id, first_seen, last_seen) "
                    "VALUES (1, ?, ?, 'up', ?, 0, 0)",
                    (mac, name, site),
                )
                self.secrets |= {mac, mac.replace(":", ""), mac.replace(":", "-")}
            for k in range(14):
                day = FIRST - timedelta(days=7) + timedelta(days=k)
                library = 20 if day >= FIRST else 10
                for i in range(library):  # one hour each, one every 5 minutes from 10:00
                    self._session(c, i, "CityWiFi", "00:3a:a0:00:00:01", 1, at(day, 10 + i / 12), 3600)
                for i in range(100, 105):
                    self._session(c, i, "CityWiFi", "00:3a:a0:00:00:03", 2, at(day, 19), 5400)
                for n, (user, realm) in enumerate(USERS.items()):
                    self._session(c, 200 + n, "eduroam", "00:3a:a0:00:00:02", 1, at(day, 14), 1800, user, realm)

    def _session(self, c, i, ssid, ap, site, start, seconds, user=None, realm=None):
        mac = client_mac(i)
        client = self.pz.mac(mac)
        pseudo_user = self.pz.user(user) if user else None
        self.secrets |= {mac, mac.replace(":", ""), client, client[:16]}
        if user:
            self.secrets |= {user, user.split("@")[0], pseudo_user, pseudo_user[:16]}
        c.execute(
            "INSERT INTO wifi_sessions (controller_id, client, ssid, ap_mac, site_id, start, last_seen, end, bytes_rx, "
            "bytes_tx, eduroam, realm, user) VALUES (1, ?, ?, ?, ?, ?, ?, ?, 1000000, 250000, ?, ?, ?)",
            (client, ssid, ap, site, start, start + seconds, start + seconds, int(ssid == "eduroam"), realm,
             pseudo_user),
        )  # fmt: skip

    def write(self, fmt: str, out: Path, **kw) -> Path:
        kw.setdefault("threshold", 13)
        return build.write(self.store, FIRST, LAST, UTC, fmt, out, **kw)


@pytest.fixture
def city(tmp_path):
    c = City(tmp_path / "netmon.db")
    yield c
    c.store.close()


def read_zip(path: Path) -> dict[str, list[dict]]:
    with zipfile.ZipFile(path) as z:
        return {n[:-4]: list(csv.DictReader(io.StringIO(z.read(n).decode()))) for n in z.namelist()}


def assert_private(text: str, city: City) -> None:
    lowered = text.lower()
    leaked = sorted(s for s in city.secrets if s.lower() in lowered)
    assert not leaked, f"residents' data in the report: {leaked[:5]}"
    assert not re.search(r"\b[0-9a-f]{32}\b", lowered), "something shaped like a pseudonym"
    assert not re.search(r"\b([0-9a-f]{2}[:-]){5}[0-9a-f]{2}\b", lowered), "something shaped like a MAC"


def test_csv_tables_hold_the_right_numbers(city, tmp_path):
    out = city.write("csv", tmp_path / "report")
    assert out.name == "report.zip"
    t = read_zip(out)
    assert {"about", "totals", "sites", "daily", "heatmap", "eduroam_share", "realms", "busiest_aps", "hotspots",
            "growth"} <= set(t)  # fmt: skip
    totals = {r["measure"]: r for r in t["totals"]}
    assert int(totals["sessions"]["value"]) == 7 * (20 + 5 + 3)
    assert int(totals["sessions"]["previous_period"]) == 7 * (10 + 5 + 3)
    assert int(totals["unique clients"]["value"]) == 28  # the same 28 devices every day
    assert float(totals["connected hours"]["value"]) == pytest.approx(7 * (20 + 7.5 + 1.5))
    assert float(totals["years of Wi-Fi"]["value"]) == pytest.approx(7 * 29 / 8766)
    assert totals["busiest day"]["value"] == "2026-05-11"  # every day alike: the first
    sites = {r["site"]: r for r in t["sites"]}
    assert int(sites["central-library"]["sessions"]) == 7 * 23
    assert float(sites["central-library"]["sessions_change"]) == pytest.approx((161 - 91) / 91)
    assert float(sites["arena-west"]["sessions_change"]) == 0
    assert int(sites["central-library"]["peak_concurrent"]) == 13  # 13 one-hour sessions, 5 min apart, at 11:00
    assert sites["central-library"]["peak_hour"] == "11"
    assert len(t["daily"]) == 7 and len(t["heatmap"]) == 7 * 24
    heat = {(r["weekday"], int(r["hour"])): float(r["average_clients"]) for r in t["heatmap"]}
    assert heat[("Mon", 19)] == 5 and heat[("Mon", 3)] == 0
    assert heat[("Mon", 20)] == pytest.approx(2.5)  # the arena's five 90-minute sessions: half of 20 o'clock
    assert heat[("Mon", 10)] == pytest.approx(sum(60 - 5 * i for i in range(12)) / 60)  # 12 start in it, 5 min apart
    realms = {r["realm"]: r for r in t["realms"]}
    assert (int(realms["uni.example"]["sessions"]), int(realms["uni.example"]["unique_users"])) == (14, 2)
    assert int(realms["college.example"]["unique_users"]) == 1
    assert t["busiest_aps"][0]["access_point"] == "ap-lib-lobby"
    assert [r["access_point"] for r in t["hotspots"]] == ["ap-lib-lobby"]
    assert int(t["hotspots"][0]["days_at_or_over"]) == 7
    assert t["growth"][0]["site"] == "central-library"
    assert_private(b"".join(zipfile.ZipFile(out).read(n) for n in zipfile.ZipFile(out).namelist()).decode(), city)


def test_capacity_threshold_and_site_filter(city, tmp_path):
    t = read_zip(city.write("csv", tmp_path / "a.zip", threshold=14))
    assert t["hotspots"] == []
    t = read_zip(city.write("csv", tmp_path / "b.zip", sites=["arena-west"]))
    assert [r["site"] for r in t["sites"]] == ["arena-west"]
    assert int({r["measure"]: r for r in t["totals"]}["sessions"]["value"]) == 35
    assert {r["access_point"] for r in t["busiest_aps"]} == {"ap-arena-01"}
    with pytest.raises(build.UnknownSite, match="nowhere"):
        city.write("csv", tmp_path / "c.zip", sites=["nowhere"])


def test_html_is_one_offline_page_with_every_section(city, tmp_path):
    html = city.write("html", tmp_path / "r.html").read_text()
    for section in ("totals", "sites", "daily", "heatmap", "eduroam_share", "realms", "busiest_aps", "hotspots",
                    "growth"):  # fmt: skip
        assert f'id="{section}"' in html, section
    for chart in ("daily", "heatmap", "eduroam_share", "realms", "busiest_aps", "growth"):
        assert f'id="chart-{chart}"' in html, chart
    assert "Years of Wi-Fi" in html and "0.0" in html
    assert 'class="sortable"' in html and "addEventListener" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "the page must not fetch anything"
    assert "<link" not in html and "@import" not in html
    for uri in re.findall(r'src="data:image/png;base64,([^"]+)"', html):
        img = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri))).convert("L"), dtype=float)
        assert img.std() > 10, "a blank chart"
    assert_private(html, city)


def test_pdf_has_the_same_sections_and_converts_to_pages(city, tmp_path):
    pdf = city.write("pdf", tmp_path / "r.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    pdftoppm = require_tool("pdftoppm")
    subprocess.run([pdftoppm, "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True, timeout=60)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 10
    for page in pages:
        img = np.asarray(Image.open(page).convert("L"), dtype=float)
        assert img.std() > 5, f"{page.name} is blank"
    text = subprocess.run([require_tool("pdftotext"), str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    titles = ["Per site", "Daily trend", "When people connect", "eduroam share over time", "Top home realms",
              "Busiest access points", "Capacity hot spots", "Sites with the most growth",
              "Years of Wi-Fi"]  # fmt: skip
    for title in titles:
        assert title in text, title
    assert_private(text, city)
    assert_private(pdf.read_bytes().decode("latin-1"), city)


def test_no_data_is_a_clear_message_not_an_empty_page(city, tmp_path):
    db = str(city.store.path)
    out = tmp_path / "empty.html"
    r = run_netmon("--db", db, "report", "wifi", "--from", "2025-01-01", "--to", "2025-01-31", "--format", "html",
                   "--out", str(out))  # fmt: skip
    assert r.returncode == 1
    assert "no Wi-Fi usage for 2025-01-01 .. 2025-01-31" in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()
    r = run_netmon("--db", db, "report", "wifi", "--from", "2026-05-11", "--to", "2026-05-17", "--site", "nowhere",
                   "--out", str(out))  # fmt: skip
    assert r.returncode == 2 and "unknown site 'nowhere'" in r.stderr and not out.exists()
    r = run_netmon("--db", db, "report", "wifi", "--from", "2026-05-17", "--to", "2026-05-11", "--out", str(out))
    assert r.returncode == 2 and "before" in r.stderr


def test_report_command_aggregates_missing_days_first(city, tmp_path):
    out = tmp_path / "r.zip"
    r = run_netmon("--db", str(city.store.path), "report", "wifi", "--from", "2026-05-11", "--to", "2026-05-17",
                   "--format", "csv", "--out", str(out), env={"TZ": "UTC"})  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert int({r["measure"]: r for r in read_zip(out)["totals"]}["sessions"]["value"]) == 196
    built = {r[0] for r in city.store.conn.execute("SELECT day FROM usage_days")}
    assert "2026-05-04" in built and "2026-05-17" in built  # the previous period too


def test_a_change_of_time_zone_is_said(city, tmp_path):
    city.store.rebuild_usage(FIRST, FIRST, ZoneInfo("America/Toronto"))
    t = read_zip(city.write("csv", tmp_path / "r.zip"))
    notes = [r["value"] for r in t["about"] if r["key"] == "note"]
    assert any("1 days of this period were aggregated in time zone America/Toronto" in n for n in notes)


def test_report_survives_retention(city, tmp_path):

    city.store.apply_retention(1, UTC, now=at(date(2026, 6, 30), 12))
    assert city.store.conn.execute("SELECT count(*) FROM wifi_sessions").fetchone()[0] == 0
    t = read_zip(city.write("csv", tmp_path / "r.zip"))
    assert int({r["measure"]: r for r in t["totals"]}["sessions"]["value"]) == 196


# -- looked at as a person would ----------------------------------------------------------

LAYOUT_PROBE = """
<script>
window.addEventListener("load", function () {
  var out = {height: document.documentElement.scrollHeight, charts: []};
  document.querySelectorAll("img.chart").forEach(function (img) {
    var r = img.getBoundingClientRect();
    out.charts.push({id: img.id, x: r.left + window.scrollX, y: r.top + window.scrollY, w: r.width, h: r.height,
                     natural: img.naturalWidth});
  });
  var pre = document.createElement("pre"); pre.id = "layout"; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def chromium(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    exe = require_tool("chromium")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
             "--hide-scrollbars", "--force-device-scale-factor=1", "--disable-extensions"]  # fmt: skip
    return subprocess.run([exe, *flags, *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.integration
def test_chromium_shows_every_chart(city, tmp_path):
    page = city.write("html", tmp_path / "r.html")
    probe = tmp_path / "probe.html"  # the same page plus a script that reports where the charts landed
    probe.write_text(page.read_text().replace("</body>", LAYOUT_PROBE + "</body>"))
    dom = chromium("--window-size=1280,900", "--virtual-time-budget=5000", "--dump-dom", probe.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    layout = json.loads(re.search(r'<pre id="layout">(.*?)</pre>', dom.stdout, re.S).group(1).replace("&quot;", '"'))
    charts = {c["id"]: c for c in layout["charts"]}
    assert set(charts) == {f"chart-{n}" for n in ("daily", "heatmap", "eduroam_share", "realms", "busiest_aps",
                                                  "growth")}  # fmt: skip
    shot = tmp_path / "shot.png"
    height = int(layout["height"])
    r = chromium(f"--window-size=1280,{height}", f"--screenshot={shot}", page.as_uri())
    assert r.returncode == 0 and shot.exists(), r.stderr[-2000:]
    img = np.asarray(Image.open(shot).convert("RGB"), dtype=float)
    assert img.shape[1] == 1280 and img.shape[0] >= height - 5
    assert img.std() > 20, "the screenshot is uniform"
    for cid, c in charts.items():
        assert c["natural"] > 0 and c["w"] > 900 and c["h"] > 100, (cid, c)
        x, y, w, h = (int(c[k]) for k in ("x", "y", "w", "h"))
        region = img[y : y + h, x : x + w]
        gray = region.mean(axis=2)
        inked = (gray < 235).mean()  # share of pixels that are not page white
        assert gray.std() > 15 and inked > 0.02, f"{cid} looks blank in the screenshot ({gray.std():.1f}, {inked:.3f})"
        if cid == "chart-heatmap":
            colour = (region.max(axis=2) - region.min(axis=2)) > 60
            assert colour.mean() > 0.05, "the heat map has no colour"


SORT_PROBE = """
<script>
window.addEventListener("load", function () {
  var table = document.getElementById("t-sites"), out = {};
  function column(n) {
    return Array.prototype.map.call(table.tBodies[0].rows, function (r) { return r.cells[n].textContent; });
  }
  var heads = table.querySelectorAll("th");
  heads[0].click(); out.site_first_click = column(0);
  heads[0].click(); out.site_second_click = column(0);
  heads[3].click(); out.sessions_first_click = column(3);
  heads[2].click(); out.change_first_click = column(2);
  var pre = document.createElement("pre"); pre.id = "sorted"; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


@pytest.mark.integration
def test_chromium_sorts_the_site_table(city, tmp_path):
    page = city.write("html", tmp_path / "r.html")
    probe = tmp_path / "probe.html"
    probe.write_text(page.read_text().replace("</body>", SORT_PROBE + "</body>"))
    dom = chromium("--window-size=1280,900", "--virtual-time-budget=5000", "--dump-dom", probe.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    got = json.loads(re.search(r'<pre id="sorted">(.*?)</pre>', dom.stdout, re.S).group(1).replace("&quot;", '"'))
    assert got["site_first_click"] == ["central-library", "arena-west"]  # descending
    assert got["site_second_click"] == ["arena-west", "central-library"]
    assert got["sessions_first_click"] == ["161", "35"]  # by number, largest first
    assert got["change_first_click"] == ["+76.9 %", "+0.0 %"]  # 23 library clients against 13, the arena's 5 and 5


def test_the_heat_map_counts_a_client_moving_between_sites_once(tmp_path):
    """A client at the library, then the arena, within one hour: one client connected, not two."""
    pz = Pseudonymizer(KEY)
    store = Store(tmp_path / "netmon.db")
    try:
        with store.transaction() as c:
            c.execute("INSERT INTO sites (id, name, kind) VALUES (1, 'central-library', 'library'), "
                      "(2, 'arena-west', 'arena')")  # fmt: skip
            c.execute(
                "INSERT INTO devices (id, hostname, address, site_id, role) VALUES (1, 'wlc', '127.0.0.1', 1, 'wlc')"
            )
            for k in range(7):
                day = FIRST + timedelta(days=k)
                for site, start in ((1, at(day, 9)), (2, at(day, 9.5))):
                    c.execute(
                        "INSERT INTO wifi_sessions (controller_id, client, ssid, ap_mac, site_id, start, last_seen, "
                        "end, bytes_rx, bytes_tx, eduroam) VALUES (1, ?, 'CityWiFi', '', ?, ?, ?, ?, 0, 0, 0)",
                        (pz.mac(client_mac(1)), site, start, start + 1800, start + 1800),
                    )
        out = build.write(store, FIRST, LAST, UTC, "csv", tmp_path / "report", threshold=0)
    finally:
        store.close()
    t = read_zip(out)
    heat = {(r["weekday"], int(r["hour"])): float(r["average_clients"]) for r in t["heatmap"]}
    assert heat[("Mon", 9)] == pytest.approx(1.0) and heat[("Sun", 9)] == pytest.approx(1.0)
    assert heat[("Mon", 10)] == 0
