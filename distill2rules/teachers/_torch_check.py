"""Vet a TorchScript archive before ``torch.jit.load`` runs any of it.

TorchScript is code: ``torch.jit.load`` compiles the archive's ``code/**/*.py`` and runs a
class's ``__setstate__`` while it unpickles ``data.pkl``; ``forward`` runs on our probe. A
scripted module can therefore call ``torch.from_file(path, shared=True)`` and write any file.
Unless the caller passes ``trust_code=True`` (``--trust-code``), this module checks, before
anything is loaded:

1. the zip: one top-level folder, no duplicated member names;
2. every pickle member (``data.pkl``, ``constants.pkl``, ``*.debug_pkl``...): its ``GLOBAL`` /
   ``STACK_GLOBAL`` imports are limited to tensor rebuilding (``torch._utils._rebuild_tensor*``,
   ``torch.*Storage``, ``collections.OrderedDict``, ``torch.jit._pickle.*``) and classes the
   archive itself defines (never ``torch.classes``, i.e. C++ custom classes);
3. every code member, parsed as Python: no ``__setstate__`` definitions, no ``while`` loops, no
   imports; every ``torch.<op>`` / ``ops.aten.<op>`` is on :data:`ALLOWED_OPS` (tensor math),
   ``ops.prim.<op>`` on :data:`ALLOWED_PRIM`, other ``ops.<namespace>`` are refused; bare calls
   are to :data:`ALLOWED_BUILTINS` or local names; method calls are to methods the archive
   defines, allowed ops, or list/dict/str helpers; ``__torch__.X`` names what the archive
   defines; ``torch``/``ops`` are never used as values (``getattr(torch, ...)``, aliasing);
4. a raw-text scan for ``from_file``, ``load_library``, ``__setstate__`` and ``torch.classes``
   (defence against a parser that reads the text differently from Python's);

and, after loading and before the first call, that every node of ``forward``'s inlined graph
is an allowed ``aten::`` / ``prim::`` operator.
"""

from __future__ import annotations

import ast
import pickletools
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from distill2rules.errors import TeacherError, UnsafeFileError

