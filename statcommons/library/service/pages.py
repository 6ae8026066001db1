"""The library's web pages, for readers outside JupyterLab: a search page and one page per item.

Pages are for logged-in hub users. A visitor without a session is sent through the hub's OAuth
login (``HubOAuthenticated.get_login_url``) and comes back to the page asked for; a caller
without the library's read scope gets a 403 page. Every error is an HTML page with a message.

Rating and commenting go through the REST API from ``static/library.js``, which sends the XSRF
token of the page (``<meta name="xsrf-token">``) in an ``X-XSRFToken`` header: HubOAuth checks
it for cookie-authenticated writes. Pages allow no inline script (see :data:`CSP`).
"""

from __future__ import annotations

import functools
import inspect
import math
from datetime import UTC, datetime
from http.client import responses
from typing import Any
from urllib.parse import quote_plus, urlencode

import jinja2
import nh3
from jupyterhub.utils import url_path_join
from markupsafe import Markup
from tornado import web

from ...kit.web import PageHeaders
from .. import gsbpm, schema
from ..store import FACETS, SORTS
from . import api
from .jsonld import item_jsonld, script_text
from .render import markdown_html

PAGE_SIZE = 20
LAST_PAGE = 500
FACET_SHOWN = 8
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
    "frame-ancestors 'self'; base-uri 'self'; form-action 'self'; object-src 'none'"
)
# Page views without a library session, within a minute, by a browser holding a hub session, before the
# login is declared broken (cookies refused, say) and explained on a page instead of going round the OAuth flow.
LOGIN_COOKIE = "statcommons-library-login"
LOGIN_ATTEMPTS = 3

TYPE_LABELS = {
    "publication": "Publication",
    "experience": "Experience",
    "dataset": "Dataset",
    "video": "Video",
    "algorithm": "Algorithm",
    "notebook": "Notebook",
}
FACET_TITLES = {
    "type": "Type",
    "gsbpm": "GSBPM phase",
    "topic": "Topic",
    "organisation": "Organisation",
    "language": "Language",
    "licence": "Licence",
}
SORT_LABELS = {"relevance": "Relevance", "newest": "Newest", "title": "Title", "rating": "Rating"}
LANGUAGES = {
    "ar": "Arabic", "de": "German", "en": "English", "es": "Spanish", "fi": "Finnish", "fr": "French",
    "it": "Italian", "ja": "Japanese", "ko": "Korean", "nl": "Dutch", "no": "Norwegian", "pl": "Polish",
    "pt": "Portuguese", "ru": "Russian", "sv": "Swedish", "zh": "Chinese",
}  # fmt: skip
ERROR_MESSAGES = {
    401: "You are not logged in.",
    403: "You may not see this page.",
    404: "There is no such page in the library.",
    405: "This page cannot be used that way.",
}


@functools.cache
def _templates(path: str) -> jinja2.Environment:
    # auto_reload off: the templates ship with the service, and checking their files at every render cost
    # a stat per template per page under load.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(path), autoescape=True, trim_blocks=True, lstrip_blocks=True, auto_reload=False
    )


def marked(text: str) -> Markup:
    """A search highlight (escaped text with ``<mark>`` around the words found) as markup; nothing else passes."""
    return Markup(nh3.clean(text, tags={"mark"}, attributes={}))


def http_url(url: Any) -> str | None:
    """``url`` when it is an http(s) address, for an ``href``; None otherwise."""
    return url if isinstance(url, str) and url.lower().startswith(("http://", "https://")) else None


def gsbpm_label(code: str) -> str:
    return f"{code} {gsbpm.PHASES.get(code) or gsbpm.SUBPROCESSES.get(code) or ''}".strip()


def facet_label(facet: str, value: str) -> str:
    if facet == "type":
        return TYPE_LABELS.get(value, value)
    if facet == "gsbpm":
        return gsbpm_label(value)
    if facet == "topic":
        return schema.topics().get(value, value)
    if facet == "language":
        return LANGUAGES.get(value, value)
    return value


