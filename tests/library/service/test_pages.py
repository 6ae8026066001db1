"""The library's web pages through a real hub: the OAuth login, search, facets, item pages, errors.

Each test runs on SQLite and on PostgreSQL (the ``library`` fixture). The reader is a person
who signed up, was approved by the admin and logged in through the hub's form; their browser
session reaches the library through the hub's OAuth flow, as a browser would. Other users
submit and review items through the API with hub tokens.
"""

from __future__ import annotations

import html
import json
import re
import secrets
from urllib.parse import urlparse

import markupsafe
import pytest
import requests

from statcommons.library import files
from statcommons.settings import ROOT

from ...hubtools import Person

pytestmark = pytest.mark.hub

CURATED = {item["id"]: item for item in files.load_folder(ROOT / "library")[0]}
ITEM_LINK = re.compile(r'href="/services/library/items/([^"]+)"')
HOSTILE_SUMMARY = '<img src=x onerror=alert(1)> <a data-commandlinker-command="x">run</a> [click](javascript:alert(1))'
JSONLD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.DOTALL)


def unique(word: str) -> str:
    return f"{word}{secrets.token_hex(3)}"


@pytest.fixture(scope="module")
def reader(library) -> Person:
    """A person who signed up, was approved by the admin and is logged in to the hub."""
    hub = library.hub
    admin = Person(hub, "admin", hub.admin_password)
    admin.log_in()
    person = Person(hub, "page-reader")
    person.sign_up()
    admin.approve(person.name)
    person.log_in()
    assert person.logged_in
    return person


def browse(person: Person, url: str, **kwargs) -> requests.Response:
    """GET a library page in the person's session, following the OAuth flow (and its consent page, if shown)."""
    r = person.http.get(url, timeout=30, **kwargs)
    if "/hub/api/oauth2/authorize" in r.url and 'name="scopes"' in r.text:
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', r.text).group(1)
        scopes = re.findall(r'name="scopes" value="([^"]+)"', r.text)
        data = [("_xsrf", html.unescape(xsrf))] + [("scopes", html.unescape(s)) for s in scopes]
        r = person.http.post(r.url, data=data, timeout=30)
    return r


def published(library, **fields) -> dict:
    """An item submitted by another user and published by a curator."""
    library.user("page-curator", curator=True)
    r = library.call("POST", "/api/items", as_user="page-submitter", json=fields)
    assert r.status_code == 201, r.text
    item = r.json()
    review = {"decision": "publish", "revision": item["revision"]}
    r = library.call("POST", f"/api/items/{item['id']}/review", as_user="page-curator", json=review)
    assert r.status_code == 200, r.text
    return item


def json_ld(text: str) -> dict:
    [script] = JSONLD.findall(text)
    return json.loads(script)


def test_a_visitor_without_a_session_is_sent_to_the_hub_login_once(library):
    r = requests.get(f"{library.url}/?q=linkage", allow_redirects=False, timeout=30)
    assert r.status_code == 302
    location = r.headers["Location"]
    assert location.startswith("/hub/api/oauth2/authorize?"), location
    assert "state=" in location
    # Followed, the redirects end at the hub's login form rather than going round.
    visitor = requests.Session()
    r = visitor.get(f"{library.url}/items/{next(iter(CURATED))}", timeout=30)
    assert r.status_code == 200
    assert urlparse(r.url).path == "/hub/login"
    assert len(r.history) <= 3
    assert 'id="login_submit"' in r.text

    # A browser with a hub session that keeps coming back without a library one (cookies refused)
    # is stopped after a few rounds with a page saying so.
    broken = requests.Session()
    broken.cookies.set("jupyterhub-session-id", "abc", domain="127.0.0.1", path="/")
    codes = [broken.get(f"{library.url}/", allow_redirects=False, timeout=30).status_code for _ in range(4)]
    assert codes == [302, 302, 302, 401]
    r = broken.get(f"{library.url}/", allow_redirects=False, timeout=30)
    assert r.status_code == 302  # and the next try starts afresh


