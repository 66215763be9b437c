"""Querysets compiled to SQL once, then run with new values: for the hottest fixed queries.

Building and compiling a queryset costs far more than the database takes to answer a small
indexed lookup: a chat socket's handshake spent ~4x longer in the ORM compiling "the peer,
their roles, and whether the two share an active link" than in everything else, and the
token lookup of an API request is the same story (issue 13). A `PreparedQuery` is written with
the ORM as usual (the one definition: joins, dialects, quoting all Django's), compiled on
first use per database connection with sample values standing for the parameters, and then
run as that SQL with the real values, rows turned into model instances the way Django's
ModelIterable does (the backend's converters, annotations as attributes).

For querysets of model instances (`fetch`) or of `.values(...)` rows (`values`), whose
parameters are all values passed in (a LIMIT or a slice is part of the SQL: one PreparedQuery
per distinct slice). A sample value that does not come out as exactly one kind of parameter is
refused when compiling, never guessed.

A `PreparedInsert` does the same for `instance.save()` of a new row: Django's own INSERT ...
RETURNING, compiled once, run with the values Django would send (each field's pre_save, then
its get_db_prep_save), between the same pre_save and post_save signals.

Both run on a database cursor kept per connection (`kept_cursor`), not a new one per query.
A psycopg cursor makes a loader for each type of result column the first time it sees it
(Django's timestamptz loader is a Python class); on a new cursor every query did that again,
~60 µs of a ~220 µs indexed lookup on PostgreSQL, and the sockets' database thread makes two
such lookups per chat handshake. The cursor is made again when its connection was replaced.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable, ValuesIterable
from django.db.models.signals import post_save, pre_save
from django.db.models.sql import InsertQuery, Query
from django.db.models.sql.compiler import SQLCompiler

# Per connection object: (the database driver's connection, a cursor of it).
_cursors: weakref.WeakKeyDictionary[BaseDatabaseWrapper, tuple[Any, Any]] = (
    weakref.WeakKeyDictionary()
)


def kept_cursor(connection: BaseDatabaseWrapper) -> Any:
    """A cursor for `connection`, wrapped as `connection.cursor()` wraps one (errors turned into
    Django's, queries logged when they are), on a driver cursor kept between calls. Not to be
    closed: the next call reuses it."""
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    driver = connection.connection
    kept = _cursors.get(connection)
    if kept is None or kept[0] is not driver:
        with connection.wrap_database_errors:
            kept = _cursors[connection] = (driver, connection.create_cursor())
    connection.validate_thread_sharing()
    if connection.queries_logged:
        return connection.make_debug_cursor(kept[1])
    return connection.make_cursor(kept[1])


@dataclass(frozen=True)
class _Compiled:
    sql: str
    slots: tuple[tuple[bool, Any], ...]  # (True, name) for a value passed in, (False, constant)
    query: Query
    select: list[Any]  # the compiled SELECT's expressions, in column order
    model: type[Model] | None  # None for a `.values()` queryset
    start: int
    end: int
    init_list: list[str]
    annotations: dict[str, int]
    names: tuple[str, ...] | None  # a `.values()` queryset's keys, in column order


class PreparedQuery[M: Model]:
    """`build(**samples)` returns the queryset; `fetch(**values)` runs it with `values` (model
    instances), or `values(**values)` for a `.values(...)` queryset (dicts, as Django gives).

    The SQL is compiled once per database alias (every connection of an alias speaks the same
    dialect; under ASGI a request may get a connection object of its own), the backend's
    converters are looked up once per connection object (cheap).
    """

    def __init__(self, build: Callable[..., QuerySet[M]], **samples: Any) -> None:
        self.build = build
        self.samples = samples
        self._compiled: dict[str, _Compiled] = {}
        self._converters: weakref.WeakKeyDictionary[
            BaseDatabaseWrapper, tuple[SQLCompiler, dict[int, Any]]
        ] = weakref.WeakKeyDictionary()

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
        query = compiler.query
        select = [column[0] for column in compiler.select]
        klass_info = compiler.klass_info
        if queryset._iterable_class is ValuesIterable:
            # The keys Django's ValuesIterable gives, in the same order as the columns.
            names = (*query.extra_select, *query.values_select, *query.annotation_select)
            return _Compiled(sql, tuple(slots), query, select, None, 0, 0, [], {}, names)
        if queryset._iterable_class is not ModelIterable or not klass_info:
            raise ImproperlyConfigured("A PreparedQuery returns model instances or .values().")
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        return _Compiled(
            sql=sql,
            slots=tuple(slots),
            query=query,
            select=select,
            model=klass_info["model"],
            start=start,
            end=end,
            init_list=[column[0].target.attname for column in compiler.select[start:end]],
            annotations=dict(compiler.annotation_col_map),
            names=None,
        )

    def _rows(self, using: str, values: dict[str, Any]) -> tuple[_Compiled, list[Any]]:
        connection = connections[using]
        compiled = self._compiled.get(using)
        if compiled is None:
            compiled = self._compiled[using] = self._compile(connection)
        convert = self._converters.get(connection)
        if convert is None:
            compiler = connection.ops.compiler("SQLCompiler")(compiled.query, connection, using)
            convert = self._converters[connection] = (
                compiler,
                compiler.get_converters(compiled.select),
            )
        params = [values[value] if named else value for named, value in compiled.slots]
        cursor = kept_cursor(connection)
        cursor.execute(compiled.sql, params)
        rows: Any = cursor.fetchall()
        compiler, converters = convert
        if converters:
            rows = list(compiler.apply_converters(rows, converters))
        return compiled, rows

    def fetch(self, using: str = DEFAULT_DB_ALIAS, **values: Any) -> list[M]:
        compiled, rows = self._rows(using, values)
        if compiled.model is None:
            raise ImproperlyConfigured("This PreparedQuery gives values: call values().")
        found = []
        for row in rows:
            instance = compiled.model.from_db(
                using, compiled.init_list, row[compiled.start : compiled.end]
            )
            for name, position in compiled.annotations.items():
                setattr(instance, name, row[position])
            found.append(instance)
        return found

    def values(self, using: str = DEFAULT_DB_ALIAS, **values: Any) -> list[dict[str, Any]]:
        compiled, rows = self._rows(using, values)
        if compiled.names is None:
            raise ImproperlyConfigured("This PreparedQuery gives model instances: call fetch().")
        return [dict(zip(compiled.names, row, strict=True)) for row in rows]


@dataclass(frozen=True)
class _CompiledInsert:
    sql: str
    compiler: SQLCompiler  # applies the converters
    converters: dict[int, Any]  # the returned columns' (the same for every connection of an alias)


class PreparedInsert[M: Model]:
    """`save(instance)` stores a new instance as `instance.save()` would: the pre_save signal,
    each field's pre_save (auto_now, defaults), INSERT ... RETURNING the database's values
    (the id), the instance marked as saved, the post_save signal (created=True); a database
    error marks an enclosing atomic block for rollback, as save() does.

    For a plain model (no parents, no order_with_respect_to, no generated field and no
    db_default: refused when made); a value that is an expression goes through save() itself.
    Unlike save(), it does not check that related instances were saved first: their ids are
    NULL then, which the NOT NULL foreign keys refuse (IntegrityError).
    """

    def __init__(self, model: type[M]) -> None:
        meta = model._meta
        unsupported = (
            meta.proxy
            or meta.parents
            or meta.order_with_respect_to
            or meta.auto_field is None
            or any(f.generated or f.has_db_default() for f in meta.local_concrete_fields)
        )
        if unsupported:
            raise ImproperlyConfigured(f"A PreparedInsert cannot store {meta.label} rows.")
        self.model = model
        self.fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field]
        self.returning = list(meta.db_returning_fields)
        self._compiled: dict[str, _CompiledInsert] = {}

    def _compile(self, using: str, connection: BaseDatabaseWrapper) -> _CompiledInsert:
        if not connection.features.can_return_columns_from_insert:
            raise ImproperlyConfigured(f"{connection.vendor} cannot return inserted columns.")
        query = InsertQuery(self.model)
        query.insert_values(self.fields, [self.model()])
        compiler = query.get_compiler(using=using, connection=connection)
        compiler.returning_fields = self.returning
        [(sql, _params)] = compiler.as_sql()
        if compiler.returning_params:
            raise ImproperlyConfigured(f"{connection.vendor} binds returned columns.")
        columns = [field.get_col(self.model._meta.db_table) for field in self.returning]
        return _CompiledInsert(sql, compiler, compiler.get_converters(columns))

    def save(self, instance: M, using: str | None = None) -> None:
        if not instance._state.adding or instance.pk is not None:
            raise ValueError("A PreparedInsert stores new instances only.")
        using = using or router.db_for_write(self.model, instance=instance)
        if any(hasattr(getattr(instance, f.attname), "resolve_expression") for f in self.fields):
            instance.save(using=using)  # an F() or a function: Django resolves it in SQL
            return
        connection = connections[using]
        pre_save.send(
            sender=self.model, instance=instance, raw=False, using=using, update_fields=None
        )
        values = [field.pre_save(instance, True) for field in self.fields]
        compiled = self._compiled.get(using)
        if compiled is None:
            compiled = self._compiled[using] = self._compile(using, connection)
        params = [
            field.get_db_prep_save(value, connection)
            for field, value in zip(self.fields, values, strict=True)
        ]
        with transaction.mark_for_rollback_on_error(using):
            cursor = kept_cursor(connection)
            cursor.execute(compiled.sql, params)
            rows: Any = connection.ops.fetch_returned_rows(cursor, ())
        if compiled.converters:
            rows = list(compiled.compiler.apply_converters(rows, compiled.converters))
        for field, value in zip(self.returning, rows[0], strict=True):
            setattr(instance, field.attname, value)
        instance._state.db = using
        instance._state.adding = False
        post_save.send(
            sender=self.model,
            instance=instance,
            created=True,
            update_fields=None,
            raw=False,
            using=using,
        )
