"""Every public function, class and method documents itself with a short example; every
property has a docstring."""

import inspect

import pytest

import colbridge


def public_members():
    for name in colbridge.__all__:
        obj = getattr(colbridge, name)
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            continue  # exception classes: documented in colbridge.errors
        yield name, obj, "callable"
        if inspect.isclass(obj):
            for attr, value in vars(obj).items():
                if attr.startswith("_"):
                    continue
                kind = "property" if inspect.isdatadescriptor(value) else "callable"
                yield f"{name}.{attr}", value, kind


@pytest.mark.parametrize(
    "name, obj, kind", list(public_members()), ids=[m[0] for m in public_members()]
)
def test_public_api_is_documented(name, obj, kind):
    doc = inspect.getdoc(obj) or ""
    assert doc.strip(), f"{name} has no docstring"
    if kind == "callable":
        assert "Example" in doc and ">>>" in doc, f"{name}: no example in its docstring"


def test_help_for_read_parquet_reads_well():
    text = inspect.getdoc(colbridge.read_parquet)
    for word in ("filters", "columns", "row_groups", "batch_size", "progress", "Example"):
        assert word in text
