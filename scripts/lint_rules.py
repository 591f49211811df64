#!/usr/bin/env python3
"""Project security rules (AST and template checks) plus bandit, run by scripts/test.

Rules (RELIABILITY.md IV-1, AC-3, AC-6):
  raw-sql-format    .raw()/.extra()/RawSQL()/cursor.execute() given SQL built with an f-string,
                    % or + formatting, or .format()
  mark-safe         mark_safe()/SafeString() in Python; |safe and {% autoescape off %} in templates
  csrf-exempt       any use of csrf_exempt
  form-fields       fields = "__all__" anywhere; exclude = … in a form's Meta
  unscoped-lookup   in views modules: Model.objects.get(…), get_object_or_404(Model, …) and
                    get_list_or_404(Model, …): objects are loaded through the permission-checked
                    getters (<app>/access.py), which scope them to the user's territory

A finding is accepted only with a reason on the same line: `# lint: allow <rule> - <why>`
(templates: `{# lint: allow mark-safe - <why> #}`); bandit findings need `# nosec BXXX - <why>`.
Findings listed in scripts/lint_baseline.txt (`path|rule|code line`, code still being written by
other teams when the rules arrived) are reported as "to fix" without failing; the list must shrink
to nothing. Prints the figures and exits 1 on any other finding.

Usage: python scripts/lint_rules.py [--no-bandit] [paths…]
"""

from __future__ import annotations

import ast
import json
import re
import subprocess  # nosec B404 - runs bandit with a fixed argument list
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXCLUDED_DIRS = {".venv", "node_modules", "staticfiles", "static", ".data", "media", "migrations", "__pycache__"}
# Tests and benchmarks build SQL and objects on purpose; they are not served code.
EXCLUDED_TOP = {"tests", "bench", "test-artifacts", "locatif.egg-info", "docs"}
ALLOW = re.compile(r"lint: allow ([a-z-]+) - \S")
SQL_SINKS = {"raw", "extra", "execute", "executemany", "RawSQL"}
SAFE_CALLS = {"mark_safe", "SafeString", "SafeText"}
LOOKUP_SHORTCUTS = {"get_object_or_404", "get_list_or_404"}


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    rule: str
    text: str


def _files(paths, suffixes):
    for base in paths:
        base = Path(base)
        candidates = [base] if base.is_file() else base.rglob("*")
        for path in candidates:
            if path.suffix not in suffixes or not path.is_file():
                continue
            rel = path.resolve().relative_to(ROOT)
            if rel.parts[0] in EXCLUDED_TOP or EXCLUDED_DIRS & set(rel.parts[:-1]):
                continue
            yield path


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _is_formatted(node) -> bool:
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
        return True
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"


def _is_views_module(rel: Path) -> bool:
    return rel.name.startswith("views") or "views" in rel.parts[:-1]


class Checker(ast.NodeVisitor):
    def __init__(self, rel: Path, lines: list[str]):
        self.rel, self.lines, self.found = rel, lines, []
        self.views = _is_views_module(rel)
        self.form_classes: list[bool] = []

    def add(self, node, rule):
        self.found.append(Finding(str(self.rel), node.lineno, rule, self.lines[node.lineno - 1].strip()))

    def visit_Call(self, node: ast.Call):
        name = _call_name(node)
        if name in SQL_SINKS and node.args and _is_formatted(node.args[0]):
            self.add(node, "raw-sql-format")
        if name in SAFE_CALLS:
            self.add(node, "mark-safe")
        if self.views:
            func = node.func
            if (
                name == "get"
                and isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Attribute)
                and func.value.attr == "objects"
                and isinstance(func.value.value, ast.Name)
            ):
                self.add(node, "unscoped-lookup")
            if name in LOOKUP_SHORTCUTS and node.args and isinstance(node.args[0], ast.Name | ast.Attribute):
                # A model class (not a queryset from visible()/for_user()).
                target = node.args[0]
                label = target.id if isinstance(target, ast.Name) else target.attr
                if label[:1].isupper():
                    self.add(node, "unscoped-lookup")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name):
        if node.id == "csrf_exempt":
            self.add(node, "csrf-exempt")

    def visit_Attribute(self, node: ast.Attribute):
        if node.attr == "csrf_exempt":
            self.add(node, "csrf-exempt")
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom):
        for alias in node.names:
            if alias.name == "csrf_exempt":
                self.add(node, "csrf-exempt")

    def visit_ClassDef(self, node: ast.ClassDef):
        bases = [b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases]
        is_form = any(b.endswith("Form") or b.endswith("FormSet") for b in bases)
        self.form_classes.append(is_form)
        if node.name == "Meta" and len(self.form_classes) >= 2 and self.form_classes[-2]:
            for stmt in node.body:
                if isinstance(stmt, ast.Assign) and any(getattr(t, "id", "") == "exclude" for t in stmt.targets):
                    self.add(stmt, "form-fields")
        self.generic_visit(node)
        self.form_classes.pop()

    def visit_Assign(self, node: ast.Assign):
        if (
            any(getattr(t, "id", "") == "fields" for t in node.targets)
            and isinstance(node.value, ast.Constant)
            and node.value.value == "__all__"
        ):
            self.add(node, "form-fields")
        self.generic_visit(node)


