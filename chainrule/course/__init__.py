"""The course's support code, shipped with the package so a lesson runs wherever it is opened
(JupyterLab, Notebook 7, VS Code, Colab): `from chainrule.course import check, show_solution`.

`checks` holds the exercises' checkers and worked solutions (printed only on request);
each checker computes its expected answer itself.
"""

from chainrule.course.checks import EXERCISES, RESULTS, check, show_solution, verdict

__all__ = ["EXERCISES", "RESULTS", "check", "show_solution", "verdict"]
