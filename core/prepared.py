"""Querysets compiled to SQL once, then run with new values: for the hottest fixed queries.

Building and compiling a queryset costs far more than the database takes to answer a small
indexed lookup: a chat socket's handshake spent ~4x longer in the ORM compiling "the peer,
their roles, and whether the two share an active link" than in everything else, and the
token lookup of an API request is the same story (issue 13). A `PreparedQuery` is written with
the ORM as usual (the one definition: joins, dialects, quoting all Django's), compiled on
first use per database connection with sample values standing for the parameters, and then
run as that SQL with the real values, rows turned into model instances the way Django's
ModelIterable does (the backend's converters, annotations as attributes).

Only for querysets of model instances whose parameters are all values passed in (a LIMIT or a
slice is part of the SQL: one PreparedQuery per distinct slice). A sample value that does not
come out as exactly one kind of parameter is refused when compiling, never guessed.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model, QuerySet
from django.db.models.sql.compiler import SQLCompiler


@dataclass(frozen=True)
class _Compiled:
    sql: str
    slots: tuple[tuple[bool, Any], ...]  # (True, name) for a value passed in, (False, constant)
    compiler: SQLCompiler
    converters: dict[int, Any]
    model: type[Model]
    start: int
    end: int
    init_list: list[str]
    annotations: dict[str, int]


class PreparedQuery[M: Model]:
    """`build(**samples)` returns the queryset; `fetch(**values)` runs it with `values`."""

    def __init__(self, build: Callable[..., QuerySet[M]], **samples: Any) -> None:
        self.build = build
        self.samples = samples
        self._compiled: weakref.WeakKeyDictionary[BaseDatabaseWrapper, _Compiled] = (
            weakref.WeakKeyDictionary()
        )

    def _compile(self, connection: BaseDatabaseWrapper) -> _Compiled:
        queryset = self.build(**self.samples)
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        slots = []
        for param in params:
            names = [
                name
                for name, sample in self.samples.items()
                if type(sample) is type(param) and sample == param
            ]
            if len(names) > 1:
                raise ImproperlyConfigured(f"Samples {names} are equal: give distinct ones.")
            slots.append((True, names[0]) if names else (False, param))
        unused = set(self.samples) - {value for named, value in slots if named}
        if unused:
            raise ImproperlyConfigured(f"Samples {sorted(unused)} are not parameters of {sql}")
        klass_info = compiler.klass_info
        if not klass_info:
            raise ImproperlyConfigured("A PreparedQuery returns model instances.")
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        return _Compiled(
            sql=sql,
            slots=tuple(slots),
            compiler=compiler,
            converters=compiler.get_converters([column[0] for column in compiler.select]),
            model=klass_info["model"],
            start=start,
            end=end,
            init_list=[column[0].target.attname for column in compiler.select[start:end]],
            annotations=dict(compiler.annotation_col_map),
        )

    def fetch(self, using: str = DEFAULT_DB_ALIAS, **values: Any) -> list[M]:
        connection = connections[using]
        compiled = self._compiled.get(connection)
        if compiled is None:
            compiled = self._compiled[connection] = self._compile(connection)
        params = [values[value] if named else value for named, value in compiled.slots]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows: Any = cursor.fetchall()
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
        found = []
        for row in rows:
            instance = compiled.model.from_db(
                using, compiled.init_list, row[compiled.start : compiled.end]
            )
            for name, position in compiled.annotations.items():
                setattr(instance, name, row[position])
            found.append(instance)
        return found
