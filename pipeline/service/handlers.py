"""Exception handlers: every error leaves the API as a JSON :class:`ErrorBody` with a 4xx
(or a 503 when the server cannot serve); nothing leaks a traceback."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from pipeline.errors import SequentError
from pipeline.service.errors import retry_after, status_of
from pipeline.service.models import ErrorBody

log = logging.getLogger(__name__)

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
}


def error_response(
    status: int, code: str, detail: str, *, retry_after_s: float | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(error=code, detail=detail, retry_after_s=retry_after_s)
    extra = dict(headers or {})
    if retry_after_s is not None:
        extra["Retry-After"] = str(max(1, round(retry_after_s)))
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=extra)


async def _sequent(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, SequentError):
        raise exc
    status, code = status_of(exc)
    if status >= 500:
        log.warning("%s %s: %s", request.method, request.url.path, exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return error_response(status, code, str(exc), retry_after_s=retry_after(exc), headers=headers)


def _describe(errors: Any) -> str:
    parts = []
    for err in jsonable_encoder(errors)[:10]:
        loc = ".".join(str(x) for x in err.get("loc", ()) if x != "body")
        parts.append(f"{loc or 'body'}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):
        raise exc
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(400, "malformed_json", "the request body is not valid JSON")
    return error_response(422, "invalid_input", _describe(errors))


async def _http(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, StarletteHTTPException):
        raise exc
    code = _CODES.get(exc.status_code, "error" if exc.status_code < 500 else "internal")
    return error_response(exc.status_code, code, str(exc.detail), headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "internal", "internal error; the server log has the details")


def install(app: FastAPI) -> None:
    app.add_exception_handler(SequentError, _sequent)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)


__all__ = ["error_response", "install"]