def test_search_page_facets_and_pages(library, reader):
    r = browse(reader, f"{library.url}/")
    assert r.status_code == 200, r.text[-2000:]
    assert urlparse(r.url).path == "/services/library/"
    assert r.headers["Content-Type"].startswith("text/html")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "default-src 'self'" in csp
    assert 'href="/hub/home"' in r.text
    assert 'name="xsrf-token"' in r.text
    everything = library.call("GET", "/api/items", as_user="page-reader-api").json()["total"]
    assert f"1–20 of {everything} items" in r.text
    assert len(ITEM_LINK.findall(r.text)) == 20
    assert 'rel="next"' in r.text
    page2 = browse(reader, f"{library.url}/?page=2")
    assert f"21–40 of {everything} items" in page2.text

    # A word of a curated title finds it, highlighted.
    item = next(i for i in CURATED.values() if i["type"] == "publication")
    word = max(re.findall(r"[A-Za-z]+", item["title"]), key=len)
    r = browse(reader, f"{library.url}/", params={"q": word})
    assert item["id"] in ITEM_LINK.findall(r.text)
    assert re.search(rf"<mark>{re.escape(word)}</mark>", r.text, re.IGNORECASE)

    # The GSBPM facet lists phases with their names; its link filters, and shows how to undo it.
    home = browse(reader, f"{library.url}/").text
    link = re.search(r'<a href="([^"]*gsbpm=5)">5 Process</a>', home)
    assert link, "no facet link for GSBPM phase 5"
    r = browse(reader, f"{library.url}{html.unescape(link.group(1))[len('/services/library') :]}")
    assert "GSBPM phase: 5 Process" in r.text
    expected = library.call("GET", "/api/items", as_user="page-reader-api", params={"gsbpm": "5", "limit": 100}).json()
    assert f"of {expected['total']} item" in r.text
    ids = ITEM_LINK.findall(r.text)
    assert ids and set(ids) <= {i["id"] for i in expected["items"]}
    for item_id in ids:
        codes = library.call("GET", f"/api/items/{item_id}", as_user="page-reader-api").json()["gsbpm"]
        assert any(code.split(".")[0] == "5" for code in codes), (item_id, codes)

    # Nothing matches: the page says so and how to widen the search.
    r = browse(reader, f"{library.url}/", params={"q": unique("zzqx"), "type": "video"})
    assert r.status_code == 200
    assert "Nothing matched" in r.text
    assert "remove the filter Type: Video" in r.text
    assert ITEM_LINK.findall(r.text) == []


def test_item_pages_show_the_item_and_its_json_ld(library, reader):
    item = next(i for i in CURATED.values() if i["type"] == "algorithm" and i["algorithm"].get("install"))
    r = browse(reader, f"{library.url}/items/{item['id']}")
    assert r.status_code == 200
    assert f'<h1 id="item-title">{html.escape(item["title"], quote=False)}</h1>' in r.text
    assert str(markupsafe.escape(item["algorithm"]["install"])) in r.text  # as the page's templates escape it
    assert 'rel="noopener noreferrer nofollow"' in r.text
    assert "Open in my workspace" not in r.text
    data = json_ld(r.text)
    assert data["@type"] == "SoftwareSourceCode"
    assert data["name"] == item["title"]
    assert data["url"].endswith(f"/services/library/items/{item['id']}")
    assert data["codeRepository"] == item["algorithm"]["repository"]

    dataset = published(
        library,
        type="dataset",
        title=f"Labour force survey microdata sample {unique('lfs')}",
        summary="A **public** sample of the labour force survey, with weights.",
        authors=["Ana Example"],
        organisations=["Statistics Testland"],
        countries=["FR"],
        languages=["fr"],
        keywords=["employment"],
        licence="CC-BY-4.0",
        gsbpm=["4.3"],
        year=2024,
        links=[{"url": "https://example.org/lfs", "title": "About the survey", "doi": "10.1234/lfs.2024"}],
        dataset={"url": "https://example.org/lfs.csv", "formats": ["csv"], "size_bytes": 2_500_000},
    )
    r = browse(reader, f"{library.url}/items/{dataset['id']}")
    assert r.status_code == 200
    assert "<strong>public</strong>" in r.text  # the summary is Markdown
    assert "pd.read_csv(&#39;https://example.org/lfs.csv&#39;)" in r.text
    assert "4.3 Run collection" in r.text
    data = json_ld(r.text)
    assert data["@type"] == "Dataset"
    assert data["name"] == dataset["title"]
    assert data["license"] == "https://spdx.org/licenses/CC-BY-4.0.html"
    assert data["distribution"][0]["encodingFormat"] == "text/csv"
    assert data["identifier"]["value"] == "10.1234/lfs.2024"
    assert data["spatialCoverage"][0]["address"]["addressCountry"] == "FR"
    assert data["isAccessibleForFree"] is True


