"""The compiled kernel as machine code: its cache, its loader and how runs call it.

The kernel (:mod:`.numba_backend`) is the same for every model, so it is compiled
once per machine and kept on disk as object code, under its checksum. A new
process loads that code and calls it through ``ctypes`` without importing numba
at all: numba's own cache would import its typing and lowering registries
(scipy.linalg among them) and take about half a second, where this takes a few
hundredths. Where the machine has a C compiler, the object code is also linked
into a shared library when it is cached, which a new process opens with
``ctypes`` alone (its sha256 checked against the checksummed entry first); else,
or where that fails, llvmlite's JIT linker links the object code, and importing
llvmlite's binding costs about 0.05 s more. Only on a cache miss, or when the
cached code fails its checksum, is numba imported, to compile the kernel.

Its rarely used ops (:class:`~.entry.Piece`) are compiled, cached and linked
apart from it, each the first time a program needs it, and called through their
addresses: a model without them never waits for their compile.

The kernel owns no memory: every array it touches is passed in, so the object
needs nothing of numba's runtime but the few helpers defined in ``_HELPERS``.
``ctypes`` releases the GIL during a call, so threads run blocks at the same time.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import functools
import hashlib
import json
import logging
import os
import platform
import re
import stat
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import distributions, finance, sampling, streams
from .._lazy import lazy_import
from ..errors import RunError, shown
from ..functions import FormulaOp
from ..settings import cache_root
from .entry import _HELPERS, ENTRY, HELPER_NAMES, KernelObject, Piece, Size
from .ir import N_PARAMS, Op, Program
from .tally import DEPTH

if TYPE_CHECKING:
    import shutil
    import subprocess
    import tempfile
else:  # needed only where the kernel is compiled and linked
    shutil = lazy_import("shutil")
    subprocess = lazy_import("subprocess")
    tempfile = lazy_import("tempfile")

__all__ = [
    "BLOCK",
    "ENTRY",
    "Size",
    "KernelObject",
    "cache_dir",
    "load",
    "execute",
    "warm_up",
    "tally",
    "threads_for",
    "max_threads",
]

BLOCK = 256  # samples per block: small enough that a block's slots stay in L1/L2


# Every source the compiled kernel is made from: a change to any sampler is a new kernel.
_KERNEL_SOURCES = (
    *sorted(str(path) for path in Path(distributions.__file__).parent.glob("*.py")),
    finance.__file__,
    streams.__file__,
    sampling.__file__,  # the Latin hypercube's Feistel network
    str(Path(__file__).with_name("numba_backend.py")),
    str(Path(__file__).with_name("entry.py")),
    str(Path(__file__).with_name("tally.py")),
    __file__,
)


def _machine() -> str:
    """What the object code is specific to: target, CPU, its features, llvmlite.

    On Linux the CPU and its features are read from ``/proc/cpuinfo`` (the kernel
    lists there what a process may use), so that a process loading a cached
    kernel need not import llvmlite's binding; elsewhere LLVM says them.
    """
    import llvmlite  # its version only: the binding is what takes long

    cpu = _cpuinfo()
    if cpu is None:
        import llvmlite.binding as llvm

        cpu = "|".join(
            (
                llvm.get_process_triple(),
                llvm.get_host_cpu_name(),
                llvm.get_host_cpu_features().flatten(),
            )
        )
    return "|".join((platform.machine(), sys.platform, cpu, llvmlite.__version__))


# The lines of /proc/cpuinfo that name a CPU and its features (x86 and Arm).
_CPU_KEYS = frozenset(
    ("vendor_id", "cpu family", "model", "model name", "stepping", "flags")
    + ("CPU implementer", "CPU architecture", "CPU variant", "CPU part", "Features", "isa")
)


def _cpuinfo() -> str | None:
    """The first processor's identity and features from ``/proc/cpuinfo``; None without."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return None
    first = text.split("\n\n", 1)[0]
    lines = [line for line in first.splitlines() if line.split(":", 1)[0].strip() in _CPU_KEYS]
    return "\n".join(lines) if lines else None


_FORMAT = 4  # the cache entry's layout; in the folder's hash, so another layout is a miss


