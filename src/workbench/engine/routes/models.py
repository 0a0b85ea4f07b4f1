"""``/{v}/models``: the backend's models in the Gemini ``Model`` shape (camelCase, like Google).

The listing is honest about aliases (``aliases.py``): each Gemini name the alias table maps is
its own entry whose ``displayName`` and ``description`` say which local model serves it, and
``baseModelId`` is that model's id. Wildcard rules are named in the served models'
descriptions. ``generateContent`` and the other classic methods are not served; they answer a
clear 404 instead of a bare 405 (``model_method``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from ..aliases import AliasTable
from ..backends.base import Backend, ModelInfo
from ..errors import ApiError, not_found
from .openapi import ERROR_RESPONSES

router = APIRouter()

GENERATION_METHODS = ["createInteraction"]


def model_resource(info: ModelInfo, alias: str | None = None) -> dict[str, Any]:
    """A ``Model`` resource as ``GET /models`` returns it; ``alias`` lists a mapped name."""
    name = alias or info.id
    display = info.display_name
    description = info.description
    if alias is not None:
        display = f"{alias} (served locally by {info.display_name})"
        description = (
            f"Alias: requests for {alias!r} are answered by the local model {info.id!r}; "
            "this is not Google's model."
        )
    return {
        "name": f"models/{name}",
        "baseModelId": info.id,
        "version": "local",
        "displayName": display,
        "description": description,
        "inputTokenLimit": info.input_token_limit,
        "outputTokenLimit": info.output_token_limit,
        "supportedGenerationMethods": list(GENERATION_METHODS),
        "inputModalities": list(info.modalities),
    }


def _aliases(request: Request) -> AliasTable:
    return AliasTable(request.app.state.config.model_aliases)


def served_listing(backend: Backend, table: AliasTable) -> list[dict[str, Any]]:
    """Served models first (with the wildcard rules that land on each), then the aliases."""
    served = backend.models()
    out: list[dict[str, Any]] = []
    for info in served:
        entry = model_resource(info)
        patterns = [p for p, target in table.patterns(served) if target is info]
        if patterns:
            entry["description"] = (
                f"{info.description} Also serves any model name matching {', '.join(patterns)}."
            ).strip()
        out.append(entry)
    out.extend(model_resource(info, alias) for alias, info in table.listed(served))
    return out


def _backend(request: Request) -> Backend:
    backend: Backend = request.app.state.backend
    return backend


@router.get("/models", summary="List the models the engine serves", responses=dict(ERROR_RESPONSES))
async def list_models(request: Request) -> Response:
    return JSONResponse({"models": served_listing(_backend(request), _aliases(request))})


@router.get("/models/{model_id}", summary="Get one model", responses=dict(ERROR_RESPONSES))
async def get_model(request: Request, model_id: str) -> Response:
    wanted = model_id.removeprefix("models/")
    served = _backend(request).models()
    for info in served:
        if info.id == wanted:
            return JSONResponse(model_resource(info))
    target = _aliases(request).target(wanted, served)
    if target is not None and ":" not in wanted:
        return JSONResponse(model_resource(target, wanted))
    raise not_found(f"model {wanted!r} is not served here")


CLASSIC_METHODS = (
    "generateContent",
    "streamGenerateContent",
    "countTokens",
    "embedContent",
    "batchEmbedContents",
    "batchGenerateContent",
    "predict",
    "predictLongRunning",
)


@router.post(
    "/models/{model_method}",
    summary="Classic model methods (not served: a clear error, never 405)",
    responses=dict(ERROR_RESPONSES),
)
async def model_method(request: Request, model_method: str) -> Response:
    model, _, method = model_method.partition(":")
    if not method:
        raise ApiError(
            404, f"POST {request.url.path}: name a method, e.g. models/{model}:generateContent"
        )
    known = method in CLASSIC_METHODS
    what = f"{method!r} is a method of the classic Gemini API" if known else f"{method!r}"
    raise ApiError(
        404,
        f"models/{model}:{method} is not served by the local engine: {what}, and the engine "
        "speaks the Interactions API only. Send POST /v1beta/interactions with "
        f'{{"model": "{model}", "input": ...}} instead (client.interactions.create).',
    )
