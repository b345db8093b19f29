"""The course's support code, shipped with the package so a lesson runs wherever it is opened
(JupyterLab, Notebook 7, VS Code, Colab): `from chainrule.course import check`.

`checks` holds the exercises' checkers; each computes its expected answer itself.
"""

from chainrule.course.checks import EXERCISES, RESULTS, check, verdict

__all__ = ["EXERCISES", "RESULTS", "check", "verdict"]