@functools.cache
def cache_dir() -> Path:
    """The kernel's folder: named by a hash of its sources, opcodes, entry format and machine.

    ``ASSUMPTION_GRAPH_CACHE`` or ``NUMBA_CACHE_DIR`` move the root elsewhere;
    the default is ``~/.cache/assumption_graph``.
    """
    digest = hashlib.sha256(f"{_FORMAT}|{_machine()}".encode())
    opcodes = [*Op.__members__.items(), *FormulaOp.__members__.items()]
    digest.update(repr([*opcodes, N_PARAMS]).encode())  # frozen into the code
    for path in _KERNEL_SOURCES:
        digest.update(Path(path).read_bytes())
    return cache_root() / f"kernel-{digest.hexdigest()[:16]}"


_ENTRY = "kernel.bin"
_LARGEST_ENTRY = 1 << 26  # bytes; an entry is about 60 KB
_HEADER = re.compile(rb"sha256:([0-9a-f]{64}) size:([0-9]{1,12})")
_log = logging.getLogger(__name__)


def _entry_bytes(kernel: KernelObject) -> bytes:
    """``kernel`` as a cache entry, one file so that it is replaced in one step.

    A header line holds the sha256 and size of the rest: the symbols (and the
    helpers' size) as a JSON line, then the object code and the helpers' object code.
    """
    symbols = {
        "symbol": kernel.symbol,
        "externals": list(kernel.externals),
        "helpers": len(kernel.helpers),
        "shared": kernel.shared,
    }
    body = json.dumps(symbols).encode() + b"\n" + kernel.code + kernel.helpers
    return b"sha256:%s size:%d\n" % (hashlib.sha256(body).hexdigest().encode(), len(body)) + body


def _parse_entry(data: bytes) -> KernelObject | None:
    """The kernel in a cache entry, or None unless ``data`` is whole and as written.

    Linking damaged object code crashes the process or, worse, runs and gives
    wrong numbers, so nothing is trusted before its checksum matches.
    """
    header, _, body = data.partition(b"\n")
    found = _HEADER.fullmatch(header)
    if found is None or int(found[2]) != len(body):
        return None
    if hashlib.sha256(body).hexdigest().encode() != found[1]:
        return None
    symbols, _, code = body.partition(b"\n")
    index = json.loads(symbols)
    end = len(code) - index["helpers"]
    externals = tuple(index["externals"])
    return KernelObject(code[:end], index["symbol"], externals, code[end:], index["shared"])


def _read_cache(name: str = _ENTRY) -> KernelObject | None:
    """The cached kernel (or the piece in entry ``name``), or None when there is none.

    An entry that cannot be read or fails its checksum counts as none, with a
    one-line notice on standard error: the kernel is compiled again and replaces it.
    """
    path = cache_dir() / name
    try:
        data = _entry_data(path)
    except FileNotFoundError:
        return None
    except OSError:
        data = b""
    kernel = _parse_entry(data)
    if kernel is None:
        _log.warning("kernel cache damaged at %s: recompiling", path)
    return kernel


def _entry_data(path: Path) -> bytes:
    """The bytes of the entry at ``path``, read in bounded time and memory.

    Only a regular file counts, read up to ``_LARGEST_ENTRY`` bytes: a link to
    ``/dev/zero`` would be read until memory runs out, a FIFO opened without
    ``O_NONBLOCK`` would wait for a writer forever. Anything else is empty data.
    """
    with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            return b""
        return file.read(_LARGEST_ENTRY + 1)  # more is cut, so its size check fails


def _write_cache(kernel: KernelObject, name: str = _ENTRY) -> None:
    """Keep ``kernel`` for later processes; a cache that cannot be written is skipped.

    The entry is written under a temporary name of this process's and renamed
    over the old one, so processes reading or writing it at the same time see
    one whole entry or none. Its shared library (:func:`_write_shared`) comes
    first, so that an entry never names a library it has not got.
    """
    path = cache_dir() / name
    partial = path.with_name(f"{name}.{os.getpid()}.partial")
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        kernel = kernel._replace(shared=_write_shared(kernel, name))
        try:
            partial.write_bytes(_entry_bytes(kernel))
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)  # nothing left once renamed


def _shared_path(name: str) -> Path:
    """Where the shared library of the cache entry ``name`` is kept."""
    return cache_dir() / f"{Path(name).stem}.so"


