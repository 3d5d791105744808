"""The README's Python example is the file that measured its figures."""

import pathlib


def test_the_readme_shows_the_readme_example():
    root = pathlib.Path(__file__).resolve().parents[3]
    readme = (root / "README.md").read_text()
    block = readme.split("## From Python", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    assert block == (root / "crates/sae-python/examples/readme.py").read_text()
