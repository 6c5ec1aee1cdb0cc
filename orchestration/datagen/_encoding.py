"""Vectorized COPY-text encoder.

Every column becomes a fixed-width ``uint8`` matrix (one row per record) whose
unused bytes are NUL.  Columns are laid side by side with tab / newline bytes,
and the NUL padding is squeezed out in one boolean-mask pass, producing the
PostgreSQL ``COPY ... FROM STDIN`` text format without any per-row Python work.
NUL never occurs in valid COPY text, so it is a safe padding byte.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np

_NULL = b"\\N"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def cat(codes: np.ndarray, labels: Sequence[str | None]) -> np.ndarray:
    """Categorical text column: ``labels[codes]``; a ``None`` label is SQL NULL."""
    raw = [_NULL if s is None else _escape(s).encode() for s in labels]
    width = max(1, max(len(b) for b in raw))
    lut = np.zeros((len(raw), width), np.uint8)
    for i, b in enumerate(raw):
        lut[i, : len(b)] = np.frombuffer(b, np.uint8)
    return lut[np.asarray(codes, np.intp)]


def const(n: int, text: str) -> np.ndarray:
    """The same text on every row."""
    return cat(np.zeros(n, np.intp), [text])


def integer(values: np.ndarray, *, zero_pad: int = 0) -> np.ndarray:
    """Non-negative integers; ``zero_pad`` keeps that many digits with leading zeros."""
    x = np.asarray(values, np.int64)
    n = x.shape[0]
    if n and int(x.min()) < 0:
        raise ValueError("integer(): negative values are not supported")
    top = int(x.max()) if n else 0
    digits = max(1, len(str(top)), zero_pad)
    out = np.empty((n, digits), np.uint8)
    for k in range(digits):
        p = 10 ** (digits - 1 - k)
        col = (x // p) % 10 + 48
        if digits - k > max(1, zero_pad):  # a position that may be a leading zero
            col = np.where(x < p, 0, col)
        out[:, k] = col
    return out


def fixed(scaled: np.ndarray, decimals: int) -> np.ndarray:
    """Non-negative fixed-point number given as an integer scaled by 10**decimals."""
    x = np.asarray(scaled, np.int64)
    f = 10**decimals
    whole = integer(x // f)
    frac = integer(x % f, zero_pad=decimals)
    dot = np.full((x.shape[0], 1), ord("."), np.uint8)
    return np.hstack([whole, dot, frac])


def timestamp(epoch_seconds: np.ndarray) -> np.ndarray:
    """UTC timestamptz text ``YYYY-MM-DD HH:MM:SS+00`` from integer epoch seconds."""
    s = np.asarray(epoch_seconds, np.int64)
    n = s.shape[0]
    out = np.zeros((n, 22), np.uint8)
    if n == 0:
        return out
    day = s // 86400
    d0, d1 = int(day.min()), int(day.max())
    lut = np.frombuffer(
        "".join(
            (_EPOCH + timedelta(days=d)).strftime("%Y-%m-%d ") for d in range(d0, d1 + 1)
        ).encode(),
        np.uint8,
    ).reshape(-1, 11)
    out[:, :11] = lut[day - d0]
    sod = s - day * 86400
    hh, rem = np.divmod(sod, 3600)
    mm, ss = np.divmod(rem, 60)
    for pos, v in ((11, hh), (14, mm), (17, ss)):
        out[:, pos] = v // 10 + 48
        out[:, pos + 1] = v % 10 + 48
    out[:, 13] = out[:, 16] = ord(":")
    out[:, 19] = ord("+")
    out[:, 20] = out[:, 21] = ord("0")
    return out


def nullable(col: np.ndarray, is_null: np.ndarray) -> np.ndarray:
    """Replace the rows where ``is_null`` by SQL NULL."""
    width = max(col.shape[1], 2)
    out = np.zeros((col.shape[0], width), np.uint8)
    out[:, : col.shape[1]] = col
    m = np.asarray(is_null, bool)
    out[m] = 0
    out[m, 0] = ord("\\")
    out[m, 1] = ord("N")
    return out


def concat(*parts: np.ndarray) -> np.ndarray:
    """Several pieces forming one field (e.g. a text prefix plus digits)."""
    return np.hstack(parts)


def encode(cols: Sequence[np.ndarray]) -> bytes:
    """Join column matrices into COPY text: tab-separated, newline-terminated rows."""
    n = cols[0].shape[0]
    width = sum(c.shape[1] for c in cols) + len(cols)
    out = np.zeros((n, width), np.uint8)
    pos = 0
    last = len(cols) - 1
    for i, c in enumerate(cols):
        w = c.shape[1]
        out[:, pos : pos + w] = c
        pos += w
        out[:, pos] = 10 if i == last else 9
        pos += 1
    flat = out.ravel()
    return flat[flat != 0].tobytes()


def _escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
