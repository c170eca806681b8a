"""FIGS — a greedy sum of trees (Tan et al., 2022) on the rule list's binned view.

The ``rules`` student's second learner (``learner="figs"``, or ``"auto"`` when it wins on
validation). It regresses the teacher's logit ``log(t_1 / t_0)`` (two classes; clipped at
``±LOGIT_CLIP``) or the soft targets (more classes) with a sum of trees grown one split at a
time: at each step every leaf of every tree, and the root of a new tree, is offered its best
split of the residual that tree sees (the target minus the other trees), and the split that
most reduces the squared error is taken; then every tree's leaf values are re-fitted to its
residual (back-fitting). Everything runs on the per-feature codes of the rule list's binned
view: numeric quantile bins, the missing value and every special value as codes of their own,
categorical levels (``""`` = missing) — so a split is a set of codes, and a leaf is, per
feature, the set of codes still allowed.

Lowering: the leaves of the trees cut the rows into cells (one leaf per tree); every cell that
holds training rows becomes one rule, its conditions the per-feature code sets of its leaves
(intervals of bins, with the missing value and special values listed explicitly), its
probabilities the mean soft target of its rows (as the beam-search list). The largest cell is
the default rule. The trees grow while the cells (rules + default) stay within ``max_rules + 1``,
so a FIGS rule list is exactly as large as the spec says: a single tree of ``s`` splits is
``s`` rules + default; several trees of fewer splits can give as many cells.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from distill2rules.students.rules import _Binned

LOGIT_CLIP = 6.0
_TINY = 1e-12


@dataclass
class _Leaf:
    allowed: dict[int, np.ndarray]  # feature -> bool mask over its codes (absent: every code)


@dataclass
class _Tree:
    leaves: list[_Leaf]
    assign: np.ndarray  # (n,) leaf of every training row
    values: np.ndarray  # (n_leaves, q)


@dataclass
class _Split:
    gain: float
    tree: int  # -1: a new tree
    leaf: int
    j: int
    left: (
        np.ndarray
    )  # bool mask over the codes of feature j (the leaf's own allowed codes intersected)


@dataclass
class Snapshot:
    """The trees after some number of splits: leaf code masks and row assignments."""

    leaves: list[list[dict[int, np.ndarray]]]
    assign: list[np.ndarray]
    n_splits: int


def figs_target(targets: np.ndarray) -> np.ndarray:
    """``(n, q)`` regression target: the clipped logit (two classes) or the soft targets."""
    if targets.shape[1] == 2:
        with np.errstate(divide="ignore"):
            z = np.log(np.maximum(targets[:, 1], _TINY)) - np.log(np.maximum(targets[:, 0], _TINY))
        return np.clip(z, -LOGIT_CLIP, LOGIT_CLIP)[:, None]
    return np.asarray(targets, dtype=np.float64)


class Figs:
    """Grow a FIGS model on ``binned`` codes; :meth:`grow` returns a snapshot after every split."""

    def __init__(
        self, binned: _Binned, Y: np.ndarray, w: np.ndarray, *, max_rules: int, min_rows: int
    ) -> None:
        self.b = binned
        self.Y = np.asarray(Y, dtype=np.float64)
        self.w = np.asarray(w, dtype=np.float64)
        self.max_cells = int(max_rules) + 1
        self.min_rows = int(min_rows)
        self.n = len(self.Y)
        self.trees: list[_Tree] = []
        self.F = np.zeros_like(self.Y)

    # ------------------------------------------------------------------ splits
    def _best_split(
        self, rows: np.ndarray, R: np.ndarray, allowed: dict[int, np.ndarray]
    ) -> tuple[float, int, np.ndarray] | None:
        """Best (gain, feature, left code mask) for the rows of one leaf with residual ``R``."""
        if len(rows) < 2 * self.min_rows:
            return None
        w = self.w[rows]
        Rw = R[rows] * w[:, None]
        tot_S, tot_N = Rw.sum(axis=0), float(w.sum())
        base = float((tot_S**2).sum() / max(tot_N, _TINY))
        best: tuple[float, int, np.ndarray] | None = None
        for j in range(len(self.b.names)):
            nb = self.b.n_codes(j)
            codes = self.b.codes[j][rows]
            H = np.stack(
                [np.bincount(codes, weights=Rw[:, c], minlength=nb) for c in range(Rw.shape[1])],
                axis=1,
            )
            N = np.bincount(codes, weights=w, minlength=nb)
            C = np.bincount(codes, minlength=nb)
            for left in self._left_sets(j, H, N, C):
                CL = int(C[left].sum())
                if CL < self.min_rows or len(rows) - CL < self.min_rows:
                    continue
                SL, NL = H[left].sum(axis=0), float(N[left].sum())
                SR, NR = tot_S - SL, tot_N - NL
                gain = float((SL**2).sum() / max(NL, _TINY) + (SR**2).sum() / max(NR, _TINY)) - base
                if best is None or gain > best[0] + 1e-12:
                    mask = left.copy()
                    if j in allowed:
                        mask &= allowed[j]
                    best = (gain, j, mask)
        return best

    def _left_sets(self, j: int, H: np.ndarray, N: np.ndarray, C: np.ndarray) -> list[np.ndarray]:
        """Candidate left code sets of feature ``j``: thresholds (off-grid codes on either side),
        off-grid vs grid, each off-grid code alone; categorical prefixes by mean residual."""
        nb = len(C)
        out: list[np.ndarray] = []
        present = C > 0
        if self.b.is_numeric[j]:
            m = len(self.b.thresholds[j])
            grid = np.zeros(nb, dtype=bool)
            grid[: m + 1] = True
            off = ~grid
            has_off = bool(present[off].any())
            # thresholds: only where both sides of the grid hold rows of this leaf
            cgrid = np.cumsum(C[: m + 1])
            total_grid = cgrid[-1] if m + 1 else 0
            for b in range(m):
                if cgrid[b] == 0 or cgrid[b] == total_grid or (b > 0 and cgrid[b] == cgrid[b - 1]):
                    continue
                left = np.zeros(nb, dtype=bool)
                left[: b + 1] = True
                out.append(left)
                if has_off:
                    out.append(left | off)
            if has_off and total_grid > 0:
                out.append(off.copy())
            offs = np.flatnonzero(off & present)
            if len(offs) > 1:
                for c in offs:
                    left = np.zeros(nb, dtype=bool)
                    left[c] = True
                    out.append(left)
            return out
        idx = np.flatnonzero(present)
        if len(idx) < 2:
            return out
        seen: set[bytes] = set()
        for col in range(H.shape[1]):
            order = idx[np.argsort(H[idx, col] / np.maximum(N[idx], _TINY), kind="stable")]
            for i in range(1, len(order)):
                left = np.zeros(nb, dtype=bool)
                left[order[:i]] = True
                key = left.tobytes()
                if key not in seen:
                    seen.add(key)
                    out.append(left)
        return out

    # ------------------------------------------------------------------ cells
    def _cell_keys(self) -> np.ndarray:
        key = np.zeros(self.n, dtype=np.int64)
        for t in self.trees:
            key = key * (len(t.leaves) + 1) + t.assign
        return np.unique(key, return_inverse=True)[1]

    def _cells_after(self, split: _Split, keys: np.ndarray) -> int:
        side = self._goes_right(split)
        return len(np.unique(keys * 2 + side))

    def _goes_right(self, split: _Split) -> np.ndarray:
        """(n,) 1 for rows sent right by ``split`` (0 for rows outside its leaf)."""
        inside = (
            np.ones(self.n, dtype=bool)
            if split.tree < 0
            else self.trees[split.tree].assign == split.leaf
        )
        return (inside & ~split.left[self.b.codes[split.j]]).astype(np.int64)

    # ------------------------------------------------------------------ growth
    def _apply(self, split: _Split) -> None:
        right_rows = self._goes_right(split).astype(bool)
        if split.tree < 0:
            nb = self.b.n_codes(split.j)
            left = _Leaf({split.j: split.left.copy()})
            right = _Leaf({split.j: ~split.left & np.ones(nb, dtype=bool)})
            self.trees.append(
                _Tree([left, right], right_rows.astype(np.int64), np.zeros((2, self.Y.shape[1])))
            )
            return
        t = self.trees[split.tree]
        leaf = t.leaves[split.leaf]
        nb = self.b.n_codes(split.j)
        base = leaf.allowed.get(split.j, np.ones(nb, dtype=bool))
        left = _Leaf({**leaf.allowed, split.j: base & split.left})
        right = _Leaf({**leaf.allowed, split.j: base & ~split.left})
        t.leaves[split.leaf] = left
        t.leaves.append(right)
        t.assign = np.where(right_rows, len(t.leaves) - 1, t.assign)
        t.values = np.vstack([t.values, np.zeros((1, self.Y.shape[1]))])

    def _backfit(self, passes: int = 2) -> None:
        for _ in range(passes):
            for t in self.trees:
                own = t.values[t.assign]
                R = self.Y - (self.F - own)
                k = len(t.leaves)
                Nw = np.bincount(t.assign, weights=self.w, minlength=k)
                S = np.stack(
                    [
                        np.bincount(t.assign, weights=self.w * R[:, c], minlength=k)
                        for c in range(R.shape[1])
                    ],
                    axis=1,
                )
                t.values = S / np.maximum(Nw, _TINY)[:, None]
                self.F = self.F - own + t.values[t.assign]

    def _snapshot(self, n_splits: int) -> Snapshot:
        return Snapshot(
            [[dict(lf.allowed) for lf in t.leaves] for t in self.trees],
            [t.assign.copy() for t in self.trees],
            n_splits,
        )

    def grow(self) -> list[Snapshot]:
        snaps = [self._snapshot(0)]
        all_rows = np.arange(self.n)
        for step in range(self.max_cells - 1):
            cands: list[_Split] = []
            for ti, t in enumerate(self.trees):
                R = self.Y - (self.F - t.values[t.assign])
                for li, leaf in enumerate(t.leaves):
                    found = self._best_split(np.flatnonzero(t.assign == li), R, leaf.allowed)
                    if found is not None:
                        cands.append(_Split(found[0], ti, li, found[1], found[2]))
            found = self._best_split(all_rows, self.Y - self.F, {})
            if found is not None:
                cands.append(_Split(found[0], -1, 0, found[1], found[2]))
            keys = self._cell_keys()
            chosen = None
            for c in sorted(cands, key=lambda s: -s.gain):
                if c.gain <= 1e-9 * float(self.w.sum()):
                    break
                if self._cells_after(c, keys) <= self.max_cells:
                    chosen = c
                    break
            if chosen is None:
                break
            self._apply(chosen)
            self._backfit()
            snaps.append(self._snapshot(step + 1))
        return snaps


# ----------------------------------------------------------------------------- lowering


def cells(snap: Snapshot, n: int) -> tuple[np.ndarray, list[dict[int, np.ndarray]]]:
    """(cell of every training row, per-feature code masks of every cell), cells by support, largest first."""
    key = np.zeros(n, dtype=np.int64)
    for leaves, assign in zip(snap.leaves, snap.assign):
        key = key * (len(leaves) + 1) + assign
    _, inv, counts = np.unique(key, return_inverse=True, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    cell_of = rank[inv]
    masks: list[dict[int, np.ndarray]] = []
    for c in order:
        row = int(np.flatnonzero(inv == c)[0])
        allowed: dict[int, np.ndarray] = {}
        for leaves, assign in zip(snap.leaves, snap.assign):
            for j, m in leaves[int(assign[row])].items():
                allowed[j] = allowed[j] & m if j in allowed else m.copy()
        masks.append(allowed)
    return cell_of, masks


def conditions(
    binned: _Binned, allowed: dict[int, np.ndarray], missing_category: str
) -> list[dict[str, Any]]:
    """Spec conditions for a cell's per-feature allowed code sets (see the module docstring)."""
    out: list[dict[str, Any]] = []
    for j in sorted(allowed):
        a = allowed[j]
        if a.all():
            continue
        name = binned.names[j]
        if not binned.is_numeric[j]:
            levels = binned.levels[j]
            chosen = {levels[c] for c in np.flatnonzero(a)}
            missing = missing_category in chosen
            inside = sorted(v for v in chosen if v != missing_category)
            outside = sorted(v for v in levels if v not in chosen and v != missing_category)
            if not inside and missing:
                out.append({"feature": name, "op": "is_missing"})
            elif not outside and not missing:
                out.append({"feature": name, "op": "not_missing"})
            elif len(outside) < len(inside):
                out.append({"feature": name, "op": "not_in", "values": outside, "missing": missing})
            else:
                out.append({"feature": name, "op": "in", "values": inside, "missing": missing})
            continue
        thr = binned.thresholds[j]
        m = len(thr)
        grid, miss_ok, sp = a[: m + 1], bool(a[m + 1]), a[m + 2 :]
        specials = binned.specials[j]
        ok_sp = sorted(specials[i] for i in np.flatnonzero(sp))
        bad_sp = sorted(specials[i] for i in np.flatnonzero(~sp))
        if grid.any():
            idx = np.flatnonzero(grid)
            lo, hi = int(idx[0]), int(idx[-1])
            extra = {"special": ok_sp} if ok_sp else {}
            if lo > 0:
                out.append(
                    {
                        "feature": name,
                        "op": ">",
                        "value": float(thr[lo - 1]),
                        "missing": miss_ok,
                        **extra,
                    }
                )
            if hi < m:
                out.append(
                    {
                        "feature": name,
                        "op": "<=",
                        "value": float(thr[hi]),
                        "missing": miss_ok,
                        **extra,
                    }
                )
            if lo == 0 and hi == m:
                if not miss_ok:
                    out.append({"feature": name, "op": "not_missing"})
                if bad_sp:
                    out.append({"feature": name, "op": "not_special", "values": bad_sp})
            continue
        if miss_ok and not ok_sp:
            out.append({"feature": name, "op": "is_missing"})
        elif ok_sp and not miss_ok:
            out.append({"feature": name, "op": "is_special", "values": ok_sp})
        else:  # missing or one of the listed codes: no grid value passes both comparisons
            v = float(thr[0]) if m else 0.0
            out.append({"feature": name, "op": "<=", "value": v, "missing": True, "special": ok_sp})
            out.append({"feature": name, "op": ">", "value": v, "missing": True, "special": ok_sp})
    return out
