"""ChunkReader: a body kept as chunks reads, seeks and tells like one BytesIO."""

from __future__ import annotations

import io
import typing as t

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from erlen.protocols.chunk_reader import ChunkReader

_operations = st.lists(
    st.one_of(
        st.tuples(st.just("read"), st.integers(-1, 700)),
        st.tuples(st.just("read1"), st.integers(-1, 700)),
        st.tuples(st.just("readinto"), st.integers(0, 700)),
        st.tuples(st.just("seek"), st.integers(0, 2100), st.sampled_from([0, 1, 2])),
        st.tuples(st.just("readline"), st.integers(-1, 700)),
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 300), min_size=2, max_size=12),
    operations=_operations,
)
def test_chunk_reader_reads_like_bytesio(sizes: list[int], operations: list[t.Any]) -> None:
    data = bytes(i % 251 for i in range(sum(sizes))).replace(b"\x07", b"\n")
    chunks, start = [], 0
    for size in sizes:
        chunks.append(data[start : start + size])
        start += size
    reader = ChunkReader(chunks)
    expected = io.BytesIO(data)
    for name, argument, *rest in operations:
        if name == "seek":
            offset = argument if rest[0] == 0 else argument - 1000
            if (0, expected.tell(), len(data))[rest[0]] + offset < 0:
                continue
            assert reader.seek(offset, rest[0]) == expected.seek(offset, rest[0])
        elif name == "readinto":
            ours, theirs = bytearray(argument), bytearray(argument)
            assert reader.readinto(ours) == expected.readinto(theirs)
            assert ours == theirs
        elif name == "read1":  # from one chunk: a prefix of what BytesIO reads, empty at the end
            got = reader.read1(argument)
            assert got == expected.read(len(got))
            assert got or argument == 0 or expected.tell() >= len(data)
        elif name == "read":
            assert reader.read(argument) == expected.read(argument)
        else:
            assert reader.readline(argument) == expected.readline(argument)
        assert reader.tell() == expected.tell()
    assert reader.read() == expected.read()
    reader.close()
    with pytest.raises(ValueError):
        reader.read()
