"""The library's dependency rules, checked on its source: which package may import which.

The layers, from the bottom up (a package may import the ones above it in this list):

========================  =================================================================
``errors``, ``reasons``,    plain data: the error types, the typed reasons and the
``settlement``,             settlement model, the comparison of rules and the robust split
``comparison``,
``robustness``
``case``                  the case format (reads the rule registry's names, lazily, and
                          nothing else of the engine)
``numeric``, ``risk``,    numeric and graph views of a case; the risk model's arrays
``graph``
``fairness``              fairness measures on a settlement: numpy only, no solver
``validator``             the independent check: it sees the case and the settlement only,
                          never the engine that made them
``backends``              the solver seam: the only place besides the model that knows PuLP
``allocation``, ``rules`` the engine: rules build on ``allocation.model`` and
                          ``allocation.evidence`` only; the pipeline runs the rules
``sweep``                 scenario sweeps: plans, runs and summarises many settlements on any
                          executor; pure (no files, no processes, neither Dask nor pyarrow)
``rendering``, ``cli``    words and the command line (the only users of rich and typer)
========================  =================================================================

The service (``api/``) sits on the library; the library never imports it, nor any web or
database framework.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mediation import errors

LIBRARY = Path(__file__).resolve().parent.parent / "mediation"

SOLVER_PACKAGES = frozenset({"pulp", "highspy"})
SOLVER_MODULES = ("mediation.allocation.model", "mediation.backends")
SERVICE_PACKAGES = frozenset({"api", "fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic"})
#: The sweep extra's packages: only the command line runs a sweep on Dask or writes Parquet.
SWEEP_EXTRA = frozenset({"distributed", "dask", "pyarrow"})
ENGINE = ("mediation.allocation", "mediation.rules", "mediation.backends")


@dataclass(frozen=True)
class Import:
    """One import statement: who imports what, where."""

    importer: str
    target: str
    line: int
    lazy: bool  # inside a function body rather than at module level

    def __str__(self) -> str:
        return f"{self.importer}:{self.line} imports {self.target}"


def module_name(path: Path, root: Path) -> str:
    """``mediation/case/policy.py`` → ``mediation.case.policy``."""
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, module: str, is_package: bool) -> Iterator[Import]:
    """Every import in one module's source, relative ones resolved to absolute names."""
    tree = ast.parse(source)
    package = module if is_package else module.rpartition(".")[0]
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    lazy_lines = {id(inner) for fn in functions for inner in ast.walk(fn) if inner is not fn}
    for node in ast.walk(tree):
        lazy = id(node) in lazy_lines
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno, lazy)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield Import(module, target, node.lineno, lazy)


def library_imports(root: Path = LIBRARY) -> list[Import]:
    """Every import statement in the library."""
    found: list[Import] = []
    for path in sorted(root.rglob("*.py")):
        module = module_name(path, root)
        found.extend(
            imports_of(path.read_text(encoding="utf-8"), module, path.name == "__init__.py")
        )
    return found


def within(name: str, *packages: str) -> bool:
    """Whether a dotted name is one of the packages or inside one."""
    return any(name == p or name.startswith(p + ".") for p in packages)


def top(name: str) -> str:
    return name.partition(".")[0]


# --- the rules -----------------------------------------------------------------------------


