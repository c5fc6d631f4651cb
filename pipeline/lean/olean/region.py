"""The compacted object region of a Lean 4.28 ``.olean`` file, read in pure Python.

Layout (Lean's ``src/runtime/compact.cpp`` and ``src/library/module.cpp``). The embedded Lean is
a wasm32 build (4-byte pointers and ``size_t``); a native Lean writes 8-byte ones. The width is
recognised from the header (the root pointer must lie inside the file)::

    "olean" | version u8 (2) | flags u8 | lean version, 33 bytes, NUL-padded
            | githash, 40 bytes | base address (size_t) | root pointer (size_t)
            | objects ...

The file is meant to be mapped at its base address, so every pointer in it is an absolute
address; a scalar (``lean_box``) has its low bit set. Every object starts with Lean's header
``{int32 rc; uint16 cs_sz; uint8 other; uint8 tag}``. Under the module system one module is
written in up to three parts (``X.olean``, ``X.olean.server``, ``X.olean.private``) whose
objects are shared: a later part points into an earlier one. :class:`Region` therefore reads
all parts of one module as one address space.

Nothing here trusts the file: every address, size and tag is bounds-checked, and anything
that does not fit raises :class:`OleanFormatError` naming the file.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import SetupError

MAGIC = b"olean"
FORMAT_VERSION = 2
PREFIX_SIZE = 5 + 1 + 1 + 33 + 40

# Lean's object tags (lean.h)
MAX_CTOR_TAG = 244
TAG_ARRAY = 246
TAG_STRING = 249
TAG_MPZ = 250

PARTS = ("", ".server", ".private")
"""File suffixes of one module's parts, in the order Lean writes (and shares) them."""


class OleanFormatError(SetupError):
    """An ``.olean`` file that cannot be read: truncated, corrupt, or of another Lean."""


@dataclass(frozen=True, slots=True)
class Header:
    version: int
    flags: int
    lean_version: str
    githash: str
    base: int
    root: int
    ptr: int
    """Pointer width in bytes: 4 (wasm32) or 8 (native 64-bit)."""

    @property
    def size(self) -> int:
        return PREFIX_SIZE + 2 * self.ptr


def read_header(data: bytes, path: Path, ptr: int | None = None) -> Header:
    """The header; the pointer width is ``ptr`` when known (a later part of a module), else the
    one under which the root lies inside this file (the first part always holds its root)."""
    if len(data) < PREFIX_SIZE + 8 or data[:5] != MAGIC:
        raise OleanFormatError(f"{path}: not an .olean file (no 'olean' header)")
    version, flags = data[5], data[6]
    if version != FORMAT_VERSION:
        raise OleanFormatError(f"{path}: .olean format version {version}, this reader knows {FORMAT_VERSION}")
    lean_version = data[7:40].split(b"\0", 1)[0].decode("ascii", "replace")
    githash = data[40:80].split(b"\0", 1)[0].decode("ascii", "replace")
    for width, fmt in ((4, "<II"), (8, "<QQ")):
        if (ptr is not None and width != ptr) or len(data) < PREFIX_SIZE + 2 * width:
            continue
        base, root = struct.unpack_from(fmt, data, PREFIX_SIZE)
        inside = base + PREFIX_SIZE + 2 * width <= root < base + len(data)
        if base % 8 == 0 and (inside or ptr is not None):
            return Header(version, flags, lean_version, githash, base, root, width)
    raise OleanFormatError(f"{path}: the root pointer lies outside the file (truncated or corrupt)")


@dataclass(slots=True)
class _Part:
    path: Path
    data: bytes
    base: int
    end: int
    start: int