def _write_shared(kernel: KernelObject, name: str) -> str:
    """Link ``kernel``'s object code and its helpers into a shared library beside entry
    ``name`` with the machine's C compiler (``CC``, else ``cc``); its sha256, or ""
    where there is no compiler or it fails (the entry is then linked by llvmlite)."""
    compiler = os.environ.get("CC") or shutil.which("cc")
    if not compiler or not kernel.helpers:
        return ""
    path = _shared_path(name)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".link-") as folder:
        objects = [Path(folder, "code.o"), Path(folder, "helpers.o")]
        for target, code in zip(objects, (kernel.code, kernel.helpers), strict=True):
            target.write_bytes(code)
        linked = Path(folder, "linked.so")
        try:
            subprocess.run(
                [compiler, "-shared", "-o", str(linked), *map(str, objects), "-lm"],
                capture_output=True, check=True, timeout=120,
            )  # fmt: skip
        except (OSError, subprocess.SubprocessError):
            return ""
        digest = hashlib.sha256(linked.read_bytes()).hexdigest()
        os.replace(linked, path)
    return digest


_libraries: list[ctypes.CDLL] = []  # the shared libraries opened: their code lives as they do
_loads: collections.Counter[str] = collections.Counter()  # each cache entry's loads here


def _load_shared(kernel: KernelObject, name: str) -> int | None:
    """The address of ``kernel``'s entry point from its shared library, opened with ctypes
    once its sha256 is the one its checksummed entry holds; None where there is none,
    it differs or it does not open (then llvmlite links the object code)."""
    if not kernel.shared:
        return None
    path = _shared_path(name)
    try:
        data = _entry_data(path)
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest() != kernel.shared:
        return None
    try:
        library = ctypes.CDLL(str(path))
        address = ctypes.cast(library[kernel.symbol], ctypes.c_void_p).value
    except (OSError, AttributeError):
        return None
    _libraries.append(library)
    return address


def _unresolved(kernel: KernelObject) -> list[str]:
    """The symbols ``kernel`` needs that neither this process nor ``_HELPERS`` has."""
    process = ctypes.CDLL(None)
    return [
        name for name in kernel.externals if name not in HELPER_NAMES and not hasattr(process, name)
    ]


_engines: list[Any] = []  # the JIT linkers of loaded kernels: their code lives as long as they do
_shared_engines: dict[str, Any] = {}  # those linkers that are shared, by name
_PIECES_ENGINE = "pieces"  # the name of the one linker all pieces share


def load(kernel: KernelObject, shared: str | None = None) -> int | None:
    """Link ``kernel`` into this process with llvmlite; the address of its entry point.

    Into a new JIT linker, or with ``shared`` into the one of that name (the pieces
    share one: a linker costs more than linking a piece into it), each object once.
    None when it needs a symbol this process lacks (LLVM would abort the process).
    """
    if _unresolved(kernel):
        return None
    import llvmlite.binding as llvm

    engine = None if shared is None else _shared_engines.get(shared)
    if engine is None:
        engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""), _target_machine())
        engine.add_object_file(llvm.ObjectFileRef.from_data(kernel.helpers or _helpers_object()))
        _engines.append(engine)
        if shared is not None:
            _shared_engines[shared] = engine
    engine.add_object_file(llvm.ObjectFileRef.from_data(kernel.code))  # linked, not compiled
    engine.finalize_object()
    return int(engine.get_function_address(kernel.symbol))


def _target_machine() -> Any:
    """llvmlite's machine for code run in this process."""
    import llvmlite.binding as llvm

    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    return llvm.Target.from_default_triple().create_target_machine(jit=True)


def _helpers_object() -> bytes:
    """``_HELPERS`` compiled to object code, kept in the cache entry: compiling them at
    every load took longer than linking the whole kernel."""
    import llvmlite.binding as llvm

    return bytes(_target_machine().emit_object(llvm.parse_assembly(_HELPERS)))


_ENTRY_TYPE = ctypes.CFUNCTYPE(
    ctypes.c_int32,
    ctypes.c_void_p,  # where a result would go
    ctypes.c_void_p,  # where an exception's details would go
    *(ctypes.c_uint64 if kind == "uint64 value" else ctypes.c_void_p for _, kind in ENTRY),
)
_SUCCESS = (0, -2)  # numba's "ok" and "returned None"
_entry: Any = None
_entry_lock = threading.Lock()


_pieces: dict[Piece, int] = {}  # the address of each piece linked into this process


def _ready_entry() -> Any:
    """The kernel's entry point, from the on-disk cache or compiled now (then cached)."""
    global _entry
    with _entry_lock:
        if _entry is None:
            _entry = _ENTRY_TYPE(_ready(_ENTRY, lambda backend: backend.compile_kernel()))
        return _entry


