"""What decides a grade, one behaviour per test: encoding, matching, snapshots, reasons and flags.

These run in well under a second each, without a kernel: the slow tests in
``test_grading.py`` and ``test_adversarial.py`` grade whole notebooks.
"""

import math
import subprocess
import sys

import nbformat
import numpy as np
import pytest
import torch

from autograder.feedback import TEMPLATE, FeedbackExporter, feedback_notebook
from autograder.outside_check import (
    Record,
    check_cell,
    failed_checked_keys,
    numbered,
    records_by_cell,
    stray_records,
)
from autograder.snapshot import autograde_preprocessors, SnapshotExecute
from autograder.verdicts import answer_cells_by_count, cell_reason, describe_error
from backproplab.grading import MIME, check, encode, record
from backproplab.matching import FLOAT32_TOL, describe_difference, values_match


def _ref(value, tol=1e-7, about="", checked=False):
    return Record("k", encode(value), tol, about, checked)


def _sent(value, key="k"):
    return [Record(key, encode(value))]


# --- encoding: every real array-like is the same number ---------------------------------------------


@pytest.mark.parametrize(
    "value", [2.0, 2, np.float64(2), np.float32(2), np.array(2.0), torch.tensor(2.0)]
)
def test_every_real_scalar_encodes_as_the_same_number(value):
    assert values_match(encode(value), encode(2.0), 1e-12)


def test_a_list_of_0d_arrays_is_an_array_like_a_list_of_floats():
    as_arrays = [np.zeros_like(-8.0) - 8, np.array(-8.0), np.float64(6)]
    assert values_match(encode(as_arrays), encode(np.array([-8.0, -8.0, 6.0])), 1e-12)


def test_a_tensor_that_requires_grad_encodes_like_its_values():
    weights = torch.ones(2, 3, requires_grad=True)
    assert values_match(encode(weights * 2), encode(np.full((2, 3), 2.0)), 1e-6)


def test_nested_lists_and_lists_of_like_arrays_are_arrays_and_ragged_ones_lists():
    stacked = np.array([[0.0, 0.0], [1.0, 1.0]])
    assert values_match(encode([np.zeros(2), np.ones(2)]), encode(stacked), 1e-12)
    assert values_match(encode([[0, 0], [1, 1]]), encode(stacked), 1e-12)
    assert "list" in encode([np.zeros(2), np.ones(3)]) and "list" in encode([True, 1.0])
    assert encode([]) == {"array": [], "shape": [0]}


def test_nan_and_inf_are_spelled_as_text_and_must_sit_in_the_same_places():
    assert encode([1.0, math.nan, -math.inf])["array"] == [1.0, "nan", "-inf"]
    assert values_match(encode([1.0, math.nan]), encode([1.0, math.nan]), 1e-9)
    assert not values_match(encode([math.nan, 1.0]), encode([1.0, math.nan]), 1e-9)


def test_something_that_is_not_data_is_unrecordable_and_never_matches():
    strange = encode(object())
    assert "unrecordable" in strange and not values_match(strange, strange, 1.0)


# --- matching ---------------------------------------------------------------------------------------


def test_float32_results_are_held_to_float32_precision_only():
    exact = np.linspace(0.1, 1.0, 10)
    single = exact.astype(np.float32) * np.float32(1 + 3e-7)
    assert values_match(encode(single), encode(exact), 1e-10)
    assert not values_match(encode(exact * (1 + 3e-7)), encode(exact), 1e-10)
    assert not values_match(encode(single * 1.01), encode(exact), 1e-10), (
        f"float32 tolerance is {FLOAT32_TOL}, not 1 %"
    )


def test_shape_must_match_even_when_the_numbers_do():
    assert not values_match(encode(np.ones((2, 3))), encode(np.ones((3, 2))), 1.0)
    assert not values_match(encode(np.ones(1)), encode(1.0), 1.0)


def test_a_bool_is_not_a_number():
    assert not values_match(encode(True), encode(1.0), 1.0)


def test_a_forged_payload_never_crashes_the_comparison():
    for forged in (
        {},
        {"array": "x"},
        {"array": [1], "shape": "[]"},
        {"list": 3},
        {"dict": []},
        [],
        "array",
        None,
    ):
        assert values_match(forged, encode(1.0), 1.0) is False


# --- reasons in words, never the expected value -----------------------------------------------------


def test_transposed_result_is_named_as_such():
    words = describe_difference(encode(np.ones((3, 2))), encode(np.ones((2, 3))), 1e-7)
    assert "(3, 2) instead of (2, 3)" in words and "transposed" in words


