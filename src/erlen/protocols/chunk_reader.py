"""A request body kept as the chunks it arrived in, read and seeked in as one file."""

from __future__ import annotations

import io
import typing as t


class ChunkReader(io.BufferedIOBase):
    """A body kept as a list of chunks, read (and seeked in) as a file."""

    def __init__(self, chunks: list[bytes]) -> None:
        super().__init__()
        self._chunks = chunks
        self._size = sum(map(len, chunks))
        self._index = 0  # the chunk being read
        self._offset = 0  # the position in it
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        self._check_open()
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._check_open()
        if whence not in (io.SEEK_SET, io.SEEK_CUR, io.SEEK_END):
            raise ValueError(f"invalid whence ({whence})")
        position = (0, self._position, self._size)[whence] + offset
        if position < 0:
            raise ValueError(f"negative seek position {position}")
        self._position = position
        self._index, self._offset = 0, position
        for chunk in self._chunks:  # seeks are rare: a walk is enough
            if self._offset < len(chunk):
                break
            self._offset -= len(chunk)
            self._index += 1
        return position

    def read(self, size: int | None = -1) -> bytes:
        return self._take(size, line=False)

    def readline(self, size: int | None = -1) -> bytes:
        return self._take(size, line=True)

    def _take(self, size: int | None, line: bool) -> bytes:
        """Up to ``size`` bytes (all when negative or ``None``); with ``line``, up to and
        including the first newline."""
        self._check_open()
        left = max(self._size - self._position, 0)
        need = left if size is None or size < 0 else min(size, left)
        chunks, index, offset = self._chunks, self._index, self._offset
        parts: list[bytes] = []
        while need:
            chunk = chunks[index]
            stop = min(len(chunk), offset + need)
            newline = chunk.find(b"\n", offset, stop) if line else -1
            if newline >= 0:
                stop = newline + 1
            parts.append(chunk if stop - offset == len(chunk) else chunk[offset:stop])
            need -= stop - offset
            offset = stop
            if offset == len(chunk):
                index, offset = index + 1, 0
            if newline >= 0:
                break
        self._index, self._offset = index, offset
        data = parts[0] if len(parts) == 1 else b"".join(parts)
        self._position += len(data)
        return data

    def read1(self, size: int | None = -1) -> bytes:
        self._check_open()
        if self._index >= len(self._chunks):
            return b""
        rest = len(self._chunks[self._index]) - self._offset
        return self.read(rest if size is None or size < 0 else min(size, rest))

    def readinto(self, buffer: t.Any) -> int:
        self._check_open()
        view = memoryview(buffer).cast("B")
        chunks, index, offset = self._chunks, self._index, self._offset
        done, wanted = 0, len(view)
        while done < wanted and index < len(chunks):
            chunk = chunks[index]
            take = min(len(chunk) - offset, wanted - done)
            view[done : done + take] = memoryview(chunk)[offset : offset + take]
            done += take
            offset += take
            if offset == len(chunk):
                index, offset = index + 1, 0
        self._index, self._offset = index, offset
        self._position += done
        return done

    def readinto1(self, buffer: t.Any) -> int:
        return self.readinto(buffer)

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file.")

    def close(self) -> None:
        self._chunks = []
        super().close()
