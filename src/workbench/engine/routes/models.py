"""``/{v}/models``: the backend's models in the Gemini ``Model`` shape (camelCase, like Google)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from ..backends.base import Backend, ModelInfo
from ..errors import not_found
from .openapi import ERROR_RESPONSES

router = APIRouter()

GENERATION_METHODS = ["createInteraction"]


def model_resource(info: ModelInfo) -> dict[str, Any]:
    """A ``Model`` resource as ``GET /models`` returns it."""
    return {
        "name": f"models/{info.id}",
        "baseModelId": info.id,
        "version": "local",
        "displayName": info.display_name,
        "description": info.description,
        "inputTokenLimit": info.input_token_limit,
        "outputTokenLimit": info.output_token_limit,
        "supportedGenerationMethods": list(GENERATION_METHODS),
        "inputModalities": list(info.modalities),
    }


def _backend(request: Request) -> Backend:
    backend: Backend = request.app.state.backend
    return backend


@router.get("/models", summary="List the models the engine serves", responses=dict(ERROR_RESPONSES))
async def list_models(request: Request) -> Response:
    models = [model_resource(m) for m in _backend(request).models()]
    return JSONResponse({"models": models})


@router.get("/models/{model_id}", summary="Get one model", responses=dict(ERROR_RESPONSES))
async def get_model(request: Request, model_id: str) -> Response:
    wanted = model_id.removeprefix("models/")
    for info in _backend(request).models():
        if info.id == wanted:
            return JSONResponse(model_resource(info))
    raise not_found(f"model {wanted!r} is not served here")
