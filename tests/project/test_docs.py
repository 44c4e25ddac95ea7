"""Every public function, class and method documents itself with a short example; every
property has a docstring."""

import inspect
import re
from pathlib import Path

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


# --- the README and docs/ as a newcomer follows them ------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Paths a reader makes by following the documents, or that live beside the clone.
MADE_BY_FOLLOWING = ("examples/data/", "target/wheels", "../shared/", "shared/corpus")
CORPUS_FOLDERS = ("parquet-testing/", "arrow-testing/")  # inside the optional corpus


def test_the_readme_opens_with_what_colbridge_is_then_the_two_commands():
    text = (ROOT / "README.md").read_text()
    before_commands = text.split("```sh", 1)[0]
    assert "colbridge" in before_commands.split("\n", 2)[2]  # one sentence of purpose first
    commands = text.split("```sh\n", 1)[1].split("```", 1)[0].splitlines()
    ci = (ROOT / ".ci" / "run").read_text()
    assert len(commands) == 2 and commands[1] in ci  # CI runs the second word for word
    assert "'.[all]'" in commands[0] and "pip install colbridge" not in text


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_path_a_document_names_exists_in_the_repository(document):
    for path in re.findall(r"`((?:\.{0,2}[\w.-]*/)+[\w.*-]*)[`\s]", document.read_text()):
        if path.startswith(MADE_BY_FOLLOWING + CORPUS_FOLDERS) or path.startswith("/"):
            continue
        found = list(ROOT.glob(path)) or list(document.parent.glob(path))
        assert found, f"{document.name} names {path}, which is not in the repository"


@pytest.mark.parametrize(
    "document",
    [*DOCUMENTS, *sorted((ROOT / "benches" / "results").glob("*.md")), ROOT / "SECURITY.md"],
    ids=lambda p: p.name,
)
def test_no_document_names_a_path_of_the_machine_that_wrote_it(document):
    text = document.read_text()
    assert not re.findall(r"(?<![\w.~<>-])/(?:work|home|Users|root|tmp)/\S+", text)