__all__ = ["ALLOWED_OPS", "ALLOWED_PRIM", "check_torchscript_archive", "check_torchscript_graph"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: aten operators (``torch.<op>`` in TorchScript code) a teacher may use: tensor math only.
ALLOWED_OPS = _words(
    """
    abs absolute acos acosh add add_ addmm all allclose amax amin any arange argmax argmin argsort
    asin asinh atan atan2 atanh avg_pool1d avg_pool2d baddbmm batch_norm bitwise_and bitwise_not
    bitwise_or bitwise_xor bmm broadcast_tensors broadcast_to bucketize cat ceil celu chunk clamp
    clamp_ clamp_max clamp_min clip clone concat concatenate contiguous conv1d conv2d copysign cos
    cosh cumprod cumsum deg2rad detach diag diagonal diff dim div div_ dot dropout dropout_ einsum
    elu elu_ embedding embedding_bag empty_like eq equal erf erfc exp exp2 expand expand_as expm1
    eye fill_ flatten flip floor floor_divide fmax fmin fmod frac full full_like gather ge gelu
    glu group_norm gt hardshrink hardsigmoid hardswish hardtanh hardtanh_ heaviside hypot
    index_select instance_norm is_floating_point is_nonzero isfinite isinf isnan isneginf
    isposinf item layer_norm le leaky_relu leaky_relu_ lerp lgamma linear linspace log log10
    log1p log2 log_sigmoid log_softmax logaddexp logical_and logical_not logical_or logical_xor
    logit logsumexp lt masked_fill matmul max max_pool1d max_pool2d maximum mean median min
    minimum mish mish_ mm mul mul_ mv nan_to_num nanmean nansum narrow ne neg negative norm
    normalize numel ones ones_like permute pow prelu prod rad2deg reciprocal relu relu6 relu_
    remainder repeat repeat_interleave reshape reshape_as round rrelu rsqrt rsub scalar_tensor
    searchsorted select selu selu_ sigmoid sigmoid_ sign signbit silu silu_ sin sinh size slice
    softmax softmin softplus softshrink sort split sqrt square squeeze stack std sub sub_ sum t
    take tan tanh tanh_ tensor threshold tile topk transpose tril triu true_divide trunc type_as
    unbind unflatten unsqueeze var view view_as where zeros zeros_like
    to dtype device is_cuda requires_grad shape ndim len format warn str
    eq ne lt gt le ge __is__ __isnot__ __not__ __contains__ __getitem__ __range_length
    __derive_index __and__ __or__ __xor__ __round_to_zero_floordiv
    floordiv append insert extend list dict keys values items copy Int Float Bool
    """
)
#: prim operators a teacher may use (control flow, constants, containers, errors).
ALLOWED_PRIM = _words(
    """
    Constant GetAttr SetAttr If Loop ListConstruct ListUnpack TupleConstruct TupleUnpack
    TupleIndex DictConstruct RaiseException unchecked_cast Uninitialized NumToTensor device
    dtype layout max min abs isinstance shape requires_grad data is_cuda Print
    TupleSlice ConstantChunk AutogradZero type MethodOverload
    """
)
#: bare calls allowed in code members (TorchScript builtins; they compile to allowed ops).
ALLOWED_BUILTINS = _words(
    """
    getattr hasattr isinstance len range enumerate zip int float bool str list tuple dict abs
    min max round divmod unchecked_cast annotate uninitialized print ord chr sum all any
    """
)
_CONTAINER_METHODS = _words(
    """
    append extend insert pop remove clear copy index count reverse sort keys values items get
    setdefault update format join split lower upper startswith endswith strip replace
    """
)
_MATH = _words("exp log log1p sqrt pow floor ceil fabs isnan isinf isfinite tanh erf pi e inf nan")
_PICKLE_GLOBALS = frozenset(
    {
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_parameter",
        "collections.OrderedDict",
        "builtins.set",
    }
)
_ROOTS = frozenset({"torch", "ops", "math", "__torch__", "builtins"})
_RAW_DENY = re.compile(
    r"from_file|load_library|__setstate__|_load_for|torch\s*\.\s*classes|ops\s*\.\s*load"
)
_PICKLE_SUFFIXES = (".pkl", ".debug_pkl")


class _Refused(Exception):
    """Internal: why an archive is refused."""


class _Corrupt(Exception):
    """Internal: the archive is damaged (not a safety question)."""


def _unsafe(path: Path, why: str) -> UnsafeFileError:
    return UnsafeFileError(
        f"{path.name} is TorchScript whose code goes beyond tensor math ({why}), and TorchScript "
        "runs when loaded;",
        hint="re-export the model as ONNX or a state_dict + sidecar JSON, or pass --trust-code "
        "if you trust its origin (see docs/security.md).",
    )


# ----------------------------------------------------------------------------- pickles


def _pickle_globals(data: bytes) -> Iterator[str]:
    """``module.name`` of every GLOBAL / STACK_GLOBAL in a pickle (STACK_GLOBAL via its strings)."""
    strings: list[str] = []
    for op, arg, _pos in pickletools.genops(data):
        if op.name in ("GLOBAL", "INST"):
            mod, _, name = str(arg).partition(" ")
            yield f"{mod}.{name}"
        elif op.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE", "BINUNICODE8"):
            strings.append(str(arg))
        elif op.name == "STACK_GLOBAL":
            if len(strings) < 2:
                raise _Refused("a pickle imports a name it does not spell out")
            yield f"{strings[-2]}.{strings[-1]}"


def _check_pickle(name: str, data: bytes, defined: set[str]) -> None:
    try:
        found = list(_pickle_globals(data))
    except _Refused:
        raise
    except Exception as exc:  # noqa: BLE001 - a malformed pickle is refused, never loaded
        raise _Refused(f"{name} is not a readable pickle: {str(exc)[:80]}") from None
    for g in found:
        if g in _PICKLE_GLOBALS:
            continue
        mod, _, attr = g.rpartition(".")
        if mod == "torch" and attr.endswith("Storage"):
            continue
        if mod == "torch.jit._pickle" and attr.startswith(("build_", "restore_type_tag")):
            continue
        if g.startswith("__torch__.") and ".classes." not in f".{g}." and g in defined:
            continue
        raise _Refused(f"{PurePosixPath(name).name} imports {g}")


# ----------------------------------------------------------------------------- code


def _chain(node: ast.AST) -> list[str] | None:
    """``a.b.c`` -> ``["a", "b", "c"]``; None if the chain does not start at a bare name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return parts[::-1]
    return None


def _check_chain(parts: list[str], defined: set[str]) -> None:
    root, dotted = parts[0], ".".join(parts)
    if root == "torch":
        if len(parts) != 2 or parts[1] not in ALLOWED_OPS:
            raise _Refused(f"it calls {dotted}")
    elif root == "ops":
        if len(parts) != 3:
            raise _Refused(f"it uses {dotted}")
        ns, op = parts[1], parts[2]
        ok = (ns == "aten" and op in ALLOWED_OPS) or (ns == "prim" and op in ALLOWED_PRIM)
        if not ok:
            raise _Refused(f"it calls {dotted}")
    elif root == "math":
        if len(parts) != 2 or parts[1] not in _MATH:
            raise _Refused(f"it calls {dotted}")
    elif root == "__torch__":
        if "classes" in parts or dotted not in defined:
            raise _Refused(f"it uses {dotted}, which the archive does not define")
    elif root == "builtins":
        raise _Refused(f"it uses {dotted}")


class _CodeVisitor(ast.NodeVisitor):
    def __init__(self, defined: set[str], methods: set[str]) -> None:
        self.defined = defined
        self.methods = methods

    def visit_Import(self, node: ast.Import) -> None:
        raise _Refused("it has an import statement")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        raise _Refused("it has an import statement")

    def visit_While(self, node: ast.While) -> None:
        raise _Refused("it has a while loop, which may never end")

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        if node.name in ("__setstate__", "__reduce__", "__reduce_ex__"):
            raise _Refused(f"it defines {node.name}, which runs while loading")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        parts = _chain(node)
        if parts is not None and parts[0] in _ROOTS:
            _check_chain(parts, self.defined)
            return  # the whole chain is checked; do not revisit its bare root
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in _ROOTS:
            raise _Refused(f"it uses the module {node.id} as a value")

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name):
            if func.id in ("getattr", "hasattr", "setattr") and node.args:
                target = _chain(node.args[0])
                if target is not None and target[0] in _ROOTS:
                    raise _Refused(f"it calls {func.id} on {'.'.join(target)}")
            if func.id in ("eval", "exec", "open", "compile", "__import__", "setattr"):
                raise _Refused(f"it calls {func.id}")
        elif isinstance(func, ast.Attribute):
            parts = _chain(func)
            if parts is None or parts[0] not in _ROOTS:
                name = func.attr
                if not (name in self.methods or name in ALLOWED_OPS or name in _CONTAINER_METHODS):
                    raise _Refused(f"it calls the method .{name}()")
        self.generic_visit(node)


def _module_of(member: str) -> str:
    """``arch/code/__torch__/torch/nn/linear.py`` -> ``__torch__.torch.nn.linear``."""
    inner = member.split("/code/", 1)[1]
    return inner[: -len(".py")].replace("/", ".")


def _definitions(trees: dict[str, ast.Module]) -> tuple[set[str], set[str]]:
    defined: set[str] = set()
    methods: set[str] = set()
    for member, tree in trees.items():
        mod = _module_of(member)
        for node in tree.body:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
                defined.add(f"{mod}.{node.name}")
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef):
                        methods.add(item.name)
            if isinstance(node, ast.FunctionDef):
                methods.add(node.name)
    return defined, methods


def _check(path: Path) -> None:
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        if len(set(names)) != len(names):
            raise _Refused("the zip holds duplicated member names")
        roots = {n.split("/", 1)[0] for n in names}
        if len(roots) != 1 or any("/" not in n for n in names):
            raise _Refused("the zip members are not all in one folder")
        code = [n for n in names if "/code/" in n and n.endswith(".py")]
        pickles = [n for n in names if n.endswith(_PICKLE_SUFFIXES)]
        texts: dict[str, str] = {}
        for n in code:
            try:
                texts[n] = zf.read(n).decode("utf-8")
            except UnicodeDecodeError:
                raise _Refused(f"{n} is not UTF-8 text") from None
        blobs = {n: zf.read(n) for n in pickles}
    trees: dict[str, ast.Module] = {}
    for n, text in texts.items():
        hit = _RAW_DENY.search(text)
        if hit:
            raise _Refused(f"its code mentions {hit.group(0)}")
        try:
            trees[n] = ast.parse(text, filename=n)
        except (SyntaxError, ValueError) as exc:
            raise _Corrupt(
                f"its code member {PurePosixPath(n).name} does not parse ({str(exc)[:80]})"
            ) from None
    defined, methods = _definitions(trees)
    for n, blob in blobs.items():
        _check_pickle(n, blob, defined)
    visitor = _CodeVisitor(defined, methods)
    for tree in trees.values():
        visitor.visit(tree)


def check_torchscript_archive(path: str | Path) -> None:
    """Refuse a TorchScript archive whose code or pickles reach beyond tensor math.

    Raises
    ------
    UnsafeFileError
        One line naming what was found and ``--trust-code``.
    """
    p = Path(path)
    try:
        _check(p)
    except _Refused as exc:
        raise _unsafe(p, str(exc)) from None
    except _Corrupt as exc:
        raise TeacherError(
            f"cannot read {p.name}: {exc};",
            hint="the file may be corrupted: re-save it with torch.jit.save.",
        ) from None
    except (zipfile.BadZipFile, OSError, RuntimeError) as exc:  # unreadable archive: refuse
        raise _unsafe(p, f"unreadable archive: {str(exc)[:80]}") from None


def _graph_kinds(block: Any) -> Iterator[str]:
    for node in block.nodes():
        yield node.kind()
        for sub in node.blocks():
            yield from _graph_kinds(sub)


def check_torchscript_graph(module: Any, path: str | Path) -> None:
    """After loading, before the first call: every node of ``forward`` is an allowed operator."""
    try:
        graph = module.inlined_graph
    except Exception as exc:  # noqa: BLE001 - cannot inspect: refuse
        raise _unsafe(Path(path), f"its forward graph cannot be inspected: {exc}") from None
    for kind in _graph_kinds(graph):
        ns, _, op = kind.partition("::")
        if (ns == "aten" and op in ALLOWED_OPS) or (ns == "prim" and op in ALLOWED_PRIM):
            continue
        raise _unsafe(Path(path), f"its forward runs {kind}")
