"""TorchScript is code: a teacher archive may not reach outside tensor math unless --trust-code.

The attack from issue 15: a scripted module whose ``forward`` (run by our load-time probe) or
``__setstate__`` (run inside ``torch.jit.load``) calls ``torch.from_file(path, shared=True)``
overwrote a file. Each test fails on the code before the allowlist check (the file is written,
or the archive loads) and passes with it.
"""

from __future__ import annotations

import io
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
from security_helpers import fit_args, rewrite_zip

torch = pytest.importorskip("torch")
nn = torch.nn

VICTIM_TEXT = "#!/bin/sh\necho untouched\n"


@pytest.fixture
def victim(tmp_path) -> Path:
    p = tmp_path / "victim.sh"
    p.write_text(VICTIM_TEXT)
    return p


def _save(module, path: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.save(torch.jit.script(module), str(path))
    return path


class EvilForward(nn.Module):
    def __init__(self, target: str):
        super().__init__()
        self.lin = nn.Linear(4, 2)
        self.target = target

    def forward(self, x):
        t = torch.from_file(self.target, shared=True, size=4, dtype=torch.uint8)
        t.fill_(66)
        return self.lin(x) + t.sum() * 0


class EvilSetstate(nn.Module):
    def __init__(self, target: str):
        super().__init__()
        self.lin = nn.Linear(4, 2)
        self.target = target

    def forward(self, x):
        return self.lin(x)

    @torch.jit.export
    def __getstate__(self):
        return (self.target, self.training)

    @torch.jit.export
    def __setstate__(self, state: tuple[str, bool]):
        self.training = state[1]
        self.target = state[0]
        t = torch.from_file(state[0], shared=True, size=4, dtype=torch.uint8)
        t.fill_(66)  # runs inside torch.jit.load, before any probe


def test_from_file_in_forward_is_refused_by_fit(cli, victim, small_csv, tmp_path):
    teacher = _save(EvilForward(str(victim)), tmp_path / "teacher.pt")
    r = cli(*fit_args(teacher, small_csv, tmp_path / "art"))
    assert victim.read_text() == VICTIM_TEXT  # the probe never ran forward
    assert r.code == 2, r.err
    line = [ln for ln in r.err.splitlines() if ln.strip()]
    assert len(line) == 1 and "Traceback" not in r.err
    assert "torch.from_file" in line[0] or "from_file" in line[0]
    assert "--trust-code" in line[0]
    assert not (tmp_path / "art").exists()


def test_from_file_in_setstate_is_refused_before_torch_jit_load(victim, tmp_path):
    from distill2rules.errors import UnsafeFileError
    from distill2rules.teachers import load_teacher

    teacher = _save(EvilSetstate(str(victim)), tmp_path / "teacher.pt")
    assert victim.read_text() == VICTIM_TEXT
    with pytest.raises(UnsafeFileError, match="__setstate__.*--trust-code"):
        load_teacher(teacher)
    assert victim.read_text() == VICTIM_TEXT  # __setstate__ never ran


class Plain(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 2)

    def forward(self, x):
        return self.lin(x)


def _plain_archive(tmp_path: Path) -> Path:
    return _save(Plain(), tmp_path / "plain.pt")


def _is_plain_code(member: str, data: bytes) -> bool:
    return "/code/" in member and member.endswith(".py") and b"class Plain(" in data


def _edit_forward(tmp_path: Path, name: str, line: str) -> Path:
    """The plain archive with ``line`` inserted at the top of ``forward`` (hand-crafted code)."""
    src = _plain_archive(tmp_path)

    def edit(member: str, data: bytes) -> bytes:
        if not _is_plain_code(member, data):
            return data
        text = data.decode()
        head, sep, tail = text.partition("x: Tensor) -> Tensor:\n")
        assert sep, text
        return (head + sep + f"    {line}\n" + tail).encode()

    return rewrite_zip(src, tmp_path / name, edit)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("_9 = ops.myns.evil(x)", "ops.myns.evil"),  # a custom (C++ library) operator
        ('_9 = getattr(torch, "save")', "getattr on torch"),  # reaching ops by name
        ("_9 = torch", "module torch as a value"),  # aliasing the module
        ("_9 = x.untyped_storage()", ".untyped_storage()"),  # storage access via a method
        ('_9 = torch.save(x, "/tmp/out.pt")', "torch.save"),  # not tensor math
        ("_9 = __torch__.torch.classes.ns.Evil()", "classes"),  # C++ custom classes
        ('_9 = torch.ops.load_library("/tmp/evil.so")', "load"),  # a native library
    ],
)
def test_hand_crafted_code_beyond_tensor_math_is_refused(tmp_path, line, reason):
    from distill2rules.errors import UnsafeFileError
    from distill2rules.teachers import load_teacher

    crafted = _edit_forward(tmp_path, "crafted.pt", line)
    with pytest.raises(UnsafeFileError, match="--trust-code") as exc:
        load_teacher(crafted, feature_names=list("abcd"))
    assert reason in str(exc.value)
    assert "\n" not in str(exc.value)


def test_endless_while_loop_is_refused(tmp_path):
    from distill2rules.errors import UnsafeFileError
    from distill2rules.teachers import load_teacher

    crafted = _edit_forward(tmp_path, "spin.pt", "while True:\n      pass")
    with pytest.raises(UnsafeFileError, match="while loop"):
        load_teacher(crafted, feature_names=list("abcd"))


