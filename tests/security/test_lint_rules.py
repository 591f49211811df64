"""The project's static rules (scripts/lint_rules.py) find what they are meant to find."""

import importlib.util
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("lint_rules", ROOT / "scripts" / "lint_rules.py")
lint_rules = importlib.util.module_from_spec(spec)
sys.modules["lint_rules"] = lint_rules  # dataclasses look their module up there
spec.loader.exec_module(lint_rules)


@pytest.fixture
def app_dir():
    path = ROOT / "zz_lint_sample"
    path.mkdir(exist_ok=True)
    yield path
    for file in path.iterdir():
        file.unlink()
    path.rmdir()


def _rules(app_dir, name, source):
    path = app_dir / name
    path.write_text(textwrap.dedent(source))
    suffix = path.suffix
    found = lint_rules.check_python([path]) if suffix == ".py" else lint_rules.check_templates([path])
    return sorted(f.rule for f in found)


def test_raw_sql_built_by_formatting(app_dir):
    source = """
    def f(cursor, Model, name):
        cursor.execute(f"SELECT * FROM t WHERE name = '{name}'")
        cursor.execute("SELECT * FROM t WHERE name = '%s'" % name)
        Model.objects.raw("SELECT 1 " + name)
        cursor.execute("SELECT {} FROM t".format(name))
        cursor.execute("SELECT * FROM t WHERE name = %s", [name])  # parameters: fine
    """
    assert _rules(app_dir, "services.py", source) == ["raw-sql-format"] * 4


def test_mark_safe_and_csrf_exempt(app_dir):
    source = """
    from django.utils.safestring import mark_safe
    from django.views.decorators.csrf import csrf_exempt

    @csrf_exempt
    def view(request):
        return mark_safe(request.GET["x"])
    """
    assert _rules(app_dir, "helpers.py", source) == ["csrf-exempt", "csrf-exempt", "mark-safe"]


def test_reviewed_exception_needs_a_reason(app_dir):
    path = app_dir / "tags.py"
    path.write_text('x = mark_safe("<b>")  # lint: allow mark-safe - constant markup\n')
    (finding,) = lint_rules.check_python([path])
    assert lint_rules.ALLOW.search(finding.text)
    path.write_text('x = mark_safe("<b>")  # lint: allow mark-safe\n')
    (finding,) = lint_rules.check_python([path])
    assert not lint_rules.ALLOW.search(finding.text)


def test_forms_declare_their_fields(app_dir):
    source = """
    from django import forms

    class A(forms.ModelForm):
        class Meta:
            fields = "__all__"

    class B(forms.ModelForm):
        class Meta:
            exclude = ["agency"]

    class C(forms.ModelForm):
        class Meta:
            fields = ["name"]
    """
    assert _rules(app_dir, "forms.py", source) == ["form-fields", "form-fields"]


def test_lookups_in_views_bypassing_the_scoped_getter(app_dir):
    source = """
    from django.shortcuts import get_object_or_404

    def view(request, pk):
        a = Lease.objects.get(pk=pk)
        b = get_object_or_404(Lease, pk=pk)
        c = get_object_or_404(visible(Lease, request.user, PERM), pk=pk)  # scoped: fine
        d = get_lease_for_user(request.user, pk)  # the getter: fine
    """
    assert _rules(app_dir, "views.py", source) == ["unscoped-lookup", "unscoped-lookup"]
    assert _rules(app_dir, "services.py", source) == []  # services may load by id


def test_templates_safe_filter_and_autoescape(app_dir):
    source = """
    {{ note|safe }}
    {% autoescape off %}{{ x }}{% endautoescape %}
    {{ note }}
    """
    assert _rules(app_dir, "page.html", source) == ["mark-safe", "mark-safe"]