TEMPLATE_RULES = [
    (re.compile(r"\|\s*safe\b"), "mark-safe"),
    (re.compile(r"{%\s*autoescape\s+off\s*%}"), "mark-safe"),
]


def check_python(paths) -> list[Finding]:
    found = []
    for path in _files(paths, {".py"}):
        rel = path.resolve().relative_to(ROOT)
        source = path.read_text(encoding="utf-8")
        checker = Checker(rel, source.splitlines())
        checker.visit(ast.parse(source, filename=str(rel)))
        found.extend(checker.found)
    return found


def check_templates(paths) -> list[Finding]:
    found = []
    for path in _files(paths, {".html", ".txt", ".xml"}):
        rel = path.resolve().relative_to(ROOT)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for pattern, rule in TEMPLATE_RULES:
                if pattern.search(line):
                    found.append(Finding(str(rel), number, rule, line.strip()))
    return found


def run_bandit(paths) -> tuple[list[Finding], int]:
    """bandit with the pyproject configuration; returns (findings, lines skipped by # nosec)."""
    cmd = [sys.executable, "-m", "bandit", "-c", str(ROOT / "pyproject.toml"), "-r", "-q", "-f", "json", *paths]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)  # noqa: S603  # nosec B603 - fixed argv
    if proc.returncode not in (0, 1) or not proc.stdout.strip():
        print(proc.stderr, file=sys.stderr)
        raise SystemExit(f"bandit failed to run (exit {proc.returncode})")
    report = json.loads(proc.stdout)
    found = [
        Finding(r["filename"].removeprefix("./"), r["line_number"], r["test_id"], r["issue_text"])
        for r in report["results"]
    ]
    nosec = re.compile(r"#\s*nosec\b")
    justified = sum(
        1
        for path in _files(paths, {".py"})
        for line in path.read_text(encoding="utf-8").splitlines()
        if nosec.search(line)
    )
    return found, justified


BASELINE = ROOT / "scripts" / "lint_baseline.txt"


def _baseline() -> set[tuple[str, str, str]]:
    if not BASELINE.exists():
        return set()
    entries = set()
    for line in BASELINE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            path, rule, code = line.split("|", 2)
            entries.add((path.strip(), rule.strip(), code.strip()))
    return entries


def _code_line(f: Finding) -> str:
    try:
        return (ROOT / f.path).read_text(encoding="utf-8").splitlines()[f.line - 1].strip()
    except (OSError, IndexError):
        return f.text


def main(argv) -> int:
    use_bandit = "--no-bandit" not in argv
    paths = [a for a in argv if not a.startswith("--")] or ["."]
    baseline = _baseline()
    findings = check_python(paths) + check_templates(paths)
    accepted = [f for f in findings if (m := ALLOW.search(f.text)) and m.group(1) == f.rule]
    if use_bandit:
        bandit_found, nosec = run_bandit(paths)
        findings += bandit_found
    to_fix = [f for f in findings if (f.path, f.rule, _code_line(f)) in baseline]
    rejected = [f for f in findings if f not in accepted and f not in to_fix]
    for f in rejected:
        print(f"{f.path}:{f.line}: [{f.rule}] {f.text}")
    for f in to_fix:
        print(f"to fix (baseline) {f.path}:{f.line}: [{f.rule}] {f.text}")
    for f in accepted:
        print(f"accepted {f.path}:{f.line}: [{f.rule}] {f.text}")
    rules = [f for f in rejected if not f.rule.startswith("B")]
    print(
        f"FIGURE project rules: {len(rules)} findings, {len(accepted)} accepted with a reason, "
        f"{sum(not f.rule.startswith('B') for f in to_fix)} in the baseline"
    )
    if use_bandit:
        print(
            f"FIGURE bandit: {len(rejected) - len(rules)} findings, {nosec} justified # nosec, "
            f"{sum(f.rule.startswith('B') for f in to_fix)} in the baseline"
        )
    return 1 if rejected else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