def _ready_pieces(program: Program) -> np.ndarray:
    """The ``pieces`` argument for ``program``: for each op the address of the piece that
    runs it, linked (from the cache or compiled now), 0 where the kernel runs it."""
    which = _pieces_of(program)
    addresses = np.zeros(len(which), dtype=np.int64)
    with _entry_lock:
        for piece in map(Piece, set(which.tolist()) - {-1}):
            addresses[which == piece] = _ready_piece(piece)
    return addresses


def _ready_piece(piece: Piece) -> int:
    """The address of ``piece``, linked from the cache or compiled now (hold ``_entry_lock``)."""
    if piece not in _pieces:
        compile_piece = lambda backend: backend.compile_piece(piece)  # noqa: E731
        _pieces[piece] = _ready(f"{piece.name.lower()}.bin", compile_piece, _PIECES_ENGINE)
    return _pieces[piece]


def _ready(
    name: str, compile_it: Callable[[Any], tuple[KernelObject, int]], shared: str | None = None
) -> int:
    """The address of the object in cache entry ``name``, linked (into linker ``shared``);
    on a miss ``compile_it`` (given :mod:`.numba_backend`) compiles it and it is cached."""
    cached = _read_cache(name)
    address = None if cached is None else _load_shared(cached, name) or load(cached, shared)
    _loads[name] += 1
    if address is None:
        from . import numba_backend  # numba only on a cache miss

        compiled, address = compile_it(numba_backend)
        _write_cache(compiled._replace(helpers=_helpers_object()), name)
    return address


_TALLY_TYPE = ctypes.CFUNCTYPE(ctypes.c_int32, *[ctypes.c_void_p] * 9)  # two, then 7 arrays
_tally: Any = None


def tally(
    samples: np.ndarray, sizes: np.ndarray, params: np.ndarray, counts: np.ndarray, out: np.ndarray
) -> None:
    """Run one of the summaries' compiled passes (:mod:`.tally`; ``sizes`` says which):
    float64 ``samples``, int64 ``sizes``, float64 ``params``, int64 ``counts``, float64 ``out``.

    Linked from the cache, or compiled and cached on first use, like a piece.
    """
    room = np.zeros(2, dtype=np.uint64)  # for a result and an exception's details
    arrays = (
        (samples, np.float64),
        (sizes, np.int64),
        (params, np.float64),
        (counts, np.int64),
        (out, np.float64),
        (np.empty(3 * DEPTH, dtype=np.int64), np.int64),  # the summation's stack
        (np.empty(DEPTH), np.float64),
    )
    pointers = (_address(a, t) for a, t in arrays)
    status = _ready_tally()(room.ctypes.data, room.ctypes.data + 8, *pointers)
    if status not in _SUCCESS:
        raise RuntimeError(f"a summary's pass failed (numba status {status}); please report this")


def _ready_tally() -> Any:
    """The summaries' passes, from the on-disk cache or compiled now (then cached)."""
    global _tally
    with _entry_lock:
        if _tally is None:
            compile_tally = lambda backend: backend.compile_tally()  # noqa: E731
            _tally = _TALLY_TYPE(_ready("tally.bin", compile_tally, _PIECES_ENGINE))
        return _tally


_KERNEL_DRAWS = (Op.TRIANGLE, Op.UNIFORM)  # the models the kernel draws itself


def _pieces_of(program: Program) -> np.ndarray:
    """For each of ``program``'s ops the :class:`~.entry.Piece` that runs it, -1 for the kernel.

    A draw whose c is a slot takes its uniforms from there: the inverse CDF alone.
    """
    ops = program.code[:, 0]
    draws, given = ops >= Op.UNIFORM, program.code[:, 4] >= 0
    which = np.full(len(ops), -1)
    which[draws & ~given & ~np.isin(ops, _KERNEL_DRAWS)] = Piece.DRAW
    which[draws & given] = Piece.FROM_U
    which[np.isin(ops, (Op.SCORE, Op.COPULA))] = Piece.COPULA
    which[np.isin(ops, (FormulaOp.IRR, FormulaOp.IRR_COUNT))] = Piece.IRR
    which[ops == Op.LHS] = Piece.LHS
    which[ops == Op.SOBOL] = Piece.SOBOL
    return which


