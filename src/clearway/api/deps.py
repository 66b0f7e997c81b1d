"""Request dependencies: the services, the caller, and bounded body reading."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Annotated, TypeVar

import msgspec
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from clearway.kernel.decimals import decimal_problem
from clearway.kernel.errors import ClearwayError, Forbidden, InvalidInput, Problem, Unauthorized
from clearway.kernel.strict_json import depth_problem, json_problems
from clearway.storage.repository import Principal
from clearway.wiring.services import Services

T = TypeVar("T")
KEY_CACHE_SECONDS = 30.0


class PayloadTooLarge(ClearwayError):
    problem_type = "payload-too-large"
    status = 413


class UnsupportedMediaType(ClearwayError):
    problem_type = "unsupported-media-type"
    status = 415


class Malformed(ClearwayError):
    problem_type = "malformed"
    status = 400


async def services(request: Request) -> Services:
    # async: FastAPI runs a plain function dependency in a worker thread, a hop per request
    svc: Services = request.app.state.services
    return svc


ServicesDep = Annotated[Services, Depends(services)]


def principal(request: Request, svc: ServicesDep) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key:
        raise Unauthorized("send Authorization: Bearer <API key>")
    # Keys are checked against the database at most every KEY_CACHE_SECONDS, so a revoked key
    # stops working within that time without a database read on every request.
    cache: dict[str, tuple[Principal, float]] = request.app.state.key_cache
    now = time.monotonic()
    hit = cache.get(key)
    if hit is not None and hit[1] > now:
        return hit[0]
    who = svc.operators.authenticate(key.strip())
    if who is None:
        cache.pop(key, None)
        raise Unauthorized("unknown or revoked API key")
    if len(cache) > 10_000:
        cache.clear()
    cache[key] = (who, now + KEY_CACHE_SECONDS)
    return who


async def current_principal(request: Request, svc: ServicesDep) -> Principal:
    """The caller, as a dependency: a key checked in the last KEY_CACHE_SECONDS answers at once,
    in the event loop; only a key to look up goes to a worker thread (a database read)."""
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    hit = request.app.state.key_cache.get(key) if scheme.lower() == "bearer" and key else None
    if hit is not None and hit[1] > time.monotonic():
        cached: Principal = hit[0]
        return cached
    return await run_in_threadpool(principal, request, svc)


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require(who: Principal, *roles: str) -> None:
    if who.role not in roles and who.role != "admin":
        raise Forbidden(f"this call needs one of the roles: {', '.join(roles)}")


JSON_TYPES = ("application/json",)


async def read_body(request: Request, limit: int, accept: tuple[str, ...] = JSON_TYPES) -> bytes:
    """The request body, refusing wrong content types and bodies over `limit` bytes."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in accept and not (ctype.endswith("+json") and "application/json" in accept):
        raise UnsupportedMediaType(f"expected {' or '.join(accept)}, got {ctype or 'nothing'}")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body of {declared} bytes is over the {limit} byte limit")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body is over the {limit} byte limit")
        chunks.append(chunk)
    body = b"".join(chunks)
    if ctype == "application/json" or ctype.endswith("+json"):
        deep = depth_problem(body)  # before any recursive decoder sees it
        if deep is not None:
            raise Malformed(deep.message, [deep])
    return body


def number_problems(value: object, path: str = "") -> list[Problem]:
    """NaN, sNaN, infinities and absurd magnitudes anywhere in a decoded request."""
    if isinstance(value, Decimal):
        refused = decimal_problem(value, negative=True)
        return [] if refused is None else [Problem(path or "/", refused.code, refused.detail)]
    if isinstance(value, msgspec.Struct):
        return [
            p
            for f in value.__struct_fields__
            for p in number_problems(getattr(value, f), f"{path}/{f}")
        ]
    if isinstance(value, list | tuple):
        return [p for i, v in enumerate(value) for p in number_problems(v, f"{path}/{i}")]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in number_problems(v, f"{path}/{k}")]
    return []


def decode_as(body: bytes, kind: type[T]) -> T:
    """Decode JSON into a request struct; every problem becomes a 4xx."""
    strict = json_problems(body, kind)
    if strict:
        raise InvalidInput(strict)
    try:
        decoded = msgspec.json.decode(body, type=kind)
    except msgspec.ValidationError as exc:
        path = str(exc).rsplit("at `$", 1)
        where = (
            "/"
            + path[1].rstrip("`").lstrip(".").replace(".", "/").replace("[", "").replace("]", "")
            if len(path) == 2
            else "/"
        )
        raise InvalidInput([Problem(where, "type", str(exc))]) from exc
    except msgspec.DecodeError as exc:
        raise Malformed(f"not valid JSON: {exc}") from exc
    problems = number_problems(decoded)
    if problems:
        raise InvalidInput(problems)
    return decoded
