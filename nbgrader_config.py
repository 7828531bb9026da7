"""nbgrader's configuration for its own tools run here: the formgrader of `make formgrader`, `nbgrader` commands.

It shows them the course as autograder/course.py lays it out, and the grading
folder autograder/working/ (gradebook, submissions, feedback) that `make demo`
and `python -m autograder grade` fill. The grader itself does not read this file.
"""

from autograder.course import formgrader_config

c = get_config()  # noqa: F821 (traitlets defines get_config for config files)
c.merge(formgrader_config())