def rating_text(rating: dict) -> str:
    count = rating.get("count") or 0
    if not count:
        return "Not rated yet"
    return f"{rating['average']:g} out of 5 from {count} rating{'s' if count != 1 else ''}"


def duration_text(seconds: int) -> str:
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def size_text(size: int) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:g} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return str(size)


def load_snippet(dataset: dict) -> str | None:
    """Python that loads the data set: its Frictionless package, else its file with pandas."""
    if dataset.get("datapackage"):
        return f"from frictionless import Package\n\npackage = Package({dataset['datapackage']!r})\nprint(package)"
    url = dataset.get("url")
    readers = {"csv": "read_csv", "parquet": "read_parquet", "json": "read_json", "xlsx": "read_excel"}
    reader = next((readers[f] for f in dataset.get("formats", []) if f in readers), None)
    if url and reader:
        return f"import pandas as pd\n\ndf = pd.{reader}({url!r})\ndf.head()"
    return None


def when(timestamp: str | None) -> str:
    """An ISO date-time as ``2024-05-01 09:30 UTC``; a date, or anything else, as given."""
    if not timestamp or len(timestamp) <= 10:
        return timestamp or ""
    try:
        moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return timestamp
    # The store writes UTC; SQLite gives it back without the zone.
    moment = moment.astimezone(UTC) if moment.tzinfo else moment
    return moment.strftime("%Y-%m-%d %H:%M UTC")


RUN_ENDINGS = {
    "failed": "failed",
    "timeout": "stopped at its time limit",
    "interrupted": "was interrupted",
    "cancelled": "was cancelled",
}


def run_text(run: dict | None) -> str:
    """A notebook's latest run in words: ``ran successfully on 2026-12-06 07:30 UTC``, or how it failed and where."""
    if not run:
        return "not run yet"
    moment = when(run.get("finished"))
    if run.get("status") == "succeeded":
        return f"ran successfully on {moment}"
    text = f"{RUN_ENDINGS.get(run.get('status'), run.get('status'))} on {moment}"
    if isinstance(run.get("cell"), int):
        text += f" in cell {run['cell'] + 1}"
    if run.get("missing_package"):
        return f"{text}: it needs the package {run['missing_package']}, which its image lacks"
    return f"{text}: {run['error']}" if run.get("error") else text


class PageHandler(PageHeaders, api.BaseHandler):
    """An HTML page: hub login by redirect, errors as pages, a strict Content-Security-Policy."""

    csp = CSP

    # Access is checked in get(), not prepare(): answering from prepare() in a handler that streams
    # request bodies makes tornado close the connection, and a client reusing it gets a reset.
    async def get(self, *args: str) -> None:
        if self.caller is None:
            self._send_to_login()
            return
        if self.get_cookie(LOGIN_COOKIE):
            self.clear_cookie(LOGIN_COOKIE, path=self.settings["library"]["prefix"])
        if not self.caller.can_read:
            raise api.ApiError(403, f"{self.caller.name} may not read the library: ask an administrator for access.")
        self.available()
        shown = self.show(*args)
        if inspect.isawaitable(shown):
            await shown

    def show(self, *args: str) -> Any:
        """Write the page (a coroutine function when it waits for something, such as a search)."""
        raise NotImplementedError

    def _send_to_login(self) -> None:
        prefix = self.settings["library"]["prefix"]
        # Without a hub session the hub shows its login form: nothing can loop.
        if self.get_cookie("jupyterhub-session-id"):
            attempts = self.get_cookie(LOGIN_COOKIE, "0")
            attempts = int(attempts) if attempts.isdigit() else 0
            if attempts >= LOGIN_ATTEMPTS:
                self.clear_cookie(LOGIN_COOKIE, path=prefix)
                raise api.ApiError(
                    401,
                    "Logging in through the hub did not work: the library did not receive your hub session. "
                    "Check that your browser accepts cookies from this site, then try again.",
                )
            self.set_cookie(LOGIN_COOKIE, str(attempts + 1), path=prefix, max_age=60, httponly=True)
        self.redirect(self.get_login_url())

    @property
    def prefix(self) -> str:
        return self.settings["library"]["prefix"]

    @property
    def hub_prefix(self) -> str:
        return self.hub_auth.hub_prefix

    def page(self, template: str, **context: Any) -> str:
        caller = getattr(self, "caller", None)
        environment = _templates(self.settings["template_path"])
        return environment.get_template(template).render(
            caller=caller,
            prefix=self.prefix,
            api=url_path_join(self.prefix, "api/"),
            hub_home=url_path_join(self.hub_prefix, "home"),
            hub_logout=url_path_join(self.hub_prefix, "logout"),
            static=self.static_url,
            xsrf=self.xsrf_token.decode() if caller else None,
            **context,
        )

    def write_error(self, status_code: int, **kwargs) -> None:
        error = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(error, api.ApiError):
            message = error.message
        elif isinstance(error, web.HTTPError) and error.log_message and status_code < 500:
            message = error.log_message % error.args if error.args else error.log_message
        else:
            message = ERROR_MESSAGES.get(status_code, "Something went wrong in the library. Try again in a moment.")
        self.clear_header("Content-Disposition")
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        if isinstance(error, api.Unavailable):
            self.set_header("Retry-After", str(error.retry_after))
        login = url_path_join(self.hub_prefix, "login") + "?" + urlencode({"next": self.request.uri})
        self.finish(
            self.page(
                "error.html",
                status=status_code,
                reason=responses.get(status_code, "Error"),
                message=message,
                login=login if status_code == 401 else None,
            )
        )


