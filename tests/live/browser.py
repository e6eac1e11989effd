"""A plain HTTP client for the soak script and the benchmark: one person's browser (a
keep-alive connection, cookies, the CSRF token of the page it just read), and the figures
of many of them."""

import html
import http.client
import re
import statistics
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urljoin, urlsplit

# What every answer from MesoChart must carry, error pages included.
SECURITY_HEADERS = (
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
)
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Answer:
    status: int  # 0: no answer (connection refused, reset, timed out)
    headers: dict[str, str]
    body: str
    seconds: float
    content: bytes = b""  # the body as received (a photo, a PDF)

    @property
    def location(self) -> str:
        return self.headers.get("location", "")

    @property
    def secured(self) -> bool:
        return all(name.lower() in self.headers for name in SECURITY_HEADERS)

    @property
    def shows_traceback(self) -> bool:
        return "Traceback" in self.body or 'File "/' in self.body

    def csrf_token(self) -> str:
        found = CSRF_FIELD.search(self.body)
        if found is None:
            raise AssertionError(f"no CSRF token on the page (HTTP {self.status})")
        return html.unescape(found.group(1))


class Browser:
    """Requests are sent one at a time, as a person's browser tab does."""

    def __init__(self, port: int, figures: "Figures | None" = None, timeout: float = 30):
        self.port = port
        self.figures = figures
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self._conn: http.client.HTTPConnection | None = None

    def copy(self, figures: "Figures | None" = None) -> "Browser":
        """Another tab of the same signed-in browser."""
        other = Browser(self.port, figures, self.timeout)
        other.cookies = dict(self.cookies)
        return other

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def post(self, path: str, fields: dict, token: str) -> Answer:
        return self.request("POST", path, {**fields, "csrfmiddlewaretoken": token})

    def upload(self, path: str, fields: dict, files: dict, token: str) -> Answer:
        """A multipart form post; `files` maps a field to (file name, content type, bytes)."""
        return self.request("POST", path, {**fields, "csrfmiddlewaretoken": token}, files)

    def request(
        self, method: str, path: str, fields: dict | None = None, files: dict | None = None
    ) -> Answer:
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if files is not None:
            body, headers["Content-Type"] = _multipart(fields or {}, files)
        elif fields is not None:
            body = urlencode(fields, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        reused = self._conn is not None
        try:
            try:
                response = self._send(method, path, body, headers)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection as we reused it, before
                # reading the request: a browser sends it again on a new one, and so do we.
                self.close()
                if not reused:
                    raise
                response = self._send(method, path, body, headers)
            content = response.read()
            answer = Answer(
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
                content.decode("utf-8", "replace"),
                time.perf_counter() - started,
                content,
            )
            self._keep_cookies(response.msg.get_all("Set-Cookie") or [])
            if response.will_close:
                self.close()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            answer = Answer(0, {}, f"{type(exc).__name__}: {exc}", time.perf_counter() - started)
        if self.figures is not None:
            self.figures.add(method, path, answer)
        return answer

    def _send(self, method, path, body, headers) -> http.client.HTTPResponse:
        if self._conn is None:
            self._conn = http.client.HTTPConnection("127.0.0.1", self.port, self.timeout)
        self._conn.request(method, path, body=body, headers=headers)
        return self._conn.getresponse()

    def _keep_cookies(self, lines: list[str]) -> None:
        for line in lines:
            for name, morsel in SimpleCookie(line).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    for name, (filename, content_type, data) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
        )
        parts.append(head.encode() + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def sign_in(browser: Browser, username: str, password: str, code: str | None) -> None:
    """Through the pages: the password, then the authenticator's code. With a code the
    second step must be asked for; without one (REQUIRE_2FA off, a practitioner) it must not."""
    token = browser.get("/accounts/login/").csrf_token()
    answer = browser.post("/accounts/login/", {"username": username, "password": password}, token)
    assert answer.status == 302, f"sign-in of {username}: HTTP {answer.status}"
    if code is not None:
        page = browser.get("/")
        assert page.status == 302 and "/accounts/2fa/" in page.location, (
            f"{username} was not asked for a code: HTTP {page.status} {page.location}"
        )
        second = urlsplit(page.location)
        path = f"{second.path}?{second.query}"
        answer = browser.post(path, {"code": code}, browser.get(path).csrf_token())
        assert answer.status == 302, f"code of {username} refused: HTTP {answer.status}"
    assert browser.get("/").status == 200, f"{username} is not signed in"


def links(page: Answer, base: str) -> set[str]:
    """Same-site pages linked from `page` (no static files, console or sign-out)."""
    found = set()
    for href in re.findall(r'href="([^"#]+)', page.body):
        url = urlsplit(urljoin(base, html.unescape(href)))
        if url.netloc and url.netloc != urlsplit(base).netloc:
            continue
        if url.path.startswith(("/static/", "/admin/", "/accounts/logout")):
            continue
        found.add(f"{url.path}?{url.query}" if url.query else url.path)
    return found


@dataclass
class Figures:
    """Every answer of one phase: counts, statuses and latencies, safe across threads."""

    started: float = field(default_factory=time.perf_counter)
    stopped: float | None = None
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    unsecured: list[str] = field(default_factory=list)  # error answers without the headers
    tracebacks: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)  # 4xx: a page the client should reach
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, method: str, path: str, answer: Answer) -> None:
        with self._lock:
            self.statuses[answer.status] = self.statuses.get(answer.status, 0) + 1
            self.latencies.append(answer.seconds)
            what = f"{method} {path} -> {answer.status}"
            if answer.status and not answer.secured:
                self.unsecured.append(what)
            if answer.shows_traceback:
                self.tracebacks.append(what)
            if answer.status >= 500 or answer.status == 0:
                self.server_errors.append(what)
            elif answer.status >= 400:
                self.unexpected.append(f"{what}: {answer.body[:200]!r}")

    def stop(self) -> None:
        self.stopped = time.perf_counter()

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def errors(self) -> int:
        """Answers that are no page and no redirect: 4xx, 5xx, or none at all."""
        return sum(n for status, n in self.statuses.items() if status >= 400 or status == 0)

    def count(self, status: int) -> int:
        return self.statuses.get(status, 0)

    @property
    def status_5xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def summary(self) -> str:
        seconds = (self.stopped or time.perf_counter()) - self.started
        ordered = sorted(self.latencies) or [0.0]
        p95 = ordered[max(int(len(ordered) * 0.95) - 1, 0)]
        statuses = ", ".join(f"{s or 'none'}: {n}" for s, n in sorted(self.statuses.items()))
        return (
            f"{self.requests} requests in {seconds:.1f} s ({self.requests / seconds:.1f} req/s), "
            f"{self.errors} errors, {self.status_5xx} 5xx; "
            f"p50 {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms "
            f"[{statuses}]"
        )
