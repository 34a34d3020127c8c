"""The layout the design promises (docs/design.md), checked on the import graph itself.

import-linter (``pyproject.toml``, run by ``.ci/run``) enforces the three layers, the order
of the features and the layers inside each; these tests check what its contracts cannot
say: that no module imports itself back through others at any depth (a package's
``__init__`` included), and that every feature registers what it has in its manifest, so
that nothing it holds is silently left out of the app, the command line or the scheduler.
"""

from __future__ import annotations

import ast
import importlib.util
import tomllib
from importlib import import_module
from pathlib import Path
from typing import Any

import grimp
import pytest

from carbon_market.entrypoints.features import FEATURES, manifests, paths
from carbon_market.kernel.features import resolve

ROOTS = ("carbon_market", "allocation", "finance")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*ROOTS, cache_dir=None)


def _strongly_connected(graph: grimp.ImportGraph) -> list[list[str]]:
    """Tarjan's strongly connected components of more than one module (iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def test_no_module_imports_itself_back_through_others(graph: grimp.ImportGraph) -> None:
    assert _strongly_connected(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    # The test above passes on an empty answer: prove the finder would name a cycle.
    graph = grimp.ImportGraph()
    for importer, imported in (("a.x", "a.y"), ("a.y", "a.z"), ("a.z", "a.x"), ("a.z", "b")):
        graph.add_import(importer=importer, imported=imported)
    assert _strongly_connected(graph) == [["a.x", "a.y", "a.z"]]


def _contracts() -> list[dict[str, Any]]:
    """The import-linter contracts of ``pyproject.toml``, as CI's ``lint-imports`` reads them."""
    pyproject = Path(__file__).parents[2] / "pyproject.toml"
    contracts: list[dict[str, Any]] = tomllib.loads(pyproject.read_text())["tool"]["importlinter"][
        "contracts"
    ]
    return contracts


def _modules_named(name: str) -> set[str]:
    """Every module of a feature package (not the kernel, not the entry points) whose last
    part is ``name``, as a dotted path."""
    found = set()
    for package in FEATURES:
        root = Path(import_module(package).__file__ or "").parent
        for path in root.rglob(f"{name}.py"):
            relative = path.relative_to(root).with_suffix("")
            found.add(".".join((package, *relative.parts)))
    return found


def test_every_feature_has_a_manifest_in_the_feature_order() -> None:
    assert [m.name for m in manifests()] == [
        "kernel", "scheduler", "emitters", "notifications", "ledger", "greenpower", "mrv",
        "trading", "compliance", "allocation", "projects",
    ]  # fmt: skip


def test_every_models_module_is_listed_by_its_feature() -> None:
    assert set(paths("models")) == _modules_named("models")


def test_every_http_module_is_registered_by_its_feature() -> None:
    listed = set(paths("blueprints"))
    assert listed == _modules_named("api")
    assert all(callable(getattr(resolve(path), "init_app", None)) for path in listed)


def test_every_command_group_and_job_list_is_registered_by_its_feature() -> None:
    commands = {path.partition(":")[0] for path in paths("commands")}
    # allocation/reserve/cli.py adds its commands to the allocation group (allocation/cli.py);
    # kernel/cli.py is the plumbing every command group stands on.
    assert commands | {"allocation.reserve.cli"} == _modules_named("cli") - {
        "carbon_market.kernel.cli"
    }
    jobs = {m.jobs.partition(":")[0] for m in manifests() if m.jobs}
    assert jobs == _modules_named("jobs") - {"carbon_market.scheduler.jobs"}


def test_every_feature_that_subscribes_or_answers_a_hook_is_wired() -> None:
    wired = {m.wiring.partition(":")[0] for m in manifests() if m.wiring}
    assert wired == _modules_named("wiring")


def test_the_import_contracts_state_the_feature_order_the_entry_points_use() -> None:
    # The order lives in FEATURES (what the entry points read) and in two import-linter
    # contracts (what CI enforces): they must not drift apart.
    layered = {c["name"]: c["layers"] for c in _contracts() if c["type"] == "layers"}
    three = next(layers for name, layers in layered.items() if name.startswith("Three layers"))
    order = next(layers for name, layers in layered.items() if name.startswith("The features"))
    features = [package for package in FEATURES if package != "carbon_market.kernel"]
    assert three[0] == "carbon_market.entrypoints"
    assert three[2] == "carbon_market.kernel"
    assert [s.strip() for s in three[1].split(":")] == features[::-1]
    assert order == features[::-1]


def test_every_pure_module_says_so_in_its_docstring() -> None:
    # The contract "Pure modules ... touch no database" lists them; a reader learns it from
    # the module itself. Packages listed there count with every module inside them.
    listed = next(c for c in _contracts() if c["name"].startswith("Pure modules"))["source_modules"]
    silent = []
    for name in listed:
        spec = importlib.util.find_spec(name)
        assert spec is not None, name
        assert spec.origin is not None, name
        where = spec.submodule_search_locations
        files = sorted(Path(where[0]).rglob("*.py")) if where else [Path(spec.origin)]
        for path in files:
            docstring = ast.get_docstring(ast.parse(path.read_text())) or ""
            if "pure" not in docstring.lower():
                silent.append(str(path))
    assert silent == []
