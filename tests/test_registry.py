"""The one plug-in idiom: register(name, obj, overwrite=False) / get(name) for students, teacher
formats and exporters; CLI help generated from the registries."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from distill2rules.cli._choices import export_format_help, student_help, teacher_format_help
from distill2rules.errors import ConfigError, TeacherError
from distill2rules.registry import Registry, resolve
from distill2rules.students import (
    STUDENTS,
    StudentPlugin,
    get_student,
    register_student,
    student_class,
)
from distill2rules.teachers import (
    TEACHER_FORMATS,
    Teacher,
    TeacherFormat,
    detect_format,
    load_teacher,
    register_teacher_format,
)


def test_registry_register_get_and_refusals():
    r: Registry[int] = Registry("widget")
    assert r.register("a", 1, aliases=("alpha",)) == 1
    assert r.get("a") == 1 and r.get("alpha") == 1 and r.canonical("alpha") == "a"
    with pytest.raises(ConfigError, match=r"unknown widget 'b'\. Choose one of: a\."):
        r.get("b")
    with pytest.raises(ConfigError, match="a widget named 'a' is already registered"):
        r.register("a", 2)
    with pytest.raises(ConfigError, match="already registered"):
        r["a"] = 2
    r.register("a", 3, overwrite=True)
    assert r.get("a") == 3 and r.names() == ("a",)
    assert resolve("distill2rules.registry:Registry") is Registry


def test_student_plugins_declare_their_facts():
    assert STUDENTS.names() == ("logreg", "scorecard", "ebm", "rules", "tree", "mlp")
    for name, plugin in STUDENTS.items():
        assert plugin.help and plugin.size_param and plugin.default_sizes, name
        cls = student_class(name)
        assert plugin.size_param in cls().get_params(), name  # the knob is a real parameter
        assert plugin.class_name == cls.__name__
    assert get_student("logreg").default_temperature == 0.0
    with pytest.raises(ConfigError, match=r"unknown student 'forest'\. Choose one of: logreg"):
        get_student("forest")
    with pytest.raises(ConfigError, match="already registered"):
        register_student("ebm", StudentPlugin("distill2rules.students.ebm:EBMStudent"))


def test_student_classes_importable_from_the_package():
    from distill2rules.students import EBMStudent, LogRegStudent, MLPStudent, RuleListStudent

    assert student_class("ebm") is EBMStudent and student_class("logreg") is LogRegStudent
    assert student_class("mlp") is MLPStudent and student_class("rules") is RuleListStudent


def test_cli_help_comes_from_the_registries():
    assert all(f"{n} (" in student_help() for n in STUDENTS)
    assert teacher_format_help().endswith(
        "lightgbm, torchscript, torch_state_dict, onnx, skops, pickle."
    )
    assert export_format_help() == "onnx or rulecard."  # `reasons` writes no artifact file


class _ConstTeacher(Teacher):
    kind = "const"

    def __init__(self, path: Path) -> None:
        super().__init__(feature_names=["x"], classes=[0, 1], n_classes=2, source=str(path))

    def transform(self, X):
        return np.zeros((len(X), 1), dtype=np.float32)

    def logits_from_model_input(self, Z):
        return np.zeros((len(Z), 2))

    def n_parameters(self) -> int:
        return 0


def _sniff_const(probe) -> bool:
    return probe.head.startswith(b"CONST-TEACHER")


def _load_const(path, sidecar, *, trust_pickle, trust_code):
    return _ConstTeacher(path)


def test_a_new_teacher_format_is_one_register_call(tmp_path):
    f = tmp_path / "model.const"
    f.write_bytes(b"CONST-TEACHER v1\n")
    with pytest.raises(TeacherError, match="cannot tell the format"):
        detect_format(f)
    register_teacher_format(
        "const", TeacherFormat(load=_load_const, sniff=_sniff_const, aliases=("k",))
    )
    try:
        assert detect_format(f) == "const"
        t = load_teacher(f)
        assert isinstance(t, _ConstTeacher) and t.attribution == "permutation"
        assert isinstance(load_teacher(f, format="k"), _ConstTeacher)
    finally:
        dict.pop(TEACHER_FORMATS, "const")
        TEACHER_FORMATS.aliases.pop("k")


def test_registering_imports_no_heavy_library():
    code = (
        "import sys\n"
        "import distill2rules.cli.main, distill2rules.students, distill2rules.teachers, distill2rules.exporters\n"
        "heavy = [m for m in ('torch', 'interpret', 'sklearn', 'lightgbm', 'shap', 'onnx', 'pandas')"
        " if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"