def test_flipped_sign_is_named():
    assert (
        describe_difference(encode([1.0, -2.0]), encode([-1.0, 2.0]), 1e-7) == "the sign is flipped"
    )


def test_a_constant_factor_is_named_only_when_the_ratio_is_constant():
    assert "2 times" in describe_difference(encode([2.0, 4.0, 6.0]), encode([1.0, 2.0, 3.0]), 1e-7)
    square_of_sum = describe_difference(encode([1.0, 4.0, 10.0]), encode([1.0, 2.0, 3.0]), 1e-7)
    assert "times" not in square_of_sum and "2 of 3 numbers differ" in square_of_sum


def test_a_wrong_single_number_gives_no_factor_away():
    words = describe_difference(encode(3.0), encode(12.0), 1e-7)
    assert words == "the number differs" and "4" not in words and "0.25" not in words


def test_nan_where_numbers_were_expected_is_named():
    assert "nan or inf" in describe_difference(encode([math.nan, 1.0]), encode([0.5, 1.0]), 1e-7)


def test_wrong_kind_is_named():
    assert (
        describe_difference(encode(None), encode([1.0, 2.0]), 1e-7)
        == "None where an array of shape (2,) was expected"
    )


def test_the_reason_names_the_case_in_words_and_never_the_expected_value():
    reference = {
        "dW_D5": Record("dW_D5", encode([0.123456, 9.87654]), 1e-7, "dW for stride 2, padding 1")
    }
    reason = check_cell(reference, [Record("dW_D5", encode([1.0, 1.0]))])
    assert (
        reason.startswith("dW for stride 2, padding 1: ")
        and "0.123" not in reason
        and "9.87" not in reason
    )


def test_a_missing_record_says_the_test_stopped_before_it():
    assert "stopped before it" in check_cell({"k": _ref(1.0)}, [])


def test_matching_records_pass_and_extra_keys_are_ignored():
    assert check_cell({"k": _ref(1.0)}, _sent(1.0) + _sent(5.0, key="extra")) is None


# --- the same key recorded again, snapshots, stray records ------------------------------------------


def test_a_key_recorded_again_is_numbered_in_order():
    keys = [
        r.key for r in numbered([Record("a", 1), Record("a", 2), Record("b", 3), Record("a", 4)])
    ]
    assert keys == ["a", "a#2", "b", "a#3"]


def _graded_cell(grade_id, *payloads, grade=True):
    cell = nbformat.v4.new_code_cell("")
    cell.metadata["nbgrader"] = {"grade": grade, "grade_id": grade_id}
    cell.outputs = [nbformat.v4.new_output("display_data", data={MIME: p}) for p in payloads]
    return cell


def test_the_grader_judges_the_snapshot_not_a_later_rewrite():
    first, rewritten = {"key": "k", "value": encode(0.0)}, {"key": "k", "value": encode(42.0)}
    nb = nbformat.v4.new_notebook(cells=[_graded_cell("t", rewritten)])
    records = records_by_cell(nb, snapshots={0: [first]})
    assert records["t"][0].value == encode(0.0)
    assert ["rewritten" in note for note in stray_records(nb, {0: [first]})] == [True]


def test_records_from_a_cell_that_is_not_a_test_are_ignored_and_noted():
    stray = _graded_cell("ch01_forward", {"key": "k", "value": encode(1.0)}, grade=False)
    nb = nbformat.v4.new_notebook(cells=[stray, _graded_cell("t")])
    assert records_by_cell(nb, {0: [], 1: []}) == {"t": []}
    assert "not a test cell" in stray_records(nb, {0: [], 1: []})[0]


def test_a_malformed_record_payload_becomes_harmless():
    rec = Record.from_payload(
        {"key": ["x"], "value": 1, "tol": "huge", "about": "a" * 999, "checked": "yes"}
    )
    assert rec.tol == 1e-7 and len(rec.about) == 200 and rec.checked is False


def test_the_grader_snapshots_in_place_of_nbgraders_execute():
    steps = autograde_preprocessors()
    assert SnapshotExecute in steps and [s.__name__ for s in steps].count("Execute") == 0


# --- tampering: only a kernel check that passed and fails outside -----------------------------------


def test_only_a_checked_key_that_fails_outside_counts_as_tampering():
    reference = {"seen": _ref(1.0, checked=True), "unseen": _ref(2.0)}
    assert failed_checked_keys(reference, _sent(1.0, "seen") + _sent(0.0, "unseen")) == []
    assert failed_checked_keys(reference, _sent(0.0, "seen") + _sent(2.0, "unseen")) == ["seen"]
    assert failed_checked_keys(reference, _sent(2.0, "unseen")) == ["seen"]