def warm_up(pieces: bool = False) -> float:
    """Load the kernel from the cache, or compile it; returns seconds taken.

    With ``pieces`` also every :class:`Piece` and the summaries' passes (the set-up
    does this once, so that no later run waits for their first compile).
    """
    began = time.perf_counter()
    if pieces:
        with _entry_lock:
            for piece in Piece:
                _ready_piece(piece)
        _ready_tally()
    program = Program(
        code=np.array([[Op.TRIANGLE, 0, -1, -1, -1]], dtype=np.int64),
        params=np.array([[1.0, 2.0, 3.0, 0.0, 0.0]]),
        keys=np.ones(1, dtype=np.uint64),
        n_slots=1,
        outputs=("x",),
        output_slots=np.zeros(1, dtype=np.int64),
        lines=("s0 = triangle(1, 2, 3)  # x",),
    )
    execute(program, 0, 0, 1, np.empty((1, 1)))
    return time.perf_counter() - began


_NOTHING_GIVEN = np.empty((0, 0))
_MIN_STEP = 4  # blocks in a range at least: a call's own cost stays small beside them
_MAX_STEP = 256  # blocks in a range at most: bounds how long a stop waits for a thread
_pool: Any = None
_pool_lock = threading.Lock()


def max_threads() -> int:
    """How many threads a run may use on this machine (``ASSUMPTION_GRAPH_THREADS`` caps it)."""
    count = os.cpu_count() or 1
    cap = os.environ.get("ASSUMPTION_GRAPH_THREADS", "").strip()
    if not cap:
        return count
    if not cap.isdigit() or int(cap) < 1:
        raise RunError(
            f"ASSUMPTION_GRAPH_THREADS must be a whole number of at least 1, got {shown(cap)}",
            hint="unset it to use every core",
        )
    return min(count, int(cap))


def threads_for(threads: int | None) -> int:
    """How many threads a run asking for ``threads`` gets (``None``: all)."""
    return max_threads() if threads is None else max(1, min(int(threads), max_threads()))


def _threads_pool() -> Any:
    from concurrent.futures import ThreadPoolExecutor

    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_threads(), thread_name_prefix="assumption-graph")
        return _pool


def _address(array: np.ndarray, dtype: type) -> int:
    """Where ``array``'s data starts, after making sure the kernel can read it as is."""
    if array.dtype != dtype or not array.flags.c_contiguous:
        raise ValueError(f"the kernel needs a C-contiguous {np.dtype(dtype)} array")
    return int(array.ctypes.data)


def _flows_scratch(program: Program) -> int:
    """The size of the program's IRRs' scratch (0 without an IRR), for its widest one."""
    irr = np.isin(program.code[:, 0], (FormulaOp.IRR, FormulaOp.IRR_COUNT))
    return finance.irr_scratch(int(program.code[irr, 3].max()), BLOCK) if irr.any() else 0


