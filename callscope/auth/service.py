"""Users, roles, API keys and login sessions.

Passwords are hashed with argon2id (argon2-cffi). API keys (``cs_<id>_<secret>``) and
session tokens are 256-bit random values; only their SHA-256 is stored, so a copy of the
database reveals no usable credential. Session cookies carry the token signed with the
server secret (itsdangerous) and expire server-side.

Roles::
    admin       everything, including users, deleting calls and reindexing
    reviewer    uploads, QA scorecards, FAQ review and publishing; sees unredacted text
    read-only   reads everything, transcripts redacted of PII
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import stat
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, TimestampSigner
from sqlalchemy import delete, func, select

from callscope.auth.tables import ApiKeyRow, SessionRow, UserRow
from callscope.context import Context
from callscope.db import transaction, utcnow
from callscope.errors import ConfigError, NotFoundError, StorageError
from callscope.settings import Settings

log = logging.getLogger(__name__)

SESSION_TTL = timedelta(hours=12)
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@\-]{0,63}$")
_KEY = re.compile(r"^cs_([a-z0-9]{8})_([A-Za-z0-9_\-]{20,})$")
MIN_PASSWORD_LEN = 10
MIN_PASSWORD_SCORE = 3  # zxcvbn score 0-4; 3 = more than 10^8 guesses (not a common password or pattern)

_hasher = PasswordHasher()


class UserRole(StrEnum):
    ADMIN = "admin"
    REVIEWER = "reviewer"
    READ_ONLY = "read-only"

    @classmethod
    def parse(cls, value: str) -> UserRole:
        """``read-only``, ``readonly`` and ``read_only`` all name the same role.

        Raises:
            ConfigError: not a role.
        """
        norm = value.strip().lower().replace("_", "-")
        if norm == "readonly":
            norm = "read-only"
        try:
            return cls(norm)
        except ValueError:
            raise ConfigError(f"unknown role {value!r}: use one of {', '.join(r.value for r in cls)}") from None

    @property
    def can_edit(self) -> bool:
        """Upload, score calls, edit and publish FAQ entries."""
        return self in (UserRole.ADMIN, UserRole.REVIEWER)

    @property
    def sees_pii(self) -> bool:
        return self in (UserRole.ADMIN, UserRole.REVIEWER)


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    role: UserRole
    created_at: datetime | None = None


class AuthError(Exception):
    """Wrong credentials (deliberately vague: never says which part was wrong)."""


# ----------------------------------------------------------------------- passwords


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _check_password(password: str, username: str | None = None) -> None:
    """Reject short passwords, common ones (zxcvbn's list of 30,000) and easy patterns
    (keyboard walks, repeats, dates, the user's own name).

    Raises:
        ConfigError: saying why and what to use instead.
    """
    if len(password) < MIN_PASSWORD_LEN:
        raise ConfigError(f"the password is too short: use at least {MIN_PASSWORD_LEN} characters")
    from zxcvbn import zxcvbn

    result = zxcvbn(password[:72], user_inputs=[u for u in (username, "callscope") if u])
    if result["score"] < MIN_PASSWORD_SCORE:
        warning = (result.get("feedback") or {}).get("warning") or "it is easy to guess"
        raise ConfigError(
            f"the password is too common or too easy to guess ({warning.rstrip('.').lower()}); "
            "use a passphrase of three or four unrelated words"
        )


def _check_username(username: str) -> None:
    if not _USERNAME.match(username):
        raise ConfigError(
            f"invalid user name {username!r}: use 1-64 letters, digits, '.', '_', '-' or '@', starting with a letter or digit"
        )


# --------------------------------------------------------------------------- users


def _to_user(row) -> User:  # type: ignore[no-untyped-def]
    return User(row.id, row.username, UserRole.parse(row.role), row.created_at)


def create_user(ctx: Context, username: str, password: str, role: UserRole | str) -> User:
    """Add a user.

    Raises:
        ConfigError: bad name, weak password, unknown role, or the name is taken.
    """

    _check_username(username)
    _check_password(password, username)
    role = role if isinstance(role, UserRole) else UserRole.parse(role)
    with transaction(ctx.sessions) as session:
        if session.scalar(select(UserRow).where(UserRow.username == username)) is not None:
            raise ConfigError(f"a user named {username!r} already exists")
        row = UserRow(username=username, password_hash=hash_password(password), role=role.value, created_at=utcnow())
        session.add(row)
        session.flush()
        return _to_user(row)


def list_users(ctx: Context) -> list[User]:
    with ctx.sessions() as session:
        return [_to_user(r) for r in session.scalars(select(UserRow).order_by(UserRow.username))]


def count_users(ctx: Context) -> int:
    with ctx.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(UserRow)) or 0)


def update_user(ctx: Context, username: str, *, role: UserRole | str | None = None, password: str | None = None) -> User:
    """Change a user's role and/or password (a new password ends their sessions and
    revokes their API keys).

    Raises:
        NotFoundError: no such user.
        ConfigError: weak password or unknown role.
    """
    with transaction(ctx.sessions) as session:
        row = session.scalar(select(UserRow).where(UserRow.username == username))
        if row is None:
            raise NotFoundError(f"no user named {username!r}")
        if role is not None:
            row.role = (role if isinstance(role, UserRole) else UserRole.parse(role)).value
        if password is not None:
            _check_password(password, username)
            row.password_hash = hash_password(password)
            # a new password ends every way in that the old one may have let someone create
            session.execute(delete(SessionRow).where(SessionRow.user_id == row.id))
            session.execute(delete(ApiKeyRow).where(ApiKeyRow.user_id == row.id))
        return _to_user(row)


def delete_user(ctx: Context, username: str) -> None:
    """Delete a user with their sessions and API keys. Raises: NotFoundError."""

    with transaction(ctx.sessions) as session:
        row = session.scalar(select(UserRow).where(UserRow.username == username))
        if row is None:
            raise NotFoundError(f"no user named {username!r}")
        session.execute(delete(SessionRow).where(SessionRow.user_id == row.id))
        session.execute(delete(ApiKeyRow).where(ApiKeyRow.user_id == row.id))
        session.delete(row)


def authenticate(ctx: Context, username: str, password: str) -> User:
    """Check a user name and password.

    Raises:
        AuthError: unknown user, disabled user or wrong password.
    """

    with ctx.sessions() as session:
        row = session.scalar(select(UserRow).where(UserRow.username == username))
        if row is None:
            # same work as a real check, so timing does not reveal which names exist
            verify_password(_DUMMY_HASH, password)
            raise AuthError("wrong user name or password")
        if row.disabled or not verify_password(row.password_hash, password):
            raise AuthError("wrong user name or password")
        if _hasher.check_needs_rehash(row.password_hash):
            with transaction(ctx.sessions) as tx:
                fresh = tx.get(UserRow, row.id)
                if fresh is not None:
                    fresh.password_hash = hash_password(password)
        return _to_user(row)


_DUMMY_HASH = _hasher.hash("callscope-no-such-user")


def ensure_bootstrap_admin(ctx: Context) -> User | None:
    """Create user ``admin`` from ``settings.admin_password`` when no user exists yet."""
    if count_users(ctx) > 0:
        return None
    secret = ctx.settings.admin_password
    if secret is None or not secret.get_secret_value():
        log.warning(
            "no users yet: set CALLSCOPE_ADMIN_PASSWORD or run `callscope users add admin --role admin` to log in"
        )
        return None
    try:
        user = create_user(ctx, "admin", secret.get_secret_value(), UserRole.ADMIN)
    except ConfigError as exc:
        if "already exists" in str(exc):  # another process created it first
            return None
        raise ConfigError(f"CALLSCOPE_ADMIN_PASSWORD: {exc}") from exc
    log.info("created the bootstrap admin user 'admin'")
    return user


# ------------------------------------------------------------------------ API keys


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    id: str
    name: str
    username: str
    created_at: datetime
    last_used_at: datetime | None


def create_api_key(ctx: Context, username: str, name: str = "default") -> tuple[ApiKeyInfo, str]:
    """Make an API key for a user; the key itself is returned once and never stored.

    Raises:
        NotFoundError: no such user.
    """

    key_id = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(8))
    key = f"cs_{key_id}_{secrets.token_urlsafe(32)}"
    with transaction(ctx.sessions) as session:
        user = session.scalar(select(UserRow).where(UserRow.username == username))
        if user is None:
            raise NotFoundError(f"no user named {username!r}")
        row = ApiKeyRow(id=key_id, user_id=user.id, name=name[:128] or "default", key_hash=_sha256(key),
                        created_at=utcnow())
        session.add(row)
    return ApiKeyInfo(key_id, row.name, username, row.created_at, None), key


def list_api_keys(ctx: Context, username: str | None = None) -> list[ApiKeyInfo]:
    with ctx.sessions() as session:
        query = select(ApiKeyRow, UserRow.username).join(UserRow, UserRow.id == ApiKeyRow.user_id)
        if username is not None:
            query = query.where(UserRow.username == username)
        return [
            ApiKeyInfo(k.id, k.name, name, k.created_at, k.last_used_at)
            for k, name in session.execute(query.order_by(ApiKeyRow.created_at))
        ]


def revoke_api_key(ctx: Context, key_id: str, *, username: str | None = None) -> None:
    """Delete a key (only the owner's when ``username`` is given). Raises: NotFoundError."""

    with transaction(ctx.sessions) as session:
        row = session.get(ApiKeyRow, key_id)
        if row is not None and username is not None:
            owner = session.get(UserRow, row.user_id)
            if owner is None or owner.username != username:
                row = None
        if row is None:
            raise NotFoundError(f"no API key with id {key_id!r}")
        session.delete(row)


def user_for_api_key(ctx: Context, key: str) -> User | None:
    """The user an API key belongs to, or None for an unknown or malformed key."""

    match = _KEY.match(key.strip())
    if match is None:
        return None
    with ctx.sessions() as session:
        row = session.get(ApiKeyRow, match.group(1))
        if row is None or not hmac.compare_digest(row.key_hash, _sha256(key.strip())):
            return None
        user = session.get(UserRow, row.user_id)
        if user is None or user.disabled:
            return None
        result = _to_user(user)
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        with transaction(ctx.sessions) as session:
            fresh = session.get(ApiKeyRow, row.id)
            if fresh is not None:
                fresh.last_used_at = now
    return result


# ------------------------------------------------------------------------ sessions


def load_secret_key(settings: Settings) -> str:
    """``settings.secret_key``, or a random key kept in ``<data_dir>/secret_key`` (mode 600).

    Raises:
        StorageError: the key file cannot be created.
    """
    if settings.secret_key.get_secret_value():
        return settings.secret_key.get_secret_value()
    path = Path(settings.data_dir) / "secret_key"
    try:
        if path.exists():
            value = path.read_text().strip()
            if value:
                return value
        path.parent.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(fd, "w") as handle:
            handle.write(value)
        return value
    except FileExistsError:  # another process wrote it between our check and create
        return path.read_text().strip()
    except OSError as exc:
        raise StorageError(f"cannot create the session secret {path}: {exc.strerror}; set CALLSCOPE_SECRET_KEY") from exc


class SessionManager:
    """Creates and checks signed session cookies backed by :class:`SessionRow`."""

    def __init__(self, ctx: Context, secret_key: str, ttl: timedelta = SESSION_TTL) -> None:
        self.ctx = ctx
        self.ttl = ttl
        self._signer = TimestampSigner(secret_key, salt="callscope.session")

    def create(self, user: User) -> tuple[str, str]:
        """Start a session; returns (cookie value, CSRF token)."""

        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = utcnow()
        with transaction(self.ctx.sessions) as session:
            session.execute(delete(SessionRow).where(SessionRow.expires_at < now))
            session.add(SessionRow(id=_sha256(token), user_id=user.id, csrf_token=csrf, created_at=now,
                                   expires_at=now + self.ttl))
        return self._signer.sign(token).decode(), csrf

    def resolve(self, cookie: str) -> tuple[User, str] | None:
        """The (user, CSRF token) of a valid, unexpired session cookie, else None."""

        try:
            token = self._signer.unsign(cookie, max_age=int(self.ttl.total_seconds())).decode()
        except (BadSignature, UnicodeDecodeError):
            return None
        with self.ctx.sessions() as session:
            row = session.get(SessionRow, _sha256(token))
            if row is None or row.expires_at < utcnow():
                return None
            user = session.get(UserRow, row.user_id)
            if user is None or user.disabled:
                return None
            return _to_user(user), row.csrf_token

    def end(self, cookie: str) -> None:
        try:
            token = self._signer.unsign(cookie).decode()
        except (BadSignature, UnicodeDecodeError):
            return
        with transaction(self.ctx.sessions) as session:
            session.execute(delete(SessionRow).where(SessionRow.id == _sha256(token)))


class LoginThrottle:
    """Slows password guessing without letting one guesser lock others out.

    Failed logins are counted per (user name, address) pair, per user name and per
    address, each with its own limit within ``window``: a guesser behind a shared NAT
    locks out only that name from that address after ``per_pair`` failures; the
    higher ``per_user`` limit bounds guessing one password from many addresses, and
    ``per_address`` bounds spraying many names from one address. The address is the
    TCP peer, or the client an allowed proxy names (``CALLSCOPE_TRUSTED_PROXIES``).
    """

    def __init__(self, per_pair: int = 8, per_user: int = 40, per_address: int = 60,
                 window: timedelta = timedelta(minutes=5), processes: int = 1) -> None:
        """``processes``: server processes that each keep their own counts (``callscope serve --workers``);
        each allows its share of every limit, so a guesser whose tries are spread over them gets no more."""
        import threading

        limits = {"pair": per_pair, "user": per_user, "addr": per_address}
        self.limits = {kind: max(1, -(-limit // processes)) for kind, limit in limits.items()}
        self.window = window
        self._failures: dict[str, list[datetime]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def keys(username: str, address: str) -> tuple[str, str, str]:
        """The counters a login attempt of ``username`` from ``address`` touches."""
        name = username.strip().lower()
        return f"pair:{name}@{address}", f"user:{name}", f"addr:{address}"

    def _recent(self, key: str, now: datetime) -> list[datetime]:
        times = [t for t in self._failures.get(key, ()) if now - t < self.window]
        if times:
            self._failures[key] = times
        else:
            self._failures.pop(key, None)
        return times

    def retry_after(self, *keys: str) -> int:
        """Seconds to wait before another try, 0 when allowed."""
        now = utcnow()
        with self._lock:
            waits = []
            for key in keys:
                times = self._recent(key, now)
                limit = self.limits.get(key.split(":", 1)[0], self.limits["pair"])
                if len(times) >= limit:
                    waits.append(int((times[-limit] + self.window - now).total_seconds()) + 1)
        return max(waits, default=0)

    def failed(self, *keys: str) -> None:
        now = utcnow()
        with self._lock:
            if len(self._failures) > 10_000:  # bound memory under a spray of names
                self._failures.clear()
            for key in keys:
                self._failures.setdefault(key, []).append(now)

    def succeeded(self, *keys: str) -> None:
        """A correct password clears the pair's count (not the user's or address's:
        one good login must not reset a guesser's budget elsewhere)."""
        with self._lock:
            for key in keys:
                if key.startswith("pair:"):
                    self._failures.pop(key, None)