def broken_rule(imp: Import) -> str | None:
    """Return the dependency rule one import breaks, if any."""
    src, dst = imp.importer, imp.target
    inside = within(dst, "mediation")
    plain_data = (
        "mediation.errors",
        "mediation.reasons",
        "mediation.settlement",
        "mediation.comparison",
        "mediation.robustness",
    )
    seen_by_validator = ("mediation.validator", "mediation.case", *plain_data)
    below_engine = (
        "mediation.fairness",
        "mediation.numeric",
        "mediation.risk",
        "mediation.graph",
        "mediation.case",
    )
    # the case checks a policy's rule name against the registry, read when first needed
    registry_read = imp.lazy and src == "mediation.case.policy" and dst == "mediation.rules"
    rule_base = ("mediation.allocation.model", "mediation.allocation.evidence")
    checks = [
        (
            top(dst) in SERVICE_PACKAGES,
            "the library never depends on the service or a web/database framework",
        ),
        (
            top(dst) in SOLVER_PACKAGES and not within(src, *SOLVER_MODULES),
            "only allocation.model and backends/ may talk to the solver",
        ),
        (
            top(dst) == "typer" and not within(src, "mediation.cli"),
            "typer belongs to the command line",
        ),
        (
            top(dst) == "rich" and not within(src, "mediation.cli", "mediation.rendering"),
            "rich belongs to rendering and the command line",
        ),
        (
            within(src, *plain_data) and inside and dst not in plain_data,
            "errors and the settlement model are plain data",
        ),
        (
            within(src, "mediation.validator") and inside and not within(dst, *seen_by_validator),
            "the validator sees the case and the settlement, never the engine",
        ),
        (
            within(src, *below_engine)
            and within(dst, *ENGINE, "mediation.validator")
            and not registry_read,
            "the case and its views sit below the engine",
        ),
        (
            within(src, "mediation.rules")
            and within(dst, "mediation.allocation")
            and not within(dst, *rule_base),
            "a rule builds on allocation.model and allocation.evidence only",
        ),
        # the package's front door (mediation/__init__) offers render(); nothing else below does
        (
            within(dst, "mediation.rendering")
            and src != "mediation"
            and not within(src, "mediation.rendering", "mediation.cli"),
            "nothing below rendering reads it",
        ),
        (
            within(dst, "mediation.cli") and not within(src, "mediation.cli"),
            "the command line is a leaf",
        ),
        (
            within(dst, "mediation.sweep")
            and not within(src, "mediation.sweep", "mediation.rendering", "mediation.cli"),
            "the sweep sits above the engine: only words and the command line read it",
        ),
        (
            top(dst) in SWEEP_EXTRA and not within(src, "mediation.cli"),
            "Dask and pyarrow (the sweep extra) belong to the command line",
        ),
    ]
    return next((why for broken, why in checks if broken), None)


def violations(found: list[Import]) -> list[str]:
    """Every broken dependency rule, as a readable line; empty when the layering holds."""
    return [f"{imp}: {why}" for imp in found if (why := broken_rule(imp)) is not None]


def test_the_library_keeps_its_layering() -> None:
    found = library_imports()
    assert len(found) > 100, "the walk found too few imports to be looking at the library"
    assert violations(found) == []


def test_the_solver_is_reached_only_through_the_model_and_the_backends() -> None:
    users = {i.importer for i in library_imports() if top(i.target) in SOLVER_PACKAGES}
    assert users, "nothing imports the solver: is the walk looking at the right files?"
    assert all(within(u, *SOLVER_MODULES) for u in users), sorted(users)


@pytest.mark.parametrize(
    ("module", "source", "why"),
    [
        ("mediation.fairness", "import pulp", "only allocation.model and backends/"),
        ("mediation.rules.nash", "from highspy import Highs", "only allocation.model"),
        ("mediation.validator.validate", "from ..allocation import pipeline", "never the engine"),
        (
            "mediation.validator.validate",
            "from mediation.fairness import measure",
            "never the engine",
        ),
        ("mediation.graph.build", "from api.app import app", "never depends on the service"),
        ("mediation.case.model", "from ..rules import RULES", "sit below the engine"),
        ("mediation.rules.leximin", "from ..allocation.pipeline import settle", "allocation.model"),
        ("mediation.case.checks", "from rich.table import Table", "rich belongs"),
        ("mediation.allocation.explain", "from ..cli import app", "the command line is a leaf"),
        ("mediation.allocation.explain", "from ..rendering import wording", "below rendering"),
        ("mediation.settlement", "from .case import Case", "plain data"),
        ("mediation.allocation.pipeline", "from ..sweep import run_sweep", "above the engine"),
        ("mediation.sweep.runner", "from distributed import Client", "belong to the command"),
        ("mediation.sweep.summary", "import pyarrow", "belong to the command line"),
    ],
)
def test_each_rule_catches_what_it_forbids(module: str, source: str, why: str) -> None:
    is_package = module.count(".") == 1 and module.endswith(("validator", "graph"))
    found = list(imports_of(source, module, is_package))
    broken = violations(found)
    assert len(broken) == 1, broken
    assert why in broken[0]


