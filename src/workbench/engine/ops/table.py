"""One SQLite table of JSON resources keyed by id, with the spec's page tokens.

Webhooks, triggers, their executions and credentials are all stored the same way: a row of
``(id, created, resource JSON)`` (plus a few table-specific columns), listed oldest first and
paged with an opaque token holding the last row's ``(created, id)``.
"""

from __future__ import annotations

import base64
import binascii
import json
import sqlite3
from typing import Any

from ..errors import bad_request
from ..store import Store

PAGE_DEFAULT = 50
PAGE_MAX = 1000


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def encode_token(created: str, row_id: str) -> str:
    raw = json.dumps([created, row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> tuple[str, str]:
    """The ``(created, id)`` a page token holds; 400 for anything else."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        created, row_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise bad_request("page_token is not valid") from exc
    if not isinstance(created, str) or not isinstance(row_id, str):
        raise bad_request("page_token is not valid")
    return created, row_id


def page_limit(page_size: int | None) -> int:
    """The page size to use: 50 when unset, at most 1000; 400 when negative."""
    if page_size is not None and page_size < 0:
        raise bad_request("page_size must not be negative")
    return min(page_size or PAGE_DEFAULT, PAGE_MAX)


class ResourceTable:
    """CRUD on one ``(id, created, resource)`` table; ``scope`` narrows rows to a parent."""

    def __init__(self, store: Store, table: str, scope_column: str | None = None) -> None:
        self.store = store
        self.table = table
        self.scope_column = scope_column

    async def insert(
        self, row_id: str, created: str, resource: dict[str, Any], **extra: Any
    ) -> bool:
        """Add a row; False when the id is taken."""
        columns = ["id", "created", "resource", *extra]
        values = [row_id, created, dumps(resource), *extra.values()]
        sql = (
            f"INSERT INTO {self.table} ({', '.join(columns)})"
            f" VALUES ({', '.join('?' for _ in columns)})"
        )

        def do(conn: sqlite3.Connection) -> bool:
            try:
                conn.execute(sql, values)
            except sqlite3.IntegrityError:
                return False
            return True

        return await self.store.call(do)

    async def get(self, row_id: str) -> dict[str, Any] | None:
        def do(conn: sqlite3.Connection) -> dict[str, Any] | None:
            row = conn.execute(
                f"SELECT resource FROM {self.table} WHERE id=?", (row_id,)
            ).fetchone()
            return json.loads(row[0]) if row else None

        return await self.store.call(do)

    async def column(self, row_id: str, name: str) -> Any:
        """One extra column of a row (None when the row is missing)."""

        def do(conn: sqlite3.Connection) -> Any:
            row = conn.execute(f"SELECT {name} FROM {self.table} WHERE id=?", (row_id,)).fetchone()
            return row[0] if row else None

        return await self.store.call(do)

    async def update(self, row_id: str, resource: dict[str, Any], **extra: Any) -> bool:
        """Replace a row's resource (and extra columns); False when it is gone."""
        sets = ", ".join(["resource=?", *(f"{k}=?" for k in extra)])
        values = [dumps(resource), *extra.values(), row_id]

        def do(conn: sqlite3.Connection) -> bool:
            cur = conn.execute(f"UPDATE {self.table} SET {sets} WHERE id=?", values)
            return cur.rowcount > 0

        return await self.store.call(do)

    async def delete(self, row_id: str) -> bool:
        def do(conn: sqlite3.Connection) -> bool:
            return conn.execute(f"DELETE FROM {self.table} WHERE id=?", (row_id,)).rowcount > 0

        return await self.store.call(do)

    async def delete_scope(self, scope: str) -> int:
        """Remove every row of one parent (a deleted trigger's executions)."""
        if self.scope_column is None:
            raise ValueError(f"{self.table} has no scope column")
        sql = f"DELETE FROM {self.table} WHERE {self.scope_column}=?"

        def do(conn: sqlite3.Connection) -> int:
            return int(conn.execute(sql, (scope,)).rowcount)

        return await self.store.call(do)

    async def all(self) -> list[dict[str, Any]]:
        """Every resource, oldest first (for the scheduler and delivery fan-out)."""

        def do(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            cur = conn.execute(f"SELECT resource FROM {self.table} ORDER BY created, id")
            return [json.loads(r) for (r,) in cur.fetchall()]

        return await self.store.call(do)

    async def page(
        self,
        page_size: int | None,
        page_token: str | None,
        scope: str | None = None,
        newest_first: bool = False,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page (oldest first unless asked) and the next page's token (None at the end)."""
        size = page_limit(page_size)
        after = decode_token(page_token) if page_token else None
        where: list[str] = []
        args: list[Any] = []
        if self.scope_column is not None:
            where.append(f"{self.scope_column}=?")
            args.append(scope)
        if after is not None:
            where.append("(created, id) < (?, ?)" if newest_first else "(created, id) > (?, ?)")
            args.extend(after)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        order = "created DESC, id DESC" if newest_first else "created, id"
        sql = f"SELECT created, id, resource FROM {self.table}{clause} ORDER BY {order} LIMIT ?"

        def do(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
            return list(conn.execute(sql, (*args, size + 1)).fetchall())

        rows = await self.store.call(do)
        page = rows[:size]
        token = encode_token(page[-1][0], page[-1][1]) if len(rows) > size and page else None
        return [json.loads(r) for _, _, r in page], token