def execute(
    program: Program,
    seed_key: int,
    start: int,
    count: int,
    out: np.ndarray,
    threads: int | None = None,
    given: np.ndarray | None = None,
    column: int | None = None,
) -> None:
    """Run samples ``start .. start+count-1`` of ``program`` into ``out[:, start:start+count]``.

    ``out`` is a C-contiguous float64 array with one row per output and at least
    ``start + count`` columns. ``seed_key`` is :func:`assumption_graph.streams.seed_key`
    of the run's seed; ``threads`` how many threads to use (``None``: all).
    ``given`` holds the values of ``program.given`` for these samples, one row per
    node, ``count`` columns. The threads take ranges of blocks in turn until none
    is left (a thread slowed by other work on the machine takes fewer); each
    block's samples are a function of their index alone, so who runs which never
    changes them. On any exception (Ctrl-C included) the threads stop at their
    next range and are waited for before it leaves: none writes into ``out`` after.
    With ``column``, the samples go to ``out[:, column:column+count]`` instead (a
    worker's block of one chunk; ``out`` then needs ``column + count`` columns).
    """
    if count <= 0:
        return
    if given is None:
        given = _NOTHING_GIVEN
    if given.shape != (len(program.given), count) and program.given:
        raise ValueError(f"given must be {len(program.given)} x {count}, not {given.shape}")
    column = start if column is None else column
    if out.ndim != 2 or out.shape[0] != len(program.outputs) or out.shape[1] < column + count:
        raise ValueError(f"out must be {len(program.outputs)} x at least {column + count}")
    entry = _ready_entry()
    pieces = _ready_pieces(program)
    given = np.ascontiguousarray(given, dtype=np.float64)
    table = np.ascontiguousarray(program.table, dtype=np.float64)
    n_flows = _flows_scratch(program)
    pointers = (
        _address(program.code, np.int64),
        _address(program.params, np.float64),
        _address(program.keys, np.uint64),
        _address(program.output_slots, np.int64),
        _address(given, np.float64),
        _address(table, np.float64),
        # the kernel writes sample s at column s: each row moved start - column columns back
        _address(out, np.float64) - 8 * (start - column),
    )
    sizes = np.zeros(len(Size), dtype=np.int64)  # first and end block: set per call
    sizes[Size.N_OPS], sizes[Size.N_SLOTS] = program.code.shape[0], program.n_slots
    sizes[Size.N_OUTPUTS], sizes[Size.OUT_COLUMNS] = out.shape
    sizes[Size.GIVEN_ROWS], sizes[Size.GIVEN_COLUMNS] = given.shape
    sizes[Size.TABLE_SIZE], sizes[Size.N_FLOWS] = table.size, n_flows
    sizes[Size.START], sizes[Size.COUNT], sizes[Size.BLOCK] = start, count, BLOCK
    n_blocks = (count + BLOCK - 1) // BLOCK
    seed = int(seed_key)

    def run(first_block: int, end_block: int, buf: np.ndarray, flows: np.ndarray) -> None:
        blocks = sizes.copy()  # each thread's own
        blocks[Size.FIRST_BLOCK], blocks[Size.END_BLOCK] = first_block, end_block
        room = np.zeros(2, dtype=np.uint64)  # for a result and an exception's details
        status = entry(
            room.ctypes.data,
            room.ctypes.data + room.itemsize,
            *pointers,
            buf.ctypes.data,
            flows.ctypes.data,
            blocks.ctypes.data,
            pieces.ctypes.data,
            seed,
        )
        if status not in _SUCCESS:
            raise RuntimeError(f"the kernel failed (numba status {status}); please report this")

    def scratch() -> tuple[np.ndarray, np.ndarray]:
        return np.empty((program.n_slots, BLOCK)), np.empty(max(n_flows, 1))

    workers = min(threads_for(threads), n_blocks)
    ranges = _Ranges(n_blocks, workers)
    if workers == 1:  # in this thread: an interruption comes between two ranges
        buf, flows = scratch()
        while taken := ranges.take():
            run(*taken, buf, flows)
        return
    crew = _Crew()

    def work() -> None:
        if not crew.sign_on():
            return
        try:
            buf, flows = scratch()
            while not crew.stopped and (taken := ranges.take()):
                run(*taken, buf, flows)
        finally:
            crew.sign_off()

    try:
        futures = [_threads_pool().submit(work) for _ in range(workers)]
        for future in futures:
            future.result()
    except BaseException:  # Ctrl-C, SIGTERM or a failed range: no thread may outlive the arrays
        crew.stop()
        raise


class _Ranges:
    """The ranges of a call's blocks, which its threads take in turn: each time a share of
    the blocks left (from ``_MIN_STEP`` to ``_MAX_STEP`` of them), so that the ranges
    shrink toward the end and the threads finish together (guided scheduling), where
    ranges of one size leave one thread waiting up to a whole range for the other."""

    def __init__(self, n_blocks: int, workers: int) -> None:
        self._next, self._end, self._shares = 0, n_blocks, 2 * workers
        self._lock = threading.Lock()

    def take(self) -> tuple[int, int] | None:
        """The next range's first block and end, or None when none is left."""
        with self._lock:
            first = self._next
            step = min(max((self._end - first) // self._shares, _MIN_STEP), _MAX_STEP)
            self._next = min(first + step, self._end)
            return (first, self._next) if first < self._end else None


class _Crew:
    """The threads running one call's ranges: told to stop and waited for at any moment.

    A thread signs on before its first range and off after its last; once the
    crew is stopped, a thread that has not yet signed on never starts.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._running = 0
        self.stopped = False

    def sign_on(self) -> bool:
        """Count the calling thread in; False when the crew has stopped already."""
        with self._changed:
            if not self.stopped:
                self._running += 1
            return not self.stopped

    def sign_off(self) -> None:
        with self._changed:
            self._running -= 1
            self._changed.notify_all()

    def stop(self) -> None:
        """Stop every thread at its next range and wait until none runs.

        A further interruption meanwhile only waits again: the arrays the threads
        write must outlive them. That takes a range of blocks at most.
        """
        while True:
            try:
                with self._changed:
                    self.stopped = True
                    self._changed.wait_for(lambda: self._running == 0)
                return
            except BaseException:  # the first interruption goes on once all are done
                continue
