"""The README's Python example runs and prints what its comments say."""

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_python_example_prints_what_its_comments_say():
    (block,) = _python_blocks(README.read_text(encoding="utf-8"))
    expected = [line.split("#", 1)[1].strip() for line in block.splitlines() if line.startswith("print(")]
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(block, str(README), "exec"), {})  # noqa: S102 - our own README
    printed = output.getvalue().splitlines()
    assert len(printed) == len(expected)
    for line, comment in zip(printed, expected):
        shown = comment.split(":")[0]  # "4.31: the analytic answer" shows 4.31
        number = re.match(r"[\d.]+", shown).group()
        assert line.startswith(number) or f"{float(line):.3g}" == number, (line, comment)
        if "status" in comment:
            assert line == comment


def test_readme_says_what_localisation_tables_need_and_how_napari_opens_them():
    """``loc-frc`` reads tables through pandas (the ``[smlm]`` extra): said on its line and where installing is; the
    napari section says that tables open as points with the Localisation FRC."""
    text = README.read_text(encoding="utf-8")
    (line,) = [line for line in text.splitlines() if line.startswith("napari-resolution loc-frc")]
    assert "[smlm]" in line
    assert 'pip install -e ".[smlm]"' in text.split("## Use it")[0]
    in_napari = text.split("## In napari")[1].split("\n## ")[0]
    assert "view locs.csv" in in_napari and "Localisation FRC" in in_napari
