"""XXGK_WEB_TOKEN: every request but /healthz, /login and /static carries it, as `Authorization: Bearer`
or as the cookie the login form sets."""

from __future__ import annotations

import hmac
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

COOKIE = "xxgk_token"
OPEN = ("/healthz", "/login", "/static/")
router = APIRouter(include_in_schema=False)


def _given(request: Request) -> str:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(COOKIE, "")


def protect(app: FastAPI, token: str) -> None:
    app.state.token = token

    @app.middleware("http")
    async def require_token(request: Request, call_next):
        path = request.url.path
        if path.startswith(OPEN) or hmac.compare_digest(_given(request).encode(), token.encode()):
            return await call_next(request)
        if path.startswith(("/api/", "/metrics")):
            return JSONResponse(
                {"detail": "a token is needed: Authorization: Bearer XXGK_WEB_TOKEN"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        target = path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else "/"


@router.get("/login")
def login_form(request: Request, next: str = "/", failed: bool = False) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(
        request, "login.html", {"next": _safe_next(next), "failed": failed}
    )


@router.post("/login")
def login(request: Request, token: str = Form(...), next: str = Form("/")):
    expected = getattr(request.app.state, "token", None)
    if expected is None:
        return RedirectResponse(_safe_next(next), status_code=303)
    if not hmac.compare_digest(token.encode(), expected.encode()):
        return RedirectResponse(f"/login?failed=1&next={quote(_safe_next(next))}", status_code=303)
    resp = RedirectResponse(_safe_next(next), status_code=303)
    resp.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https")
    return resp
