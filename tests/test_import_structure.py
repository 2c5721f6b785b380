"""The package's layering: one room per idea, every import points down.

Subpackages of `keras_electra`, from the bottom up. A subpackage may import
its own modules and the subpackages of lower layers, never those of its
own layer or above:

    0  utils, data         helpers that know no ELECTRA class (`data`: the
                           bundled quick-start files)
    1  presets             the preset registry, resolver, cache and checks
    2  layers, losses,     building blocks; `export` knows tasks by class
       optimizers,         name and by what they hold, and imports none
       metrics, export
    3  models              backbone, tokenizer, preprocessors, tasks
    4  pretraining,        the two ways of training the models
       finetuning
    5  conversion          checkpoint converters (they register their
                           formats with `presets.resolver`)
    6  keras_electra       the package's own `__init__.py`: it loads the
                           public classes (and imports `conversion`)
    7  cli                 the command line, at the top

`utils` imports nothing else of keras_electra. No exemption: there are no
old import paths (alias modules that replace themselves in `sys.modules`)
and no re-exports kept for compatibility; the graph has 0 circles and 0
imports that do not point down.

Imports are read with `ast` from every module under `keras_electra/`, at
module level and inside functions alike (a lazy import is still an
import). Within a subpackage, modules must not import each other in a
circle either.
"""

import ast
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "keras_electra"
ROOT = os.path.join(REPO, PACKAGE)

LAYERS = [
    {"utils", "data"},
    {"presets"},
    {"layers", "losses", "optimizers", "metrics", "export"},
    {"models"},
    {"pretraining", "finetuning"},
    {"conversion"},
    {PACKAGE},
    {"cli"},
]
LAYER_OF = {name: i for i, names in enumerate(LAYERS) for name in names}


def _modules():
    """Module name -> source path, for every module of the package."""
    modules = {}
    for directory, _, files in os.walk(ROOT):
        for file in files:
            if not file.endswith(".py"):
                continue
            path = os.path.join(directory, file)
            parts = os.path.relpath(path, REPO)[: -len(".py")].split(os.sep)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


MODULES = _modules()
SUBPACKAGES = sorted(
    name.split(".")[1] for name in MODULES if name.count(".") == 1
    and os.path.basename(MODULES[name]) == "__init__.py"
)


def _imported(node):
    """The keras_electra modules an `Import`/`ImportFrom` node imports."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        # `from a.b import c`: the module `a.b.c` if there is one, else `a.b`.
        names = [
            f"{node.module}.{alias.name}"
            if f"{node.module}.{alias.name}" in MODULES
            else node.module
            for alias in node.names
        ]
    else:
        assert not isinstance(node, ast.ImportFrom) or not node.level, (
            "relative import"
        )
        return []
    found = []
    for name in names:
        if name != PACKAGE and not name.startswith(PACKAGE + "."):
            continue
        while name not in MODULES:  # `a.b.attribute` -> `a.b`
            name = name.rpartition(".")[0]
        found.append(name)
    return found


def _imports():
    """`(importer, imported, line)` for every import in the package."""
    edges = []
    for module, path in MODULES.items():
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        for node in ast.walk(tree):
            for target in _imported(node):
                if target != module:
                    edges.append((module, target, node.lineno))
    return edges


IMPORTS = _imports()


def _room(module):
    """The subpackage of a module (`models`), or the package itself."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else PACKAGE


def _where(module, line):
    return f"{os.path.relpath(MODULES[module], REPO)}:{line}"


def _cycles(graph):
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = set()
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.add(other)
                if other == node:
                    break
            if len(component) > 1:
                cycles.append(component)

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(graph) + 100))
    try:
        for node in sorted(graph):
            if node not in index:
                visit(node)
    finally:
        sys.setrecursionlimit(limit)
    return cycles


def test_the_layers_name_every_subpackage():
    assert set(SUBPACKAGES) | {PACKAGE} == set(LAYER_OF), (
        "Give each subpackage its layer in LAYERS (and the docstring)."
    )


def test_the_checker_sees_lazy_imports():
    # `source_formats` imports each converter inside a function.
    inner = [
        (a, b)
        for a, b, _ in IMPORTS
        if a == "keras_electra.conversion.source_formats"
        and b == "keras_electra.conversion.transformers_loader"
    ]
    assert inner, "imports inside functions are not read"


def test_no_circle_between_subpackages():
    graph = {}
    for importer, imported, _ in IMPORTS:
        a, b = _room(importer), _room(imported)
        if a != b:
            graph.setdefault(a, set()).add(b)
    assert _cycles(graph) == []


def test_utils_imports_nothing_above_it():
    wrong = [
        f"{_where(importer, line)} imports {imported}"
        for importer, imported, line in IMPORTS
        if _room(importer) == "utils" and _room(imported) != "utils"
    ]
    assert wrong == [], "utils is the bottom layer:\n" + "\n".join(wrong)


def test_every_import_points_down():
    wrong = []
    for importer, imported, line in IMPORTS:
        a, b = _room(importer), _room(imported)
        if a == b:
            continue
        if LAYER_OF[b] >= LAYER_OF[a]:
            wrong.append(
                f"{_where(importer, line)}: {a} (layer {LAYER_OF[a]}) imports "
                f"{imported} ({b}, layer {LAYER_OF[b]})"
            )
    assert wrong == [], "imports that do not point down:\n" + "\n".join(wrong)


def test_no_circle_between_modules():
    graph = {}
    for importer, imported, _ in IMPORTS:
        graph.setdefault(importer, set()).add(imported)
    assert _cycles(graph) == []


def test_no_module_is_an_alias_of_another():
    """No old import path: a module that replaces itself in `sys.modules`
    (or only re-binds another module's names) is a shim."""
    wrong = []
    for module, path in MODULES.items():
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Subscript)
                and isinstance(node.value, ast.Attribute)
                and node.value.attr == "modules"
                and isinstance(node.slice, ast.Name)
                and node.slice.id == "__name__"
            ):
                wrong.append(_where(module, node.lineno))
    assert wrong == [], "alias modules:\n" + "\n".join(wrong)


def test_no_compatibility_re_exports():
    """An import kept unused (`noqa: F401`) only loads a module for its
    side effect (registering converters or ops); it never binds a name so
    that it stays importable from a second place."""
    wrong = []
    for module, path in MODULES.items():
        with open(path, encoding="utf-8") as f:
            source = f.read()
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source, path)):
            if not isinstance(node, ast.ImportFrom) or not node.module:
                continue
            if not node.module.startswith(PACKAGE):
                continue
            text = "\n".join(lines[node.lineno - 1 : node.end_lineno])
            names = [f"{node.module}.{a.name}" for a in node.names]
            if "noqa: F401" in text and not all(n in MODULES for n in names):
                wrong.append(f"{_where(module, node.lineno)}: {text}")
    assert wrong == [], "re-exports:\n" + "\n".join(wrong)


def test_tools_and_benchmarks_import_the_package_like_a_user():
    """No monkeypatching of the package and no `sys.path` edits: scripts
    outside it use its public modules, as a user would."""
    wrong = []
    for folder in ("tools", "benchmarks"):
        for directory, _, files in os.walk(os.path.join(REPO, folder)):
            for file in sorted(f for f in files if f.endswith(".py")):
                path = os.path.join(directory, file)
                with open(path, encoding="utf-8") as f:
                    for number, line in enumerate(f, 1):
                        if "mock.patch" in line or "sys.path.insert" in line:
                            wrong.append(
                                f"{os.path.relpath(path, REPO)}:{number}"
                            )
    assert wrong == [], "patches or path edits:\n" + "\n".join(wrong)
