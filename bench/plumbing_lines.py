"""Code lines of luodi's plumbing (issue #16: "fewer lines of plumbing than today, same behaviour").

A code line is a physical line that holds at least one token other than a comment, a newline, an
indent/dedent or a docstring (a string expression standing alone as a statement). Blank lines,
comment lines and docstring lines do not count; a line with code and a trailing comment does.

    python bench/plumbing_lines.py                 # the working tree
    python bench/plumbing_lines.py --rev main      # any commit, read through `git show`
    python bench/plumbing_lines.py --rev A --rev B # side by side
    python bench/plumbing_lines.py --rev fda2f10 --rev HEAD --same-features
                                                   # like for like: files of features added since left out

Areas are the plumbing that issue #16 names: the service, jobs, batch, the CLI, input reading,
settings, the pipeline that the three layers share, and the deploy scripts (Python and shell).
"""

from __future__ import annotations

import argparse
import fnmatch
import io
import subprocess
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# An area is a list of glob patterns over repository paths; the first area that matches a file owns it.
AREAS: dict[str, tuple[str, ...]] = {
    "jobs": ("src/luodi/serve/jobs.py", "src/luodi/serve/queue.py", "src/luodi/serve/routes/jobs.py"),
    "serve": ("src/luodi/serve/*.py", "src/luodi/serve/routes/*.py"),
    "batch": ("src/luodi/batch/*.py",),
    "cli": ("src/luodi/cli/*.py",),
    "io": ("src/luodi/io/*.py",),
    "config/settings": ("src/luodi/config.py", "src/luodi/serve/settings.py"),
    "pipeline": ("src/luodi/pipeline.py",),
    "deploy scripts": ("deploy/*.py", "deploy/*.sh", "deploy/*/*.sh", "deploy/*/*/*.sh"),
}
# Whole files of features that came after issue #16 was filed (fda2f10), left out by --same-features so
# that the plumbing the features of fda2f10 need is compared with itself. Only whole files: new options,
# settings and methods for these features inside files that existed then still count (an upper bound), and
# so does cli/train_dist.py (distributed training, new, but it also holds what every training command shares).
NEW_FEATURE_FILES: dict[str, tuple[str, ...]] = {
    "batch on Ray (#15)": ("src/luodi/batch/*.py", "src/luodi/cli/batch.py"),
    "job tenancy, quotas and idempotency": ("src/luodi/serve/tenancy.py",),
    "signed, retried, address-pinned webhooks": ("src/luodi/serve/webhooks.py",),
    "connection limits for slow and idle clients": ("src/luodi/serve/conn.py",),
    "text, vision, inspection, review, KIE training, parcel/document/ticket synthesis commands": (
        "src/luodi/serve/routes/text.py",
        "src/luodi/cli/eval_text.py",
        "src/luodi/cli/eval_vision.py",
        "src/luodi/cli/inspect.py",
        "src/luodi/cli/review.py",
        "src/luodi/cli/synth_docs.py",
        "src/luodi/cli/synth_parcel.py",
        "src/luodi/cli/synth_ticket.py",
        "src/luodi/cli/text.py",
        "src/luodi/cli/train_kie.py",
        "src/luodi/cli/train_text.py",
        "src/luodi/cli/train_vision.py",
    ),
    "the image test, serving compile step and Redis TLS script (#16)": (
        "deploy/image_test.py",
        "deploy/compile_serving.py",
        "deploy/k8s/redis-tls.sh",
    ),
}
# settings.py lives under serve/ but is counted as settings: check it first.
ORDER = ("jobs", "config/settings", "serve", "batch", "cli", "io", "pipeline", "deploy scripts")


def area_of(path: str) -> str | None:
    for name in ORDER:
        if any(fnmatch.fnmatchcase(path, pattern) for pattern in AREAS[name]):
            return name
    return None


def python_code_lines(source: str) -> int:
    """Physical lines that carry code, with docstrings and comments left out."""
    lines: set[int] = set()
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}
    skip |= {tokenize.ENCODING, tokenize.ENDMARKER}
    previous = tokenize.NEWLINE  # what came before a token: a string after a NEWLINE/INDENT starts a statement
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    for i, tok in enumerate(tokens):
        if tok.type in skip:
            if tok.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
                previous = tok.type
            continue
        if tok.type == tokenize.STRING and previous in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            following = next((t for t in tokens[i + 1 :] if t.type not in (tokenize.NL, tokenize.COMMENT)), None)
            if following is None or following.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
                previous = tokenize.NEWLINE
                continue  # a docstring (or any bare string statement)
        previous = tok.type
        lines.update(range(tok.start[0], tok.end[0] + 1))
    return len(lines)


def shell_code_lines(source: str) -> int:
    return sum(1 for line in source.splitlines() if line.strip() and not line.lstrip().startswith("#"))


def files_at(rev: str | None) -> dict[str, str]:
    if rev is None:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "src", "deploy"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        return {p: (ROOT / p).read_text(encoding="utf-8") for p in listed if area_of(p) and (ROOT / p).is_file()}
    listed = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", rev, "src", "deploy"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    out = {}
    for p in listed:
        if area_of(p):
            out[p] = subprocess.run(
                ["git", "show", f"{rev}:{p}"], cwd=ROOT, capture_output=True, text=True, check=True
            ).stdout
    return out


def new_feature(path: str) -> bool:
    return any(fnmatch.fnmatchcase(path, p) for patterns in NEW_FEATURE_FILES.values() for p in patterns)


def count(rev: str | None, *, same_features: bool = False) -> dict[str, int]:
    totals = dict.fromkeys(ORDER, 0)
    for path, text in files_at(rev).items():
        if same_features and new_feature(path):
            continue
        area = area_of(path)
        assert area is not None
        totals[area] += python_code_lines(text) if path.endswith(".py") else shell_code_lines(text)
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", action="append", help="a commit (repeatable); default: the working tree")
    parser.add_argument("--same-features", action="store_true", help="leave out NEW_FEATURE_FILES")
    args = parser.parse_args()
    revs: list[str | None] = list(args.rev) if args.rev else [None]
    columns = [count(rev, same_features=args.same_features) for rev in revs]
    names = [rev or "working tree" for rev in revs]
    print("| area | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for area in ORDER:
        print(f"| {area} | " + " | ".join(str(c[area]) for c in columns) + " |")
    print("| **total** | " + " | ".join(f"**{sum(c.values())}**" for c in columns) + " |")


if __name__ == "__main__":
    main()
