"""The teacher-format registry: what a teacher adapter declares (:class:`TeacherFormat`).

A format names how to recognise its files (``sniff`` on a :class:`Probe` of the file's first
bytes, ``suffixes`` it claims when no content matched, ``misfit`` for a file that carries its
suffix but not its content) and how to load them (``load``). Both may be ``"module:function"``
references, imported on first use: registering a format imports neither torch nor lightgbm.
How a teacher's attributions are computed is a fact of the adapter class it loads
(``Teacher.attribution``: ``"tree"``, ``"deep"`` or ``"permutation"``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from distill2rules.errors import TeacherError
from distill2rules.registry import Registry, resolve

if TYPE_CHECKING:  # pragma: no cover
    from distill2rules.teachers._base import Teacher

__all__ = ["TEACHER_FORMATS", "Probe", "TeacherFormat"]


@dataclass(frozen=True)
class Probe:
    """What detection looks at: the path, its suffix, the first 4 KiB, zip member names."""

    path: Path
    head: bytes
    is_zip: bool = False
    zip_names: tuple[str, ...] = ()

    @property
    def suffix(self) -> str:
        return self.path.suffix.lower()

    @property
    def zip_inner(self) -> frozenset[str]:
        """Zip member names without their top folder (``archive/data.pkl`` → ``data.pkl``)."""
        return frozenset(n.split("/", 1)[1] if "/" in n else n for n in self.zip_names)

    @property
    def is_pickle(self) -> bool:
        """The bytes start with a pickle protocol 2-5 header."""
        return self.head[:1] == b"\x80" and len(self.head) > 1 and 2 <= self.head[1] <= 5


@dataclass(frozen=True)
class TeacherFormat:
    """A registered teacher format.

    Parameters
    ----------
    load : callable or str
        ``load(path, sidecar, *, trust_pickle, trust_code) -> Teacher`` (or ``"module:fn"``).
    sniff : callable or str, optional
        ``sniff(probe) -> bool``: the file's content is of this format.
    suffixes : tuple of str
        Suffixes claimed when no format's ``sniff`` matched a non-archive file (``.onnx``).
    misfit : callable or str, optional
        ``misfit(probe) -> TeacherError | None``: a file with this format's suffix whose content
        is not of it (checked when nothing matched), for a one-line error naming the fix.
    sniff_rank : int
        Sniffers run in increasing rank (more specific content checks first).
    help : str
        One line for the docs.
    """

    load: Callable[..., Teacher] | str
    sniff: Callable[[Probe], bool] | str | None = None
    suffixes: tuple[str, ...] = ()
    misfit: Callable[[Probe], TeacherError | None] | str | None = None
    sniff_rank: int = 50
    help: str = ""
    aliases: tuple[str, ...] = field(default=())

    def sniffs(self, probe: Probe) -> bool:
        return self.sniff is not None and bool(resolve(self.sniff)(probe))

    def misfit_error(self, probe: Probe) -> TeacherError | None:
        return None if self.misfit is None else resolve(self.misfit)(probe)

    def load_file(
        self, path: Path, sidecar: Any, *, trust_pickle: bool, trust_code: bool
    ) -> Teacher:
        return resolve(self.load)(path, sidecar, trust_pickle=trust_pickle, trust_code=trust_code)


def _unknown_format(name: str, choices: tuple[str, ...]) -> TeacherError:
    return TeacherError(
        f"unknown teacher format {name!r};", hint="use one of " + ", ".join(choices) + "."
    )


#: format name -> :class:`TeacherFormat` (``load_teacher(format=...)``, ``--teacher-format``)
TEACHER_FORMATS: Registry[TeacherFormat] = Registry(
    "teacher format", error=TeacherError, unknown=_unknown_format
)