def test_rating_and_commenting_need_the_pages_xsrf_token(library, reader):
    item = published(
        library,
        type="publication",
        title=f"Nowcasting regional employment {unique('nc')}",
        summary="Nowcasts of regional employment from administrative data.",
        links=[{"url": "https://example.org/nowcast"}],
    )
    page = browse(reader, f"{library.url}/items/{item['id']}")
    assert "Not rated yet" in page.text
    token = html.unescape(re.search(r'<meta name="xsrf-token" content="([^"]+)">', page.text).group(1))
    api = f"{library.url}/api/items/{item['id']}"

    # The session cookie alone does not do for a write: a page of another site could send it.
    r = reader.http.put(f"{api}/rating", json={"stars": 4}, timeout=30)
    assert r.status_code in (401, 403)
    r = reader.http.put(f"{api}/rating", json={"stars": 4}, headers={"X-XSRFToken": token}, timeout=30)
    assert r.status_code == 200, r.text
    r = reader.http.post(
        f"{api}/comments",
        json={"text": "Useful for **blocking** <script>x</script>"},
        headers={"X-XSRFToken": token},
        timeout=30,
    )
    assert r.status_code == 201, r.text

    page = browse(reader, f"{library.url}/items/{item['id']}")
    assert "4 out of 5 from 1 rating" in page.text
    assert re.search(r'id="star-4" name="stars" value="4" checked', page.text)
    assert "<strong>blocking</strong>" in page.text
    assert "&lt;script&gt;x&lt;/script&gt;" in page.text
    assert json_ld(page.text)["aggregateRating"]["ratingCount"] == 1


def test_hostile_text_in_an_item_stays_text(library, reader):
    word = unique("hostile")
    title = f"Tricky </script><script>alert(1)</script> {word}"
    item = published(
        library,
        type="publication",
        title=title,
        summary=HOSTILE_SUMMARY,
        keywords=["</script>"],
    )
    r = browse(reader, f"{library.url}/items/{item['id']}")
    assert r.status_code == 200
    text = r.text
    assert "<img" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert not re.search(r"<a[^>]*data-commandlinker-command", text)
    assert not any(href.lower().startswith("javascript:") for href in re.findall(r'href="([^"]*)"', text))
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in text
    # Only the page's own two script elements: library.js and the JSON-LD, which the title cannot close.
    assert text.lower().count("<script") == 2
    assert text.lower().count("</script") == 2
    assert json_ld(text)["name"] == title

    r = browse(reader, f"{library.url}/", params={"q": word})
    assert item["id"] in ITEM_LINK.findall(r.text)
    assert "<script>alert" not in r.text
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in r.text


def test_errors_are_html_pages(library, reader):
    r = browse(reader, f"{library.url}/items/no-such-item-{secrets.token_hex(3)}")
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("text/html")
    assert "no library item" in r.text
    assert "Traceback" not in r.text
    assert 'href="/services/library/"' in r.text

    r = browse(reader, f"{library.url}/no/such/page")
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("text/html")
    r = browse(reader, f"{library.url}/api/no-such-endpoint")
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("application/json")

    # A rejected item: its submitter sees it and why; other readers get the same 404 as for no item.
    library.user("page-curator", curator=True)
    draft = {"type": "publication", "title": f"Draft {unique('d')}", "summary": "Not yet.", "links": []}
    item = library.call("POST", "/api/items", as_user="page-submitter", json=draft).json()
    reason = "Add a link to the paper."
    r = library.call(
        "POST",
        f"/api/items/{item['id']}/review",
        as_user="page-curator",
        json={"decision": "reject", "revision": item["revision"], "reason": reason},
    )
    assert r.status_code == 200, r.text
    r = library.call("GET", f"/items/{item['id']}", as_user="page-submitter")
    assert r.status_code == 200
    assert "This item is <strong>rejected</strong>" in r.text
    assert reason in r.text
    r = browse(reader, f"{library.url}/items/{item['id']}")
    assert r.status_code == 404
    assert reason not in r.text

    # A token that may not read the library gets a 403 page.
    r = library.hub.api(
        "POST", f"/users/{reader.name}/tokens", json={"scopes": [f"read:users:name!user={reader.name}"]}
    )
    assert r.status_code == 201, r.text
    r = requests.get(
        f"{library.url}/", headers={"Authorization": f"token {r.json()['token']}"}, allow_redirects=False, timeout=30
    )
    assert r.status_code == 403
    assert r.headers["Content-Type"].startswith("text/html")
    assert "may not read the library" in r.text


def test_every_curated_item_is_found_on_the_search_page(library, reader):
    missing = []
    for item in CURATED.values():
        words = [w for w in re.findall(r"[^\W_]+", item["title"]) if len(w) > 3][:3] or [item["title"]]
        r = browse(reader, f"{library.url}/", params={"q": " ".join(words)})
        assert r.status_code == 200
        pages = [r.text]
        # The item may be on a later page when the words are common: follow up to three pages.
        for page in (2, 3):
            if item["id"] in ITEM_LINK.findall(pages[-1]):
                break
            pages.append(browse(reader, f"{library.url}/", params={"q": " ".join(words), "page": page}).text)
        if not any(item["id"] in ITEM_LINK.findall(text) for text in pages):
            missing.append((item["id"], words))
    assert missing == []