def test_check_asserts_with_the_graders_comparison(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert check("k", np.float32(0.1), 0.1, "z") == np.float32(0.1)
    with pytest.raises(AssertionError, match="z at the start: the sign is flipped"):
        check("k", np.array([-1.0, 2.0]), np.array([1.0, -2.0]), "z at the start")


def test_a_failed_check_reads_as_plain_sentences(monkeypatch):
    """No "?." or "?;", the student's value and the expected one in a sentence of their own, a hint last."""
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    with pytest.raises(AssertionError) as info:
        check("k", np.ones((3, 2)), np.ones((2, 3)), "dW at the start", hint="dW has W's shape")
    message = str(info.value)
    assert message.startswith("dW at the start: shape (3, 2) instead of (2, 3): is it transposed? ")
    assert message.endswith(". Hint: dW has W's shape.") and "?." not in message
    assert "?;" not in message and "You gave [[1. 1.]" in message


def test_a_failed_check_shows_numpy_scalars_as_plain_numbers(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    with pytest.raises(AssertionError) as info:
        check("k", np.float32(1.5), np.float64(1.25), "the loss")
    assert str(info.value) == "the loss: the number differs. You gave 1.5; expected 1.25."


def test_a_statement_that_does_not_hold_says_so_without_got_false(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    with pytest.raises(AssertionError) as info:
        check("k", False, True, "forward returns one number", hint="it returned a list")
    assert str(info.value) == (
        "forward returns one number: this does not hold for your answer. Hint: it returned a list."
    )


def test_kinds_are_named_in_plain_words_not_python_type_names():
    import sympy as sp

    from backproplab.grading import describe_value

    assert describe_value(2.5) == describe_value(np.float32(1)) == "a single number (float)"
    assert describe_value(np.zeros((1, 2))) == "an array of shape (1, 2)"
    assert describe_value([1.0, None]) == "a list of 2 items"
    assert describe_value(len).startswith("a function") and "builtin" not in describe_value(len)
    assert describe_value(sp.Symbol("x") + 1).startswith("a SymPy expression")
    words = describe_difference(encode(sp.Symbol("x") * 2), encode(1.0), 1e-7)
    assert (
        words
        == "a SymPy expression (not a number or an array) where a single number (float) was expected"
    )
    assert "Real" not in words and "Mul" not in words


def test_record_sends_nothing_outside_autograding(monkeypatch, capsys):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert record("k", 3.0) == 3.0 and capsys.readouterr().out == ""


# --- reasons for cells that raised -------------------------------------------------------------------


def _notebook_with_answer_cell(count=7):
    cell = nbformat.v4.new_code_cell("def forward(X, W, b):\n    return X @ W")
    cell.metadata["nbgrader"] = {"solution": True, "grade_id": "ch01_forward"}
    cell.execution_count = count
    return nbformat.v4.new_notebook(cells=[cell])


def test_an_exception_in_the_students_cell_names_its_type_and_line_only():
    error = {
        "ename": "ValueError",
        "evalue": "In[12] = 'hidden test source'",
        "traceback": ["\x1b[0;32mCell In[7], line 2\x1b[0m, in forward", "Cell In[9], line 4"],
    }
    reason = describe_error(error, answer_cells_by_count(_notebook_with_answer_cell()))
    assert reason.startswith("your code raised ValueError (your cell ch01_forward, line 2)")
    assert "hidden" not in reason, "kernel-made text never reaches the feedback"


def test_an_exception_in_the_tests_own_code_is_not_blamed_on_a_line_of_the_student():
    reason = describe_error(
        {"ename": "TypeError", "traceback": ["Cell In[9], line 4"]}, {7: "ch01_forward"}
    )
    assert reason == "the test could not use what your code returned: it raised TypeError"


def test_a_forged_exception_name_is_not_repeated():
    assert "<script>" not in describe_error({"ename": "<script>x</script>", "traceback": []}, {})


def test_a_failed_check_shows_its_sentence_alone_in_ipython():
    """In an IPython shell of its own (a global one would leak into other tests)."""
    code = (
        "from IPython.testing.globalipapp import get_ipython\n"
        "shell = get_ipython()\n"
        "shell.run_cell('from backproplab.grading import check')\n"
        "result = shell.run_cell(\"check('k', [1.0, -2.0], [-1.0, 2.0], 'dW for the toy')\")\n"
        "print('raised', type(result.error_in_exec).__name__)\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    ).stdout
    assert "raised CheckFailed" in shown
    assert (
        "dW for the toy: the sign is flipped" in shown
        and "Traceback" not in shown
        and "grading.py" not in shown
    )


def test_a_failed_visible_check_is_explained_by_the_outside_check():
    error = {"ename": "CheckFailed", "evalue": "anything", "traceback": ["Check failed: anything"]}
    assert (
        cell_reason("z at the start: the sign is flipped", error, {7: "ch01_forward"})
        == "z at the start: the sign is flipped"
    )
    assert cell_reason(None, None, {}) is None


# --- feedback pages ----------------------------------------------------------------------------------


def test_feedback_shows_no_output_made_in_the_kernel_and_hides_hidden_test_code():
    answer = nbformat.v4.new_code_cell(
        "print(In)", outputs=[nbformat.v4.new_output("stream", text="secret hidden line")]
    )
    test = _graded_cell("t_hidden")
    test.source = '"""checks forward on hidden inputs."""\nsecret_hidden_call()'
    nb = nbformat.v4.new_notebook(cells=[answer, test])
    page = feedback_notebook(nb, {"t_hidden": (0.0, 2.0, "no result")}, {"t_hidden"}, (0.0, 2.0))
    shown = nbformat.writes(page)
    assert "secret hidden" not in shown and "secret_hidden_call" not in shown
    assert "0 / 2 points: no result" in shown and "checks forward on hidden inputs" in shown


def test_feedback_page_shows_markdown_as_html_with_tab_stops_and_no_script():
    """Markdown is shown as headings and paragraphs, never as escaped tags; cells and verdicts
    are tab stops; a student's script, image or handler in Markdown is not an element."""
    from bs4 import BeautifulSoup

    written = nbformat.v4.new_markdown_cell(
        "## My answer\n\nIt *diverges*.\n\n<script>alert(1)</script>"
        '<img src="x" onerror="alert(2)"><a href="javascript:alert(3)">link</a>'
    )
    answer = nbformat.v4.new_code_cell("def f(x):\n    return x < 1 and '&'")
    test = _graded_cell("t_f")
    test.source = '"""checks f."""\nassert f(0)'
    nb = nbformat.v4.new_notebook(cells=[written, answer, test])
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    page = feedback_notebook(nb, {"t_f": (1.0, 1.0, None)}, set(), (1.0, 1.0))
    settings = {"sanitize_html": True, "template_file": str(TEMPLATE)}
    html = FeedbackExporter(**settings).from_notebook_node(page)[0]
    soup = BeautifulSoup(html, "html.parser")
    assert [h.get_text(strip=True) for h in soup.select("h1, h2")] == ["Feedback¶", "My answer¶"]
    assert soup.select_one("main p em").get_text() == "diverges"
    assert [th.get_text() for th in soup.select("thead th")] == ["test", "points", "result"]
    assert "&lt;h1" not in html and "&lt;p&gt;" not in html
    wrappers = soup.select("div.jp-Cell-inputWrapper") + soup.select("div.jp-OutputArea-output")
    assert len(wrappers) == 5 and all(w.get("tabindex") == "0" for w in wrappers)
    assert soup.select("img") == [] and soup.select("main script") == []
    assert not any(a.get("href", "").startswith("javascript") for a in soup.select("a"))
    assert not any(tag.has_attr("onerror") for tag in soup.find_all(True))


def test_sandboxes_share_the_cpus_unless_told_how_many_threads(monkeypatch):
    """Each of N sandboxes gets the CPUs divided by N (at least one thread); the variable wins,
    and a value that is no count of threads is refused with its name."""
    from autograder.sandbox import THREADS_ENV, sandbox_threads

    monkeypatch.delenv(THREADS_ENV, raising=False)
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(8)))
    assert [sandbox_threads(n) for n in (1, 2, 3, 8, 16)] == [8, 4, 2, 1, 1]
    monkeypatch.setenv(THREADS_ENV, "3")
    assert sandbox_threads(16) == 3
    for bad in ("0", "two", "-1", ""):
        monkeypatch.setenv(THREADS_ENV, bad)
        with pytest.raises(ValueError, match=THREADS_ENV):
            sandbox_threads()


def test_the_font_list_is_made_once_per_grading_folder(tmp_path, monkeypatch):
    """The first worker makes matplotlib's font list; the next ones find it and start no process."""
    import subprocess

    from autograder.sandbox import font_cache

    folder = tmp_path / "jupyter" / "matplotlib"
    assert font_cache(folder) == str(folder)
    assert (folder.stat().st_mode & 0o777) == 0o755, "the sandbox's user cannot read the list"

    def no_process(*args, **kwargs):
        raise AssertionError("the font list was made again")

    monkeypatch.setattr(subprocess, "run", no_process)
    assert font_cache(folder) == str(folder)
    assert [p.name for p in tmp_path.joinpath("jupyter").iterdir()] == ["matplotlib"]


# --- mutants and variants are checked where they are defined -----------------------------------------


def _fake_module(monkeypatch, **lists):
    import importlib
    from types import SimpleNamespace

    monkeypatch.setattr(
        importlib, "import_module", lambda name: SimpleNamespace(__name__=name, **lists)
    )


def test_a_mutant_naming_a_test_cell_that_does_not_exist_is_refused_at_once(monkeypatch):
    from autograder.mutants import Mutant, mutants_for

    typo = Mutant(
        name="typo", cell="ch01_forward", old="b", new="c", loses=("ch01_froward_hidden",)
    )
    _fake_module(monkeypatch, MUTANTS=[typo])
    with pytest.raises(ValueError, match="'typo'.*loses names no test cell.*ch01_froward_hidden"):
        mutants_for("01_gradient_descent")


def test_a_variant_answering_a_cell_that_is_not_an_answer_cell_is_refused_at_once(monkeypatch):
    from autograder.variants import Variant, variants_for

    _fake_module(
        monkeypatch,
        VARIANTS=[Variant(name="v", about="", answers={"ch01_forward_visible": "x = 1"})],
    )
    with pytest.raises(ValueError, match="'v'.*ch01_forward_visible"):
        variants_for("01_gradient_descent")


# --- the messages between the grader and its workers --------------------------------------------------


def test_a_job_travels_to_the_worker_and_back_unchanged(tmp_path):
    from autograder.messages import Job

    batch = Job("01_gradient_descent", "/w", 30, False, ["ch01_forward_hidden"], "abc")
    job = batch.for_student(
        {"kernel_name": "k-0", "uid": 64123, "unknown_setting": 1}, "ada", tmp_path, "d:abc"
    )
    job.write(tmp_path / "job.json")
    assert Job.read(tmp_path / "job.json") == job
    assert (job.kernel_name, job.uid, job.student, job.student_dir) == (
        "k-0",
        64123,
        "ada",
        str(tmp_path),
    )


def test_a_result_keeps_its_cells_flags_and_status_through_json():
    import json

    from autograder.messages import CellScore, Flag, Status, StudentResult

    result = StudentResult(
        "ada",
        {"t": CellScore(0.0, 2.0, True, "the sign is flipped"), "w": CellScore(None, 3.0, False)},
    )
    result.flags.append(Flag.TAMPERED)
    again = StudentResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again == result and again.status is Status.GRADED and again.manual_pending == 3.0
    assert StudentResult("bob").not_graded("no notebook", "unreadable").flags == [Flag.UNREADABLE]
    with pytest.raises(ValueError):
        StudentResult.from_dict({"student": "eve", "flags": ["trusted"]})


# --- nbgrader's exchange: the receipt that names a student's feedback ------------------------------


def test_the_exchange_receipt_goes_beside_the_feedback_and_nothing_else(tmp_path):
    """A collected submission's timestamp and secret are copied next to its feedback page (nbgrader's
    release_feedback needs both); a link or an oversized file in their place is not followed or copied."""
    from autograder.grade_one import MAX_RECEIPT_BYTES, copy_exchange_receipt

    submitted, feedback = tmp_path / "submitted", tmp_path / "feedback"
    submitted.mkdir()
    (submitted / "timestamp.txt").write_text("2026-12-01 10:00:00.000000 UTC")
    (submitted / "submission_secret.txt").write_text("s3cret")
    copy_exchange_receipt(submitted, feedback)
    assert (feedback / "timestamp.txt").read_text() == "2026-12-01 10:00:00.000000 UTC"
    assert (feedback / "submission_secret.txt").read_text() == "s3cret"

    other, elsewhere = tmp_path / "other", tmp_path / "elsewhere"
    other.mkdir()
    (tmp_path / "someone-elses-secret.txt").write_text("not yours")
    (other / "submission_secret.txt").symlink_to(tmp_path / "someone-elses-secret.txt")
    (other / "timestamp.txt").write_text("x" * (MAX_RECEIPT_BYTES + 1))
    copy_exchange_receipt(other, elsewhere)
    assert not elsewhere.exists()
