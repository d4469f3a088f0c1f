"""Web users: a name, an Argon2 password hash, a role, a language and the productions they belong to.

Roles: the coordinator sees everything; a technician sees the plan of their productions and their own
session reports, never money; a producer reads the overview, quotes and overrun statements of theirs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from config.errors import PostprodError
from store.tables import web_users

LANGUAGES = ("fr", "en")
_hasher = PasswordHasher()


class Role(StrEnum):
    COORDINATOR = "coordinator"
    TECHNICIAN = "technician"
    PRODUCER = "producer"


class UserError(PostprodError):
    """A user that cannot be made or found (exit code 2)."""


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    language: str
    productions: tuple[str, ...]

    def can_see(self, production: str) -> bool:
        return self.role is Role.COORDINATOR or production in self.productions

    @property
    def sees_money(self) -> bool:
        return self.role is not Role.TECHNICIAN

    @property
    def can_write_reports(self) -> bool:
        return self.role in (Role.COORDINATOR, Role.TECHNICIAN)

    @property
    def reviews_reports(self) -> bool:
        return self.role is Role.COORDINATOR

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "role": self.role.value, "language": self.language,
                "productions": list(self.productions)}


def _user(row) -> User:  # noqa: ANN001 - a SQLAlchemy row
    return User(name=row.name, role=Role(row.role), language=row.language,
                productions=tuple(json.loads(row.productions or "[]")))


class Users:
    """The web users of one database (the engine is the planning store's)."""

    def __init__(self, engine) -> None:  # noqa: ANN001
        self.engine = engine

    def add(self, name: str, password: str, role: Role, *, language: str = "fr",
            productions: list[str] | None = None) -> User:
        name = name.strip()
        if not name or len(name) > 200:
            raise UserError("a user name must be 1 to 200 characters")
        if language not in LANGUAGES:
            raise UserError(f"unknown language '{language}'; available: {', '.join(LANGUAGES)}")
        if len(password) < 8:
            raise UserError(f"the password of '{name}' must be at least 8 characters")
        if role is not Role.COORDINATOR and not productions:
            raise UserError(f"a {role.value} belongs to at least one production (--production NAME)")
        try:
            with self.engine.begin() as conn:
                conn.execute(web_users.insert().values(
                    name=name, password_hash=_hasher.hash(password), role=role.value, language=language,
                    productions=json.dumps(sorted(set(productions or []))), created_at=datetime.now(UTC)))
        except IntegrityError:
            raise UserError(f"user '{name}' exists already") from None
        return self.get(name)  # type: ignore[return-value]

    def get(self, name: str) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(web_users).where(web_users.c.name == name)).first()
        return _user(row) if row else None

    def all(self) -> list[User]:
        with self.engine.connect() as conn:
            return [_user(r) for r in conn.execute(select(web_users).order_by(web_users.c.name))]

    def remove(self, name: str) -> None:
        with self.engine.begin() as conn:
            if not conn.execute(delete(web_users).where(web_users.c.name == name)).rowcount:
                raise UserError(f"no user '{name}'")

    def set_password(self, name: str, password: str) -> None:
        if len(password) < 8:
            raise UserError(f"the password of '{name}' must be at least 8 characters")
        with self.engine.begin() as conn:
            done = conn.execute(update(web_users).where(web_users.c.name == name)
                                .values(password_hash=_hasher.hash(password))).rowcount
        if not done:
            raise UserError(f"no user '{name}'")

    def authenticate(self, name: str, password: str) -> User | None:
        """The user if the password is theirs; None otherwise (the same time spent for an unknown name)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(web_users).where(web_users.c.name == name)).first()
        stored = row.password_hash if row else _DUMMY
        try:
            _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        if _hasher.check_needs_rehash(stored):
            with self.engine.begin() as conn:
                conn.execute(update(web_users).where(web_users.c.name == name)
                             .values(password_hash=_hasher.hash(password)))
        return _user(row)


_DUMMY = _hasher.hash("not a password of anyone")