class Region:
    """All parts of one module, as one address space. Decoding is lazy (by address)."""

    def __init__(self, paths: list[Path], *, githash: str | None = None) -> None:
        if not paths:
            raise OleanFormatError("no .olean file given")
        self.parts: list[_Part] = []
        self.headers: list[Header] = []
        for path in paths:
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise OleanFormatError(f"{path}: cannot read ({exc.strerror})") from exc
            header = read_header(data, path, self.headers[0].ptr if self.headers else None)
            if githash is not None and header.githash != githash:
                raise OleanFormatError(
                    f"{path}: written by Lean {header.githash[:12] or '?'}, expected {githash[:12]} "
                    "(rebuild it with this Lean)")
            self.parts.append(_Part(path, data, header.base, header.base + len(data), header.base + header.size))
            self.headers.append(header)
        githashes = {h.githash for h in self.headers}
        if len(githashes) != 1:
            raise OleanFormatError(f"{paths[0]}: its parts come from different Lean builds")
        if len({h.ptr for h in self.headers}) != 1:
            raise OleanFormatError(f"{paths[0]}: its parts disagree on the pointer width")
        self.ptr = ptr = self.headers[0].ptr
        self._pfmt = "I" if ptr == 4 else "Q"
        self.githash = self.headers[0].githash
        self.lean_version = self.headers[0].lean_version
        self._last = self.parts[0]

    def root(self, part: int = -1) -> int:
        """Address of the root object (the ``ModuleData``) of one part (default: the last)."""
        return self.headers[part].root

    # -- raw access ------------------------------------------------------------------------
    def _locate(self, addr: int, size: int) -> tuple[bytes, int]:
        part = self._last
        if not (part.start <= addr and addr + size <= part.end):
            for candidate in self.parts:
                if candidate.start <= addr and addr + size <= candidate.end:
                    part = candidate
                    break
            else:
                raise OleanFormatError(
                    f"{self.parts[0].path}: pointer {addr:#x} (+{size}) lies outside the file's parts "
                    "(truncated or corrupt)")
            self._last = part
        return part.data, addr - part.base

    def tag(self, addr: int) -> int:
        data, off = self._locate(addr, 8)
        return data[off + 7]

    def ctor(self, addr: int) -> tuple[int, tuple[int, ...], int]:
        """(tag, pointer fields, address of the scalar area) of a constructor object."""
        data, off = self._locate(addr, 8)
        _rc, cs_sz, num_objs, tag = struct.unpack_from("<iHBB", data, off)
        if tag > MAX_CTOR_TAG:
            raise OleanFormatError(f"{self.parts[0].path}: expected a constructor at {addr:#x}, found tag {tag}")
        ptr = self.ptr
        if cs_sz < 8 + ptr * num_objs:
            raise OleanFormatError(f"{self.parts[0].path}: constructor at {addr:#x} has a bad size")
        data, off = self._locate(addr, cs_sz)
        fields = struct.unpack_from(f"<{num_objs}{self._pfmt}", data, off + 8)
        return tag, fields, addr + 8 + ptr * num_objs

    def u8(self, addr: int) -> int:
        data, off = self._locate(addr, 1)
        return data[off]

    def word(self, addr: int) -> int:
        """A pointer-sized word (``size_t``)."""
        data, off = self._locate(addr, self.ptr)
        return int(struct.unpack_from("<" + self._pfmt, data, off)[0])

    def u32(self, addr: int) -> int:
        data, off = self._locate(addr, 4)
        return int(struct.unpack_from("<I", data, off)[0])

    def u64(self, addr: int) -> int:
        data, off = self._locate(addr, 8)
        return int(struct.unpack_from("<Q", data, off)[0])

    def array(self, addr: int) -> tuple[int, ...]:
        p = self.ptr
        data, off = self._locate(addr, 8 + 2 * p)
        tag = data[off + 7]
        if tag != TAG_ARRAY:
            raise OleanFormatError(f"{self.parts[0].path}: expected an array at {addr:#x}, found tag {tag}")
        size = self.word(addr + 8)
        data, off = self._locate(addr, 8 + 2 * p + p * size)
        return struct.unpack_from(f"<{size}{self._pfmt}", data, off + 8 + 2 * p)

    def string(self, addr: int) -> str:
        head = 8 + 3 * self.ptr
        data, off = self._locate(addr, head)
        tag = data[off + 7]
        size = self.word(addr + 8)
        if tag != TAG_STRING or size < 1:
            raise OleanFormatError(f"{self.parts[0].path}: expected a string at {addr:#x}, found tag {tag}")
        data, off = self._locate(addr, head + size)
        try:
            return data[off + head: off + head + size - 1].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise OleanFormatError(f"{self.parts[0].path}: string at {addr:#x} is not UTF-8") from exc

    def nat(self, ptr: int) -> int:
        """A ``Nat``: a boxed scalar, or a big number (an ``mpz_object`` whose limbs follow it).

        Lean-native encoding (header flag bit 0 clear): ``{bool sign; size_t size; digit* d}``
        with 32-bit digits; GMP encoding (bit set): ``{int alloc; int size; limb* d}`` with
        64-bit limbs."""
        if ptr & 1:
            return ptr >> 1
        if self.tag(ptr) != TAG_MPZ:
            raise OleanFormatError(f"{self.parts[0].path}: expected a number at {ptr:#x}")
        p = self.ptr
        if self.headers[0].flags & 1:
            data, off = self._locate(ptr, 8 + 8 + p)
            _alloc, size = struct.unpack_from("<ii", data, off + 8)
            negative, count, limb = size < 0, abs(size), 8
            digits = self.word(ptr + 16)
        else:
            negative = bool(self.u8(ptr + 8))
            count, limb = self.word(ptr + 8 + p), 4
            digits = self.word(ptr + 8 + 2 * p)
        if count > 1 << 20:
            raise OleanFormatError(f"{self.parts[0].path}: number at {ptr:#x} is implausibly large")
        data, off = self._locate(digits, count * limb)
        value = int.from_bytes(data[off: off + count * limb], "little")
        return -value if negative else value



def module_parts(olean: Path) -> list[Path]:
    """The parts of one module that exist beside ``X.olean``, in Lean's order."""
    found = [olean.with_name(olean.name + suffix) for suffix in PARTS]
    return [p for p in found if p.is_file()] or [olean]


__all__ = ["FORMAT_VERSION", "PARTS", "Header", "OleanFormatError", "Region", "module_parts", "read_header"]