class _Reduce:
    def __reduce__(self):
        import os

        return (os.getcwd, ())


def test_pickle_member_importing_anything_but_tensors_is_refused(tmp_path):
    from distill2rules.errors import UnsafeFileError
    from distill2rules.teachers import load_teacher

    src = _plain_archive(tmp_path)
    evil = pickle.dumps(_Reduce(), protocol=2)
    crafted = rewrite_zip(
        src, tmp_path / "pkl.pt", lambda m, d: evil if m.endswith("/constants.pkl") else d
    )
    with pytest.raises(UnsafeFileError, match=r"constants\.pkl imports (posix|os)\.getcwd"):
        load_teacher(crafted, feature_names=list("abcd"))


def test_duplicated_zip_members_are_refused(tmp_path):
    """Two members with one name: Python's zipfile and torch's reader may pick different ones."""
    from distill2rules.errors import UnsafeFileError
    from distill2rules.teachers import load_teacher

    src = _plain_archive(tmp_path)
    dup = tmp_path / "dup.pt"
    import zipfile

    with zipfile.ZipFile(io.BytesIO(src.read_bytes())) as zin:
        members = [(n, zin.read(n)) for n in zin.namelist()]
    code = next((n, d) for n, d in members if _is_plain_code(n, d))
    with zipfile.ZipFile(dup, "w") as zout, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name"
        for name, data in [*members, code]:
            zout.writestr(name, data)
    with pytest.raises(UnsafeFileError, match="duplicated"):
        load_teacher(dup, feature_names=list("abcd"))


class Rich(nn.Module):
    """What real tabular teachers use: normalisation, embeddings, dropout, many activations."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mu", torch.zeros(4))
        self.register_buffer("sd", torch.ones(4))
        self.l1 = nn.Linear(4, 16)
        self.bn = nn.BatchNorm1d(16)
        self.ln = nn.LayerNorm(16)
        self.acts = nn.ModuleList(
            [nn.ReLU(), nn.GELU(), nn.Tanh(), nn.SiLU(), nn.LeakyReLU(), nn.ELU()]
        )
        self.drop = nn.Dropout(0.1)
        self.l2 = nn.Linear(16, 3)

    def forward(self, x):
        h = torch.nan_to_num(torch.clamp((x - self.mu) / self.sd, -5.0, 5.0))
        h = self.ln(self.bn(self.l1(h)))
        for act in self.acts:
            h = act(h)
        return torch.log_softmax(self.l2(self.drop(h)), dim=1)


@pytest.mark.parametrize("how", ["script", "trace"])
def test_ordinary_tabular_networks_load_by_default(tmp_path, how, torch_one_thread):
    from distill2rules.teachers import load_teacher

    net = Rich().eval()
    example = torch.randn(5, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        saved = torch.jit.script(net) if how == "script" else torch.jit.trace(net, example)
        torch.jit.save(saved, str(tmp_path / "rich.pt"))
    teacher = load_teacher(tmp_path / "rich.pt", feature_names=list("abcd"))
    import pandas as pd

    X = pd.DataFrame(np.random.default_rng(0).standard_normal((8, 4)), columns=list("abcd"))
    with torch.no_grad():
        want = net(torch.tensor(X.to_numpy(), dtype=torch.float32)).double().numpy()
    np.testing.assert_allclose(teacher.logits(X), want, atol=1e-5)


def test_trust_code_loads_an_op_outside_the_allowlist(tmp_path, cli, small_csv):
    """``--trust-code`` is the way out for a harmless operator the allowlist lacks."""
    from distill2rules.errors import UnsafeFileError
    from distill2rules.teachers import load_teacher

    class Kron(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 2)

        def forward(self, x):
            return self.lin(x) + torch.kron(torch.ones(1, 1), torch.zeros(1, 2))

    path = _save(Kron(), tmp_path / "kron.pt")
    with pytest.raises(UnsafeFileError, match="torch.kron"):
        load_teacher(path, feature_names=list("abcd"))
    assert load_teacher(path, feature_names=list("abcd"), trust_code=True).n_classes == 2
    r = cli(*fit_args(path, small_csv, tmp_path / "art", "--trust-code"))
    assert r.code == 0, r.err


class Spin(nn.Module):
    """Tensor math only, so it passes the allowlist, but its loop runs for hours."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 2)
        self.n = 10**12

    def forward(self, x):
        s = torch.zeros(1)
        for _ in range(self.n):
            s = s + 1.0
        return self.lin(x) + s * 0


def test_load_probe_has_a_time_limit(tmp_path, small_csv):
    """In a child process: the abandoned probe thread dies with it."""
    import subprocess

    from security_helpers import cli_subprocess, one_line_error

    teacher = _save(Spin(), tmp_path / "spin.pt")
    try:
        proc = cli_subprocess(
            *fit_args(teacher, small_csv, tmp_path / "art"),
            env={"DISTILL2RULES_PROBE_SECONDS": "2"},
            timeout=120,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the probe of an endless TorchScript loop was not time-limited")
    assert proc.returncode == 2, proc.stderr[-400:]
    line = one_line_error(proc.stderr)
    assert "did not finish within the teacher probe time limit (2 s)" in line
    assert "DISTILL2RULES_PROBE_SECONDS" in line
