"""``nngrade verify``: check the grading tests against catalogues of code variants.

Each assignment NAME may have a catalogue ``reference/variants/NAME.yml`` of
answers that differ from the reference solution::

    mutants:                      # wrong code students really write
      train-every-sample:
        about: one line
        answers: {q4: "def train(...): ..."}
        loses: [q4]               # must score less than full on each of these
    right:                        # correct code written another way
      predict-loop:
        about: one line
        answers: {q2: "def predict(...): ..."}

``answers`` has the format of ``samples.yml``: the code of a question's answer
cell, or a list with one entry per answer cell (``null`` keeps that cell's
reference answer); every other question keeps the reference answer.
:func:`verify` makes one submission per variant, grades them all with the
normal grader, and reports which mutants the tests kill and which
right variants keep full marks. A surviving mutant means a question's tests
are too weak; a right variant that loses points means a test checks more than
the property that matters.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml

from . import assignments
from .batch import grade
from .build import build
from .errors import BuildError, CatalogueError
from .grader import Limits, SubmissionResult
from .spec import Suite
from .variants import answer_cells, make_submission

logger = logging.getLogger(__name__)

MUTANT = "mutant"
RIGHT = "right"

#: Section of the catalogue file for each kind of variant.
SECTIONS = {"mutants": MUTANT, "right": RIGHT}

#: Statuses of a notebook that ran, however badly. Any other status (the kernel
#: did not start, the file was not read) says nothing about the tests, so such a
#: variant is neither killed nor full.
RAN = ("ok", "error", "output-limit", "memory", "timeout", "kernel-died")

_ENTRY_KEYS = {"about", "answers", "loses"}
_VARIANT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def default_catalogue_dir() -> Path:
    return assignments.project_root() / "reference" / "variants"


@dataclass(frozen=True)
class Variant:
    """One entry of a catalogue."""

    name: str
    kind: str
    about: str
    answers: dict[str, str | list[str]]
    loses: tuple[str, ...] = ()

    @property
    def expected(self) -> str:
        return f"loses {', '.join(self.loses)}" if self.kind == MUTANT else "full"

    @property
    def questions(self) -> tuple[str, ...]:
        """The questions this variant is about: those it must lose, or those it answers."""
        return self.loses if self.kind == MUTANT else tuple(self.answers)


@dataclass
class Outcome:
    """How one variant was graded."""

    assignment: str
    variant: Variant
    result: SubmissionResult

    @property
    def short(self) -> dict[str, tuple[float, float]]:
        """``{question: (points, possible)}`` of the questions it lost points on."""
        return {
            q: (self.result.questions.get(q, 0.0), possible)
            for q, possible in self.result.possible.items()
            if self.result.questions.get(q, 0.0) < possible - 1e-9
        }

    @property
    def passed(self) -> bool:
        """A mutant is killed, or a right variant scores full marks."""
        if self.result.status not in RAN:
            return False
        if self.variant.kind == MUTANT:
            return all(q in self.short for q in self.variant.loses)
        return not self.short and self.result.status == "ok"

    @property
    def got(self) -> str:
        lost = [f"{q} ({got:g}/{possible:g})" for q, (got, possible) in self.short.items()]
        text = f"loses {', '.join(lost)}" if lost else "full"
        if self.result.status != "ok":
            text += f" [{self.result.status}: {self.result.message}]"
        return text

    @property
    def verdict(self) -> str:
        if self.result.status not in RAN:
            return "NOT GRADED"
        if self.variant.kind == MUTANT:
            return "killed" if self.passed else "SURVIVED"
        return "full" if self.passed else "LOSES POINTS"


@dataclass(frozen=True)
class QuestionKills:
    """How many of the mutants aimed at one question its tests catch."""

    assignment: str
    question: str
    mutants: int
    killed: int


@dataclass
class VerifyReport:
    """What :func:`verify` found, over every assignment it checked."""

    outcomes: list[Outcome]
    questions: list[QuestionKills]
    #: Assignments left out, with the reason.
    skipped: dict[str, str] = field(default_factory=dict)
    #: Where the variant notebooks and their grading results are kept; None when
    #: they were in a temporary folder, now deleted.
    out: Path | None = None

    @property
    def mutants(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.variant.kind == MUTANT]

    @property
    def right(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.variant.kind == RIGHT]

    @property
    def killed(self) -> int:
        return sum(o.passed for o in self.mutants)

    @property
    def full(self) -> int:
        return sum(o.passed for o in self.right)

    @property
    def ok(self) -> bool:
        return all(o.passed for o in self.outcomes)

    @property
    def summary(self) -> str:
        return (
            f"mutants killed: {self.killed}/{len(self.mutants)}, "
            f"right variants full: {self.full}/{len(self.right)}"
        )


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice (PyYAML keeps the last one)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str):
                continue
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"{key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_catalogue(path: Path, suite: Suite) -> list[Variant]:
    """The variants in the catalogue ``path``, checked against ``suite``'s questions.

    Raises :class:`CatalogueError` naming the file and the variant at fault.
    """
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        raise CatalogueError(path, f"not valid YAML: {exc}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise CatalogueError(path, "must be a mapping with 'mutants:' and 'right:' sections")
    unknown = sorted(str(k) for k in data if k not in SECTIONS)
    if unknown:
        raise CatalogueError(
            path, f"unknown section {', '.join(unknown)}; the sections are 'mutants' and 'right'"
        )

    variants: list[Variant] = []
    for section, kind in SECTIONS.items():
        entries = data.get(section) or {}
        if not isinstance(entries, dict):
            raise CatalogueError(path, f"'{section}' must map variant names to entries")
        for name, entry in entries.items():
            variant = _variant(path, suite, kind, str(name), entry)
            if any(v.name == variant.name for v in variants):
                raise CatalogueError(
                    path, f"{variant.name!r} is both a mutant and a right variant; rename one"
                )
            variants.append(variant)
    if not variants:
        raise CatalogueError(path, "empty catalogue: add entries under 'mutants:' and 'right:'")
    return variants


def _variant(path: Path, suite: Suite, kind: str, name: str, entry) -> Variant:
    where = f"{kind} {name!r}"
    if not _VARIANT_NAME.match(name):
        raise CatalogueError(
            path, f"{where}: a name may hold only letters, digits, '-', '_' and '.'"
        )
    if not isinstance(entry, dict):
        raise CatalogueError(path, f"{where}: must be a mapping with 'about' and 'answers'")
    unknown = sorted(str(k) for k in entry if k not in _ENTRY_KEYS)
    if unknown:
        raise CatalogueError(
            path, f"{where}: unknown key {', '.join(unknown)} (keys: about, answers, loses)"
        )

    questions = [q.name for q in suite.questions]
    answers = entry.get("answers")
    if not isinstance(answers, dict) or not answers:
        raise CatalogueError(
            path, f"{where}: 'answers' must give the code of at least one question"
        )
    for question, code in answers.items():
        if question not in questions:
            raise CatalogueError(
                path,
                f"{where}: answers for {question!r}, which is not a question of "
                f"{suite.assignment} (questions: {', '.join(questions)})",
            )
        # In a list, null keeps the reference answer of that cell.
        cells = code if isinstance(code, list) else [code]
        if not all(c is None or isinstance(c, str) for c in cells) or not any(
            isinstance(c, str) for c in cells
        ):
            raise CatalogueError(
                path,
                f"{where}: the answer to {question} must be code, or a list with the code "
                "of each answer cell (null keeps the reference's)",
            )

    loses = entry.get("loses")
    if kind == RIGHT:
        if loses:
            raise CatalogueError(
                path,
                f"{where}: a right variant must score full marks; "
                "move it under 'mutants:' or remove 'loses'",
            )
        loses = []
    elif not isinstance(loses, list) or not loses:
        raise CatalogueError(
            path, f"{where}: 'loses' must list the questions it must lose points on"
        )
    autograded = [q.name for q in suite.autograded]
    for question in loses:
        if question not in questions:
            raise CatalogueError(
                path,
                f"{where}: loses {question!r}, which is not a question of "
                f"{suite.assignment} (questions: {', '.join(questions)})",
            )
        if question not in autograded:
            raise CatalogueError(
                path,
                f"{where}: loses {question}, which is graded by hand; a mutant can only "
                "lose autograded points",
            )
    return Variant(
        name=name,
        kind=kind,
        about=str(entry.get("about", "")),
        answers={str(q): code for q, code in answers.items()},
        loses=tuple(str(q) for q in loses),
    )


def write_variants(
    path: Path, variants: Sequence[Variant], built: Path, name: str, folder: Path
) -> None:
    """Write one notebook per variant into ``folder``, named by the variant."""
    student = nbformat.read(built / name / "student" / f"{name}.ipynb", as_version=4)
    solution = nbformat.read(built / name / "autograder" / f"{name}.ipynb", as_version=4)
    with_cells = answer_cells(student)
    folder.mkdir(parents=True, exist_ok=True)
    for variant in variants:
        where = f"{variant.kind} {variant.name!r}"
        for question in variant.answers:
            if question not in with_cells:
                raise CatalogueError(
                    path, f"{where}: {question} has no answer cell in the student notebook"
                )
        try:
            nb = make_submission(student, solution, variant.answers)
        except ValueError as exc:
            raise CatalogueError(path, f"{where}: {exc}") from exc
        nbformat.write(nb, folder / f"{variant.name}.ipynb")


def _catalogues(
    names: Sequence[str] | None, catalogue_dir: Path
) -> tuple[dict[str, tuple[Path, list[Variant]]], dict[str, str]]:
    """The catalogue of each assignment to verify, and the assignments skipped."""
    chosen = list(dict.fromkeys(names)) if names else assignments.names()
    found: dict[str, tuple[Path, list[Variant]]] = {}
    skipped: dict[str, str] = {}
    for name in chosen:
        spec = assignments.get(name)
        path = catalogue_dir / f"{name}.yml"
        if not path.is_file():
            if names:
                raise CatalogueError(
                    path, f"{name} has no variant catalogue; write one to verify its tests"
                )
            skipped[name] = f"no variant catalogue ({path})"
            logger.warning("%s: skipped, no variant catalogue at %s", name, path)
            continue
        found[name] = (path, load_catalogue(path, spec.suite))
    if not found:
        raise CatalogueError(catalogue_dir, "no assignment has a variant catalogue here")
    return found, skipped


def _kills(name: str, suite: Suite, outcomes: list[Outcome]) -> list[QuestionKills]:
    rows = []
    for question in suite.autograded:
        aimed = [
            o for o in outcomes if o.variant.kind == MUTANT and question.name in o.variant.loses
        ]
        killed = sum(o.result.status in RAN and question.name in o.short for o in aimed)
        rows.append(QuestionKills(name, question.name, len(aimed), killed))
    return rows


def verify(
    *,
    names: Sequence[str] | None = None,
    workers: int | None = None,
    out: Path | None = None,
    catalogue_dir: Path | None = None,
    built_dir: Path | None = None,
    limits: Limits = Limits(),
) -> VerifyReport:
    """Grade every variant in the catalogues of ``names`` (default: all assignments).

    An assignment without a catalogue is skipped with a warning, unless it was
    named in ``names``: then that is a :class:`CatalogueError`.

    Parameters
    ----------
    names : sequence of str, optional
        Assignments to verify.
    workers : int, optional
        Submissions graded at once.
    out : Path, optional
        Keep the variant notebooks and their grading results in
        ``out/<assignment>/``; by default they go into a temporary folder.
    catalogue_dir : Path, optional
        Folder of the ``<assignment>.yml`` catalogues (default ``reference/variants``).
    built_dir : Path, optional
        The output folder of an earlier ``nngrade build``; by default the
        assignments are built afresh (with their solutions checked).
    limits : Limits
        Time limits for each variant notebook.
    """
    catalogue_dir = Path(catalogue_dir) if catalogue_dir else default_catalogue_dir()
    catalogues, skipped = _catalogues(names, catalogue_dir)

    with tempfile.TemporaryDirectory(prefix="nngrade-verify-") as tmp:
        work = Path(out) if out is not None else Path(tmp)
        if built_dir is None:
            built_dir = work / "build"
            build(out=built_dir, names=list(catalogues))
        built_dir = Path(built_dir)

        outcomes: list[Outcome] = []
        kills: list[QuestionKills] = []
        for name, (path, variants) in catalogues.items():
            if not (built_dir / name / "student" / f"{name}.ipynb").is_file():
                raise BuildError(
                    f"{built_dir} has no built {name}: run nngrade build --out {built_dir}"
                )

            # Fresh folders, so that no notebook or result of an earlier run is counted.
            folder = work / name / "variants"
            graded = work / name / "graded"
            for old in (folder, graded):
                if old.exists():
                    shutil.rmtree(old)
            write_variants(path, variants, built_dir, name, folder)
            logger.info("%s: grading %d variants from %s", name, len(variants), path)
            batch = grade(folder, assignment=name, out=graded, workers=workers, limits=limits)

            by_name = {r.submission: r for r in batch.results}
            found = [Outcome(name, v, by_name[v.name]) for v in variants]
            outcomes += found
            kills += _kills(name, assignments.get(name).suite, found)

    return VerifyReport(outcomes, kills, skipped, Path(out) if out is not None else None)