class SearchPage(PageHandler):
    """``GET {prefix}``: search box, facets, active filters, sort, results and pages."""

    def _state(self) -> dict:
        filters = {}
        for facet in FACETS:
            values = []
            for value in self.get_arguments(facet):
                if value and value not in values:
                    values.append(value)
            if values:
                filters[facet] = values
        q = self.get_argument("q", "").strip()
        sort = self.get_argument("sort", "")
        page = self.get_argument("page", "1")
        return {
            "q": q,
            "filters": filters,
            "sort": sort if sort in SORTS else "",
            "page": min(int(page), LAST_PAGE) if page.isdigit() and int(page) > 0 else 1,
        }

    def href(self, state: dict, **changes: Any) -> str:
        state = {**state, **changes}
        pairs: list[tuple[str, Any]] = [("q", state["q"])] if state["q"] else []
        for facet in FACETS:
            pairs += [(facet, value) for value in state["filters"].get(facet, [])]
        if state["sort"]:
            pairs.append(("sort", state["sort"]))
        if state["page"] > 1:
            pairs.append(("page", state["page"]))
        return f"{self.prefix}?{urlencode(pairs)}" if pairs else self.prefix

    def toggled(self, state: dict, facet: str, value: str) -> str:
        filters = {f: list(values) for f, values in state["filters"].items()}
        values = filters.setdefault(facet, [])
        if value in values:
            values.remove(value)
        else:
            values.append(value)
        return self.href(state, filters={f: v for f, v in filters.items() if v}, page=1)

    def _adding(self, state: dict, facet: str):
        """``value -> href`` of the page with ``value`` added to ``facet``'s filter, as :meth:`toggled` makes it.

        A page lists every value of every facet; the parts of the link that do not depend on the value
        are encoded once per facet, not once per value.
        """
        before = [("q", state["q"])] if state["q"] else []
        after = []
        for other in FACETS:
            pairs = [(other, value) for value in state["filters"].get(other, [])]
            if FACETS.index(other) <= FACETS.index(facet):
                before += pairs
            else:
                after += pairs
        if state["sort"]:
            after.append(("sort", state["sort"]))
        head = urlencode(before) + "&" if before else ""
        tail = "&" + urlencode(after) if after else ""
        key = quote_plus(facet)
        return lambda value: f"{self.prefix}?{head}{key}={quote_plus(value)}{tail}"

    def _facets(self, state: dict, counts: dict[str, dict[str, int]]) -> list[dict]:
        facets = []
        for facet in FACETS:
            found = dict(counts.get(facet, {}))
            selected = state["filters"].get(facet, [])
            if facet == "gsbpm":
                found = {code: n for code, n in found.items() if "." not in code or code in selected}
            for value in selected:
                found.setdefault(value, 0)
            adding = self._adding(state, facet)
            options = [
                {
                    "value": value,
                    "label": facet_label(facet, value),
                    "count": count,
                    "selected": value in selected,
                    "href": self.toggled(state, facet, value) if value in selected else adding(value),
                }
                for value, count in found.items()
            ]
            if facet == "gsbpm":
                options.sort(key=lambda o: [int(part) for part in o["value"].split(".") if part.isdigit()])
            else:
                options.sort(key=lambda o: (not o["selected"], -o["count"], o["label"].casefold()))
            facets.append({"name": facet, "title": FACET_TITLES[facet], "options": options})
        return facets

    def _hit(self, hit: dict) -> dict:
        item = hit["item"]
        return {
            "id": item["id"],
            "href": url_path_join(self.prefix, "items", item["id"]),
            "type": item["type"],
            "type_label": TYPE_LABELS.get(item["type"], item["type"]),
            "title": marked(hit["highlight"]["title"]),
            "snippet": marked(hit["highlight"]["summary"]),
            "organisations": item.get("organisations", []),
            "year": item.get("year"),
            "gsbpm": [gsbpm_label(code) for code in item.get("gsbpm", [])],
            "rating": rating_text(hit["rating"]),
            "status": item.get("status", "published"),
        }

    def _pages(self, state: dict, total: int) -> list[dict]:
        last = min(max(math.ceil(total / PAGE_SIZE), 1), LAST_PAGE)
        current = state["page"]
        shown = sorted({1, last, *range(max(1, current - 2), min(last, current + 2) + 1)})
        pages, previous = [], 0
        for number in shown:
            if number - previous > 1:
                pages.append({"gap": True})
            pages.append({"number": number, "href": self.href(state, page=number), "current": number == current})
            previous = number
        return pages

    async def show(self) -> None:
        state = self._state()
        sort = state["sort"] or ("relevance" if state["q"] else "newest")
        result = await self.search(
            q=state["q"] or None,
            **state["filters"],
            visible_to=self.caller.viewer(),
            sort=sort,
            limit=PAGE_SIZE,
            offset=(state["page"] - 1) * PAGE_SIZE,
            facets=True,
        )
        total = result["total"]
        active = [
            {
                "facet": facet,
                "value": value,
                "title": FACET_TITLES[facet],
                "label": facet_label(facet, value),
                "remove": self.toggled(state, facet, value),
            }
            for facet, values in state["filters"].items()
            for value in values
        ]
        first = (state["page"] - 1) * PAGE_SIZE + 1
        last_page = max(math.ceil(total / PAGE_SIZE), 1)
        self.finish(
            self.page(
                "search.html",
                q=state["q"],
                sorts=[{"value": s, "label": SORT_LABELS[s], "selected": s == sort} for s in SORTS],
                active=active,
                clear_href=self.href(state, filters={}, page=1),
                everything_href=self.prefix,
                facets=self._facets(state, result.get("facets") or {}),
                hits=[self._hit(hit) for hit in result["items"]],
                total=total,
                first=first,
                last=first + len(result["items"]) - 1,
                page_number=state["page"],
                past_the_end=total > 0 and not result["items"],
                first_page_href=self.href(state, page=1),
                pages=self._pages(state, total) if last_page > 1 else [],
                previous_href=self.href(state, page=state["page"] - 1) if state["page"] > 1 else None,
                next_href=self.href(state, page=state["page"] + 1) if state["page"] < last_page else None,
                failing=len(self.attachments.failing_runs()) if self.caller.curator else 0,
            )
        )


