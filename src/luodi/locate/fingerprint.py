"""What the trained locator depends on, hashed: ``make setup`` re-trains it when this changes.

Training takes 20-60 minutes on two cores, so the fingerprint covers what decides the training
scenes and the network, and nothing else:

- the sources of the modules :mod:`luodi.locate.train` imports, followed through every ``import``
  (module level or inside a function) into ``luodi.synth`` and ``luodi.locate``: the parcel scenes,
  the waybill art they print, its fonts' choice, the network. A synth module that training never
  imports (railway tickets, bank receipts, OCR line renders) is not in it, nor is a package's
  ``__init__`` that merely re-exports (importing ``luodi.synth.parcel`` runs it, but nothing in it
  draws a scene);
- modules reached but not deciding the weights, listed in :data:`NOT_TRAINING` with the reason;
- the invented parties the labels carry (:func:`luodi.synth.parcel.write_fake_ner`), hashed as the
  file they make: it stands for the gazetteer and surname data they come from, outside synth;
- the installed fonts (name and size of each file).
"""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

__all__ = ["NOT_TRAINING", "ROOTS", "code_digest", "training_modules"]

# where training starts: the command and the network it trains
ROOTS = ("luodi.locate.train", "luodi.locate.model")
# packages whose sources decide the training data or the model (other luodi imports are not followed:
# errors and settings are messages and paths, ``luodi.train.export`` converts what was trained)
FOLLOWED = ("luodi.synth", "luodi.locate")
NOT_TRAINING = {
    # train.evaluate scores the exported model with the inference-side locator: it changes the metrics
    # written beside the weights, not the weights (the input normalisation lives in locate.inputs)
    "luodi.locate.locator": "inference and evaluation only",
    "luodi.locate.store": "where the files go (CODE_VERSION is a fingerprint entry of its own)",
    "luodi.locate.fingerprint": "decides when to train, not what",
}


def _src_root() -> Path:
    import luodi

    return Path(next(iter(luodi.__path__))).parent


def _module_file(name: str, src: Path) -> Path | None:
    base = src.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _imports(path: Path, name: str, src: Path) -> set[str]:
    """Every module ``path`` (module ``name``) imports, anywhere in it but ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in _nodes(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            for alias in node.names:
                # ``from pkg import sub``: the submodule when there is one, else the package itself
                sub = f"{module}.{alias.name}"
                out.add(sub if _module_file(sub, src) is not None else module)
    return out


def _nodes(node: ast.AST) -> list[ast.AST]:
    """``node`` and everything under it, less the bodies of ``if TYPE_CHECKING:`` (annotations only)."""
    out = [node]
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
            for other in child.orelse:
                out.extend(_nodes(other))
            continue
        out.extend(_nodes(child))
    return out


def training_modules(src: Path | None = None) -> list[str]:
    """The modules whose sources the locator's fingerprint hashes, sorted (``src``: where ``luodi`` is)."""
    src = src or _src_root()
    seen: set[str] = set()
    todo = list(ROOTS)
    while todo:
        name = todo.pop()
        if name in seen or name in NOT_TRAINING:
            continue
        path = _module_file(name, src)
        if path is None:
            continue
        seen.add(name)
        for dep in _imports(path, name, src):
            if dep.startswith(tuple(p + "." for p in FOLLOWED)) or dep in FOLLOWED:
                todo.append(dep)
    return sorted(seen)


def code_digest(parties: bytes, src: Path | None = None) -> str:
    """sha256 over the training modules' sources, ``parties`` (the invented-party file training
    uses) and the installed fonts."""
    from luodi.synth.fonts import available_fonts

    src = src or _src_root()
    digest = hashlib.sha256()
    for name in training_modules(src):
        path = _module_file(name, src)
        assert path is not None
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(hashlib.sha256(parties).digest())
    for font in available_fonts():
        digest.update(f"{font.key}:{Path(font.path).name}:{Path(font.path).stat().st_size}".encode())
    return digest.hexdigest()