def test_the_lazy_registry_read_is_the_only_exception_and_only_when_lazy() -> None:
    eager = "from ..rules import rule_names"
    lazy = "def names():\n    from ..rules import rule_names\n    return rule_names()\n"
    assert violations(list(imports_of(eager, "mediation.case.policy", False)))
    assert violations(list(imports_of(lazy, "mediation.case.policy", False))) == []


# --- the library raises its own errors -----------------------------------------------------

#: Exceptions the library raises by someone else's protocol, and where.
PROTOCOL_RAISES = {
    # a module's __getattr__ must raise AttributeError
    ("mediation", "AttributeError"),
    ("mediation.rendering", "AttributeError"),
    # pydantic validators signal with PydanticCustomError; parse_case turns it into a CaseError
    ("mediation.case.model", "PydanticCustomError"),
    ("mediation.case.policy", "PydanticCustomError"),
    # the YAML loader signals with PyYAML's errors; parse_case turns them into a CaseError
    ("mediation.case.yaml_reader", "yaml.composer.ComposerError"),
    # the command line ends with an exit code
    ("mediation.cli.app", "typer.Exit"),
    ("mediation.cli.app", "SystemExit"),
    ("mediation.cli.settle", "typer.Exit"),
    ("mediation.cli.compare", "typer.Exit"),
    ("mediation.cli.evaluate", "typer.Exit"),
    ("mediation.cli.sweep", "typer.Exit"),
    # a CaseError or PolicyError built with no problem is a programming error, not bad input
    ("mediation.errors", "ValueError"),
}


def raised_classes(source: str) -> Iterator[tuple[str, int]]:
    """Return the class named by each ``raise Name(...)`` (dotted), with its line.

    A re-raise, a raised variable or an error made by a helper function is not a class name
    and is skipped: the helper's own ``raise`` or return is what is checked.
    """
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            name = ast.unparse(node.exc.func)
            if name.rpartition(".")[2][:1].isupper():
                yield name, node.lineno


def foreign_raises(root: Path = LIBRARY) -> list[str]:
    """Every raise of an exception that is neither a MediationError nor allowed by protocol."""
    own = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, errors.MediationError)
    }
    found: list[str] = []
    for path in sorted(root.rglob("*.py")):
        module = module_name(path, root)
        for name, line in raised_classes(path.read_text(encoding="utf-8")):
            if name not in own and (module, name) not in PROTOCOL_RAISES:
                found.append(f"{module}:{line} raises {name}")
    return found


def test_every_raise_in_the_library_is_a_mediation_error() -> None:
    assert foreign_raises() == []


def test_a_bare_value_error_would_be_caught(tmp_path: Path) -> None:
    package = tmp_path / "mediation"
    package.mkdir()
    (package / "graph.py").write_text(
        "from .errors import GraphError\n"
        "def f(x):\n"
        "    if x:\n"
        "        raise GraphError('fine')\n"
        "    raise KeyError(x)\n",
        encoding="utf-8",
    )
    assert foreign_raises(package) == ["mediation.graph:5 raises KeyError"]


def test_settling_from_the_command_line_loads_neither_the_graph_nor_the_service() -> None:
    # what `mediation settle` imports to print a settlement: networkx is the graph command's
    code = (
        "import sys\n"
        "from mediation.cli.settle import command\n"
        "import mediation.rendering.settlement_tables, mediation.allocation.pipeline\n"
        "print(sorted(m for m in ('networkx', 'fastapi', 'sqlalchemy') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
