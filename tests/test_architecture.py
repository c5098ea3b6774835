"""The rules of docs/architecture.md, checked on the source: no import cycles, no private cross-imports, the
core free of Qt, the CLI and batch, every result on the one protocol.

The import graph is read with ``ast`` from every module of the package, imports inside functions included
(a lazy import that closes a cycle is still a cycle).
"""

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import napari_resolution
from napari_resolution.core import results

PACKAGE = Path(napari_resolution.__file__).parent
ROOT = napari_resolution.__name__


def _module_names() -> list[str]:
    """Every module of the package, packages included, by dotted name."""
    names = [ROOT]
    for info in pkgutil.walk_packages([str(PACKAGE)], prefix=f"{ROOT}."):
        names.append(info.name)
    return names


MODULES = _module_names()


def _source(name: str) -> Path:
    relative = Path(*name.split(".")[1:])
    package = PACKAGE / relative / "__init__.py"
    return package if package.exists() else (PACKAGE / relative).with_suffix(".py")


def _is_package(name: str) -> bool:
    return _source(name).name == "__init__.py"


def _imports(name: str) -> list[tuple[str, tuple[str, ...]]]:
    """(imported module, names taken from it) for every import statement of module ``name``, anywhere in it."""
    tree = ast.parse(_source(name).read_text(encoding="utf-8"))
    base = name if _is_package(name) else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            parts = base.split(".")
            origin = ".".join(parts[:len(parts) - node.level + 1]) if node.level else ""
            module = ".".join(part for part in (origin, node.module or "") if part)
            found.append((module, tuple(alias.name for alias in node.names)))
    return found


def _targets(module: str, names: tuple) -> list[str]:
    """The package's modules an import reaches: ``from pkg import sub`` reaches the submodule ``pkg.sub``."""
    if not module.startswith(ROOT):
        return []
    submodules = [f"{module}.{name}" for name in names if f"{module}.{name}" in MODULES]
    return submodules or ([module] if module in MODULES else [])


GRAPH = {name: {target for module, names in _imports(name) for target in _targets(module, names)} - {name}
         for name in MODULES}


def _cycle_through(start: str) -> list[str] | None:
    """A chain of imports from ``start`` back to itself, or None."""
    stack, seen = [(start, [start])], set()
    while stack:
        node, path = stack.pop()
        for target in GRAPH[node]:
            if target == start:
                return [*path, start]
            if target not in seen:
                seen.add(target)
                stack.append((target, [*path, target]))
    return None


def test_the_graph_sees_the_whole_package():
    assert f"{ROOT}.core.correlation" in MODULES and len(MODULES) > 30
    assert f"{ROOT}.core.results" in GRAPH[f"{ROOT}.core.correlation"]


@pytest.mark.parametrize("name", MODULES)
def test_no_module_imports_a_module_that_imports_it(name):
    assert _cycle_through(name) is None, " -> ".join(_cycle_through(name))


@pytest.mark.parametrize("name", MODULES)
def test_no_private_name_is_imported_from_another_module(name):
    private = [f"{module}.{item}" for module, items in _imports(name) if module.startswith(ROOT) and module != name
               for item in items if item.startswith("_") and not item.startswith("__")
               and f"{module}.{item}" not in MODULES]
    assert not private, f"{name} imports private names {private}"


@pytest.mark.parametrize("name", [m for m in MODULES if m.startswith(f"{ROOT}.core")])
def test_the_core_imports_neither_qt_nor_the_doors(name):
    outside = {module for module, _ in _imports(name)
               if module.split(".")[0] in ("qtpy", "PyQt5", "PyQt6", "napari", "magicgui", "pyqtgraph")
               or module.startswith((f"{ROOT}.gui", f"{ROOT}.cli", f"{ROOT}.plotting"))}
    assert not outside, f"{name} imports {outside}"


def _estimator_modules():
    for name in MODULES:
        if name.startswith(f"{ROOT}.core"):
            yield importlib.import_module(name)


def test_every_result_class_is_on_the_one_protocol():
    classes = {kind for module in _estimator_modules() for kind in vars(module).values()
               if isinstance(kind, type) and issubclass(kind, results.Result) and kind is not results.Result}
    assert len(classes) >= 12
    shared = set(results.Result.__dataclass_fields__)
    for kind in classes:
        own = set(kind.__dict__.get("__annotations__", {}))
        assert not own & shared, f"{kind.__name__} declares {own & shared} again"
        if not kind.__subclasses__():  # a result made by an estimator (MTFResult is the base of two)
            for method in ("summary", "plots", "columns"):
                assert getattr(kind, method) is not getattr(results.Result, method), f"{kind.__name__} lacks {method}()"
