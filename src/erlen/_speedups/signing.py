"""The session cookie's signature: itsdangerous' format, with keys prepared once.

Upstream: ``itsdangerous.URLSafeTimedSerializer.dumps`` and ``.loads(value, max_age=...)`` of the
serializer :class:`erlen.sessions.SecureCookieSessionInterface` makes (Flask's cookie format).
itsdangerous derives the key and builds an HMAC on every call; here that is done once per set of
keys, which counts on every request that has a session.
"""

from __future__ import annotations

import hmac
import time
import typing as t
import zlib
from base64 import urlsafe_b64decode
from binascii import b2a_base64

from itsdangerous import (
    BadPayload,
    BadSignature,
    BadTimeSignature,
    SignatureExpired,
    URLSafeTimedSerializer,
)


def _b64encode(data: bytes) -> bytes:
    """Unpadded base64url (``base64.urlsafe_b64encode`` in one call less)."""
    return b2a_base64(data, newline=False).translate(_URLSAFE).rstrip(b"=")


def _b64decode(data: bytes) -> bytes:
    return urlsafe_b64decode(data + b"=" * (-len(data) % 4))


_URLSAFE = bytes.maketrans(b"+/", b"-_")
#: zlib's output is never under 10 bytes (header, checksum, a deflate block of at least a
#: literal, a match and its end), so it cannot beat a payload this short by the 2 bytes
#: itsdangerous asks for: no need to try (a fresh compressor costs microseconds).
_INCOMPRESSIBLE = 11


class CookieSigner:
    """The session cookie format of itsdangerous' ``URLSafeTimedSerializer`` (Flask's cookie), for
    one set of keys: ``payload.timestamp.signature``, base64url, the payload compressed with zlib
    when that is shorter (then prefixed with a dot), an HMAC with a key derived from the secret.

    Keys are derived and hashed into an HMAC once, not on every request; :meth:`loads` only
    accepts the signature in the canonical form itsdangerous writes."""

    def __init__(self, serializer: URLSafeTimedSerializer, digest_method: t.Any) -> None:
        self.serializer: t.Any = serializer.serializer
        self.text = isinstance(self.serializer.dumps({}), str)
        signer = serializer.make_signer(serializer.salt)
        #: An HMAC per key, the signing key first.
        self.macs = [
            hmac.new(signer.derive_key(key), digestmod=digest_method)
            for key in reversed(serializer.secret_keys)
        ]

    def _mac(self, keyed: hmac.HMAC, message: bytes) -> bytes:
        mac = keyed.copy()  # the key is already hashed in: cheaper than a new HMAC
        mac.update(message)
        return _b64encode(mac.digest())

    def dumps(self, value: t.Any) -> str:
        text = self.serializer.dumps(value)
        data: bytes = text.encode() if isinstance(text, str) else text
        payload = None
        if len(data) > _INCOMPRESSIBLE:
            compressed = zlib.compress(data)
            if len(compressed) < len(data) - 1:
                payload = b"." + _b64encode(compressed)
        if payload is None:
            payload = _b64encode(data)
        stamp = int(time.time()).to_bytes(8, "big").lstrip(b"\x00")
        message = b"%s.%s" % (payload, _b64encode(stamp))
        return (b"%s.%s" % (message, self._mac(self.macs[0], message))).decode("ascii")

    def loads(self, value: str, max_age: int) -> t.Any:
        """The data in a cookie; raises :exc:`~itsdangerous.BadData` (or ``ValueError``)."""
        message, _, signature = value.encode().rpartition(b".")
        for keyed in self.macs:
            if hmac.compare_digest(self._mac(keyed, message), signature):
                break
        else:
            raise BadSignature("Signature does not match")
        payload, found, stamp = message.rpartition(b".")
        if not found:
            raise BadTimeSignature("Timestamp missing")
        try:
            stamp = _b64decode(stamp)
        except ValueError:
            raise BadTimeSignature("Malformed timestamp") from None
        if len(stamp) > 8:
            raise BadTimeSignature("Malformed timestamp")
        age = int(time.time()) - int.from_bytes(stamp, "big")
        if not 0 <= age <= max_age:
            raise SignatureExpired(f"Signature age {age} is outside 0..{max_age} seconds")
        try:
            if payload[:1] == b".":
                data = zlib.decompress(_b64decode(payload[1:]))
            else:
                data = _b64decode(payload)
            return self.serializer.loads(data.decode() if self.text else data)
        except Exception as error:  # whatever the serializer raises: not a session
            raise BadPayload(f"Could not load the payload: {error}") from None
