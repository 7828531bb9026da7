"""The instructor demo grades its sample class as each student deserves."""

import csv

import pytest

from autograder.demo import grade_sample_class, sample_answers

pytestmark = pytest.mark.xdist_group("demo")
ASSIGNMENT = "01_gradient_descent"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo's class, graded: ``(results by student, workdir)``."""
    root = tmp_path_factory.mktemp("demo")
    results = grade_sample_class(ASSIGNMENT, root / "work", root / "class")
    return {r.student: r for r in results}, root / "work"


def test_perfect_and_untouched(demo):
    """The perfect student gets every point, the untouched one none."""
    results, _ = demo
    assert results["perfect"].auto_score == results["perfect"].auto_max > 0
    assert results["untouched"].auto_score == 0


def test_partial_student_gets_exactly_the_answered_exercises(demo):
    """Each test cell of an answered exercise passes; every other one fails."""
    results, _ = demo
    answered = set(sample_answers(ASSIGNMENT)["partial"])
    for name, cell in results["partial"].cells.items():
        if not cell.autograded:
            continue
        exercise = name.removesuffix("_visible").removesuffix("_hidden")
        expected = cell.max_score if exercise in answered else 0
        assert cell.score == expected, f"{name}: {cell.score} points, deserves {expected}"


def test_student_with_mistakes_loses_some_points(demo):
    """Three classic mistakes cost points, but not all of them."""
    results, _ = demo
    assert 0 < results["mistakes"].auto_score < results["perfect"].auto_score


def test_written_answer_waits_for_the_instructor(demo):
    """An answered 'explain' question is pending manual grading, not scored by the machine."""
    results, _ = demo
    assert results["perfect"].manual_pending > 0


def test_grades_csv_and_feedback(demo):
    """grades.csv has a row per student with the table's totals; each student has feedback HTML."""
    results, workdir = demo
    rows = {r["student"]: r for r in csv.DictReader(open(workdir / "grades.csv"))}
    assert set(rows) == set(results)
    for student, result in results.items():
        assert float(rows[student]["auto_score"]) == result.auto_score
        html = list((workdir / "feedback" / student / ASSIGNMENT).glob("*.html"))
        assert html and "<html" in html[0].read_text().lower()


def test_gradebook_names_the_sample_students(demo):
    """nbgrader's gradebook (what the formgrader lists) has each sample student with a name."""
    from nbgrader.api import Gradebook

    results, workdir = demo
    with Gradebook(f"sqlite:///{workdir / 'gradebook.db'}") as gb:
        names = {s.id: (s.first_name, s.last_name) for s in gb.students}
    assert names == {student: ("Sample", student.capitalize()) for student in results}
