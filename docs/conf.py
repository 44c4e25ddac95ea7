"""Sphinx configuration of colbridge's documentation site.

Sphinx rather than MkDocs: autodoc imports the installed package, so it reads the docstrings and
signatures written in Rust (PyO3 classes carry them at run time, not in the ``.pyi`` stubs that a
static reader such as mkdocstrings' griffe would see), and the docstrings are reStructuredText
already (``:func:``, double backticks). napoleon reads their ``Example:`` sections;
``sphinx-build -b doctest`` runs the guide's examples. Build (from the repository root):
``python -m sphinx -W -b html docs docs/_build/html``.
"""

import colbridge

project = "colbridge"
author = "the colbridge authors"
copyright = "the colbridge authors, Apache-2.0"
release = colbridge.__version__
version = release

extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.doctest"]

# The Markdown pages in docs/ are benchmark reports, linked from the guide, not site pages.
exclude_patterns = ["_build", "*.md"]
html_theme = "alabaster"
html_static_path: list[str] = []

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
napoleon_google_docstring = True
napoleon_numpy_docstring = False

# Only the guide's explicit ``.. doctest::`` blocks run here: the API docstrings' examples need
# their data files and run in tests/project/test_docstrings.py.
doctest_test_doctest_blocks = ""
doctest_global_setup = """
import os, tempfile
import numpy as np
import colbridge
os.chdir(tempfile.mkdtemp())
"""