class ItemPage(PageHandler):
    """``GET {prefix}items/{id}``: one item, its rating and comments, and its schema.org JSON-LD."""

    def _my_stars(self, item_id: str) -> int | None:
        return self.store.stars(item_id, self.caller.name)

    def _links(self, item: dict) -> list[dict]:
        links = []
        for link in item.get("links", []):
            href = http_url(link.get("url"))
            if href:
                links.append({"href": href, "text": link.get("title") or href, "doi": link.get("doi")})
        return links

    def _workspace(self, item: dict) -> dict | None:
        """Where a notebook opens: nbgitpuller for a repository, the shared folder, or a download."""
        notebook = item.get("notebook") or {}
        if item.get("nbgitpuller_url"):
            return {"href": item["nbgitpuller_url"], "text": "Open in my workspace", "download": False}
        if notebook.get("shared_path"):
            href = url_path_join(self.hub_prefix, "user-redirect/lab/tree", notebook["shared_path"])
            return {"href": href, "text": "Open in my workspace", "download": False}
        if item.get("notebook_url"):
            return {"href": item["notebook_url"], "text": "Download the notebook", "download": True}
        return None

    def show(self, item_id: str) -> None:
        caller = self.caller
        item = self.item_json(self.visible(item_id, caller), caller)
        url = url_path_join(self.settings["library"]["hub_url"], self.prefix, "items", item["id"])
        comments = [
            {**c, "html": Markup(markdown_html(c["text"])), "when": when(c["created"])}
            for c in self.store.comments(item["id"], include_hidden=caller.curator)
        ]
        status = item.get("status", "published")
        search = self.prefix + "?"
        self.finish(
            self.page(
                "item.html",
                item=item,
                url=url,
                type_label=TYPE_LABELS.get(item["type"], item["type"]),
                type_href=search + urlencode({"type": item["type"]}),
                summary=Markup(markdown_html(item["summary"])),
                status=status,
                topics=[
                    {"label": facet_label("topic", t), "href": search + urlencode({"topic": t})}
                    for t in item.get("topics", [])
                ],
                gsbpm=[
                    {"label": gsbpm_label(code), "href": search + urlencode({"gsbpm": code})}
                    for code in item.get("gsbpm", [])
                ],
                organisations=[
                    {"label": o, "href": search + urlencode({"organisation": o})} for o in item.get("organisations", [])
                ],
                languages=[facet_label("language", code) for code in item.get("languages", [])],
                links=self._links(item),
                workspace=self._workspace(item),
                dataset=item.get("dataset"),
                dataset_href=http_url((item.get("dataset") or {}).get("url")),
                dataset_size=size_text(item["dataset"]["size_bytes"])
                if (item.get("dataset") or {}).get("size_bytes") is not None
                else None,
                snippet=load_snippet(item["dataset"]) if item.get("dataset") else None,
                video=item.get("video"),
                video_duration=duration_text(item["video"]["duration_seconds"])
                if (item.get("video") or {}).get("duration_seconds")
                else None,
                algorithm=item.get("algorithm"),
                last_run=item.get("last_run"),
                run_text=run_text,
                when=when,
                http_url=http_url,
                rating=item["rating"],
                rating_text=rating_text(item["rating"]),
                can_rate=caller.can_submit and status == "published",
                my_stars=self._my_stars(item["id"]),
                comments=comments,
                can_comment=caller.can_submit,
                jsonld=Markup(script_text(item_jsonld(item, url))),
            )
        )


class FailingPage(PageHandler):
    """The notebooks whose latest run failed, for curators to mend or retire."""

    def show(self) -> None:
        self.require(self.caller.curator, "only curators see the failing notebooks")
        failing = self.failing_notebooks()
        for entry in failing:
            entry["href"] = url_path_join(self.prefix, "items", entry["id"])
            entry["text"] = run_text(entry["last_run"])
        self.finish(self.page("failing.html", failing=failing))


class NotFoundPage(PageHandler):
    def show(self, path: str) -> None:
        raise api.ApiError(404, f"There is no page {self.request.path!r} in the library.")


def handlers(prefix: str) -> list[tuple]:
    def route(path: str) -> str:
        return url_path_join(prefix, path)

    routes = [(prefix.rstrip("/"), web.RedirectHandler, {"url": prefix})] if prefix != "/" else []
    return routes + [
        (route(""), SearchPage),
        (route("items/?"), SearchPage),
        (route("items/([^/]+)"), ItemPage),
        (route("failing"), FailingPage),
        # Anything else under the prefix but the API (whose own handler answers JSON).
        (route("(?!api/)(.+)"), NotFoundPage),
    ]
