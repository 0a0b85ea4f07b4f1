"""``/{v}/credentials``: credentials — create, list, get, update, delete (no secret ever sent)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from ..ops.credentials import Credentials
from .agents import page_size, page_token
from .interactions import json_body

router = APIRouter()


def _creds(request: Request) -> Credentials:
    creds: Credentials = request.app.state.credentials
    return creds


@router.post("/credentials", summary="Create a credential")
async def create_credential(request: Request) -> Response:
    return JSONResponse(await _creds(request).create(await json_body(request)))


@router.get("/credentials", summary="List credentials")
async def list_credentials(request: Request) -> Response:
    return JSONResponse(await _creds(request).list(page_size(request), page_token(request)))


@router.get("/credentials/{credential_id}", summary="Get a credential's metadata")
async def get_credential(request: Request, credential_id: str) -> Response:
    return JSONResponse(await _creds(request).get(credential_id))


@router.patch("/credentials/{credential_id}", summary="Update a credential")
async def update_credential(request: Request, credential_id: str) -> Response:
    mask = request.query_params.get("update_mask") or request.query_params.get("updateMask")
    body = await json_body(request)
    return JSONResponse(await _creds(request).update(credential_id, body, mask))


@router.delete("/credentials/{credential_id}", summary="Delete a credential")
async def delete_credential(request: Request, credential_id: str) -> Response:
    await _creds(request).delete(credential_id)
    return JSONResponse({})
