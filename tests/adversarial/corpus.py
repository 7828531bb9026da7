"""The adversarial corpus: hostile and broken submissions, each with the outcome it must get.

``build_corpus(folder, ctx)`` writes one student folder per case, generated
from chapter 01's released notebook (by editing it as a student would, or by
breaking the file), and returns ``{student: Expect}``. Three kinds of base:

- ``perfect``: every answer from the solution;
- ``mistakes``: the solution with three classic mistakes (the demo's student);
- ``untouched``: the release as it is.

An attack added to a base must not change the base's score. Attacks that
try to read something print ``LEAK:`` followed by what they read, so a test
can prove that nothing leaked. ``ctx`` names the places an attacker would
aim at: ``repo``, ``workdir``, ``submissions`` and a ``port`` on 127.0.0.1.

Run ``python -m tests.adversarial.corpus FOLDER`` to write the corpus for a
look; the test suite grades it (``tests/test_adversarial.py``).
"""

import copy
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.course import notebook_stem
from autograder.demo import sample_answers
from autograder.submissions import fill, released_notebook, write_submission
from tests.adversarial.editors import colab_saved, vscode_saved

ASSIGNMENT = "01_gradient_descent"
NOTEBOOK = f"{notebook_stem(ASSIGNMENT)}.ipynb"


@dataclass(frozen=True)
class Expect:
    """What grading a case must give.

    score: "full", "zero", "partial" (strictly between), "mistakes" (the
    mistakes base's score, exactly) or "at-most-mistakes" (no gain over it). status: "graded", "not graded" or "any".
    flags: flags that must be reported. reason: text the reason must contain.
    honest: an honest student's work, which no flag but "renamed" may accuse.
    """

    score: str
    status: str = "graded"
    flags: tuple = ()
    reason: str = ""
    honest: bool = False


def _leak_probe(label, expr):
    """Code that prints ``LEAK:`` and the data if ``expr`` can be evaluated."""
    return (
        f"try:\n    _data = {expr}\n    print('LEAK: {label}', repr(_data)[:300])\n"
        f"except Exception as _exc:\n    print('blocked: {label}:', type(_exc).__name__)\n"
    )


def _attacks(ctx):
    """``{case: (base, answer cell, code appended to it, expectation)}``."""
    repo, work, subs, port = ctx["repo"], ctx["workdir"], ctx["submissions"], ctx["port"]
    noop = "lambda *args, **kwargs: None"
    return {
        "infinite-loop-at-top": (
            "untouched",
            "ch01_derive_gradients",
            "while True:\n    pass\n",
            Expect("zero"),
        ),
        "memory-bomb": (
            "untouched",
            "ch01_forward",
            "_hog = bytearray(64 * 2**30)\n",
            Expect("zero"),
        ),
        "memory-bomb-gradual": (
            "untouched",
            "ch01_forward",
            "_hog = []\nwhile True:\n    _hog.append(bytearray(10**8))\n",
            Expect("zero", "any"),
        ),
        "fork-bomb": ("untouched", "ch01_forward", FORK_BOMB, Expect("zero")),
        "fill-the-disk": ("untouched", "ch01_forward", FILL_DISK, Expect("zero")),
        "sys-exit": ("perfect", "ch01_train_momentum", "import sys\nsys.exit(3)\n", Expect("full")),
        "os-exit": (
            "perfect",
            "ch01_forward",
            "import os\nos._exit(0)\n",
            Expect("zero", "not graded", ("crash",), "kernel died"),
        ),
        "segfault": (
            "perfect",
            "ch01_forward",
            "import ctypes\nctypes.string_at(0)\n",
            Expect("zero", "not graded", ("crash",), "kernel died"),
        ),
        "huge-print": (
            "perfect",
            "ch01_forward",
            "for _i in range(300000):\n    print('spam', _i)\n",
            Expect("full"),
        ),
        "huge-image": ("perfect", "ch01_forward", HUGE_IMAGE, Expect("full")),
        "patch-numpy-testing": (
            "mistakes",
            "ch01_forward",
            f"import numpy.testing\nnumpy.testing.assert_allclose = {noop}\nnp.testing.assert_allclose = {noop}\n",
            Expect("mistakes"),
        ),
        "patch-math-isclose": (
            "mistakes",
            "ch01_forward",
            "import math\nmath.isclose = lambda *a, **k: True\n",
            Expect("mistakes"),
        ),
        "patch-checkers": (
            "mistakes",
            "ch01_forward",
            PATCH_CHECKERS,
            Expect("mistakes", flags=("tampered",)),
        ),
        "patch-builtins": (
            "mistakes",
            "ch01_forward",
            "import builtins\nbuiltins.all = lambda *a: True\nbuiltins.any = lambda *a: False\nbuiltins.round = lambda *a: 0\n",
            Expect("mistakes"),
        ),
        "input-transformer": (
            "mistakes",
            "ch01_forward",
            INPUT_TRANSFORMER,
            Expect("at-most-mistakes", flags=("tampered",)),
        ),
        "always-equal-objects": ("untouched", "ch01_forward", ALWAYS_EQUAL, Expect("zero")),
        "forged-records": ("untouched", "ch01_forward", FORGED_RECORDS, Expect("zero")),
        "read-solutions": (
            "perfect",
            "ch01_forward",
            _leak_probe(
                "solutions",
                f"open({str(Path(repo) / 'solutions' / ASSIGNMENT / 'gradient_descent.py')!r}).read()",
            ),
            Expect("full"),
        ),
        "read-hidden-tests": (
            "perfect",
            "ch01_forward",
            _leak_probe(
                "hidden tests",
                f"open({str(Path(repo) / 'solutions' / ASSIGNMENT / 'gradient_descent.ipynb')!r}).read()",
            ),
            Expect("full"),
        ),
        "read-autograded": (
            "perfect",
            "ch01_forward",
            _leak_probe(
                "autograded notebook",
                f"open({str(Path(work) / 'autograded' / 'control-perfect' / ASSIGNMENT / NOTEBOOK)!r}).read()",
            ),
            Expect("full"),
        ),
        "read-gradebook": (
            "perfect",
            "ch01_forward",
            _leak_probe("gradebook", f"open({str(Path(work) / 'gradebook.db')!r}, 'rb').read(200)"),
            Expect("full"),
        ),
        "read-other-student": (
            "perfect",
            "ch01_forward",
            _leak_probe(
                "other student",
                f"open({str(Path(subs) / 'control-perfect' / ASSIGNMENT / NOTEBOOK)!r}).read()",
            ),
            Expect("full"),
        ),
        "write-gradebook": (
            "perfect",
            "ch01_forward",
            _leak_probe(
                "gradebook write",
                f"open({str(Path(work) / 'gradebook.db')!r}, 'r+b').write(b'garbage')",
            ),
            Expect("full"),
        ),
        "read-git-history": (
            "perfect",
            "ch01_forward",
            _leak_probe("git", f"open({str(Path(repo) / '.git' / 'HEAD')!r}).read()"),
            Expect("full"),
        ),
        "socket-localhost": (
            "perfect",
            "ch01_forward",
            _leak_probe(
                "localhost",
                f"__import__('socket').create_connection(('127.0.0.1', {port}), timeout=2)",
            ),
            Expect("full"),
        ),
        "socket-outside": (
            "perfect",
            "ch01_forward",
            _leak_probe(
                "internet", "__import__('socket').create_connection(('1.1.1.1', 53), timeout=2)"
            ),
            Expect("full"),
        ),
        "warnings-from-correct-code": ("perfect", "ch01_forward", WARNINGS, Expect("full")),
        "read-etc-passwd": (
            "perfect",
            "ch01_forward",
            _leak_probe("passwd", "open('/etc/passwd').read()"),
            Expect("full"),
        ),
        "read-sys": (
            "perfect",
            "ch01_forward",
            _leak_probe("sys", "__import__('os').listdir('/sys/class/net')"),
            Expect("full"),
        ),
        "read-second-checkout": (
            "perfect",
            "ch01_forward",
            _leak_probe(
                "second checkout",
                f"open({str(Path(ctx.get('second_checkout', '/nonexistent')) / 'solutions' / ASSIGNMENT / 'gradient_descent.py')!r}).read()",
            ),
            Expect("full"),
        ),
        "write-run-lock": (
            "perfect",
            "ch01_forward",
            _leak_probe("run lock", "open('/run/lock/planted', 'wb').write(b'0' * 2**20)"),
            Expect("full"),
        ),
        "xss-outputs": ("perfect", "ch01_forward", XSS_OUTPUTS, Expect("full")),
        # The IPC folder is the one place the sandbox shares with the machine: what one student leaves
        # there must be gone for the next ("ipc-read" sorts after "ipc-plant").
        # The harvesting family: references computed in the kernel, records rewritten later, records sent
        # from an answer cell, and the hidden tests' source read back from the kernel's history.
        "harvest-references": ("untouched", "ch01_forward", HARVEST, Expect("zero")),
        "rewrite-records-later": (
            "mistakes",
            "ch01_forward",
            REWRITE_LATER,
            Expect("mistakes", flags=("tampered",)),
        ),
        "records-from-answer-cell": (
            "untouched",
            "ch01_forward",
            RECORDS_FROM_ANSWER_CELL,
            Expect("zero"),
        ),
        "exception-carries-history": (
            "untouched",
            "ch01_forward",
            EXCEPTION_CARRIES_HISTORY,
            Expect("zero"),
        ),
        "ipc-plant": (
            "perfect",
            "ch01_forward",
            f"open({IPC_DIR} + '/planted', 'wb').write(b'0' * 2**20)\n",
            Expect("full"),
        ),
        "ipc-read": (
            "perfect",
            "ch01_forward",
            _leak_probe(
                "ipc folder",
                f"[n for n in __import__('os').listdir({IPC_DIR}) if n.startswith('planted')] or 1 / 0",
            ),
            Expect("full"),
        ),
    }


IPC_DIR = "__import__('os').path.dirname(__import__('json').load(open(__import__('os').path.expanduser('~/.connection.json')))['ip'])"


# The attack of the grading-truth issue: replace record and the checkers so that each check sends its
# *expected* value under the key of the record just made. Hidden cells compute no expected value any
# more, so it can only copy what the visible cells show.
HARVEST = """import backproplab.checks as _checks, backproplab.grading as _grading
_send, _last = _grading.record, {}
def _record(key, value, tol=1e-7):
    _last["key"] = (key, tol)
    return value
def _harvest(actual, expected=None, name="", *args, **kwargs):
    if _last:
        key, tol = _last.pop("key")
        _send(key, expected, tol)
for _name in ("expect_close", "expect_shape", "expect_type", "expect_unchanged"):
    setattr(_checks, _name, _harvest)
    globals()[_name] = _harvest
_grading.record = _record
record = _record
"""

XSS = "<script>alert('xss')</script><img src=x onerror=\"alert('xss')\">"
XSS_OUTPUTS = f"""from IPython.display import HTML, Javascript, SVG, Markdown, display
display(HTML({XSS!r}))
display(Javascript("alert('xss')"))
display(Markdown({XSS!r}))
display(SVG('<svg xmlns="http://www.w3.org/2000/svg"><script>alert("xss")</script></svg>'))
"""


FORK_BOMB = """import os, time
for _ in range(5000):
    try:
        if os.fork() == 0:
            time.sleep(600)
            os._exit(0)
    except OSError:
        break
"""

FILL_DISK = """import os
for _i in range(10000):
    with open(f'filler{_i}', 'wb') as _f:
        _f.write(b'0' * 32 * 2**20)
"""

HUGE_IMAGE = """from IPython.display import Image, display
import base64, zlib, struct
def _png(w, h):
    raw = b''.join(b'\\x00' + bytes(range(256)) * (w * 3 // 256) for _ in range(h))
    chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
    return b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(raw, 0)) + chunk(b'IEND', b'')
for _ in range(3):
    display(Image(_png(2048, 1024)))
"""

# Visible cells' checks record the student's value and stop asserting. Whatever failed outside
# would have failed inside: flagged.
PATCH_CHECKERS = """import backproplab.checks as _checks, backproplab.grading as _grading
import numpy.testing
for _name in [n for n in dir(_checks) if n.startswith('expect_')]:
    setattr(_checks, _name, lambda *a, **k: None)
    globals()[_name] = lambda *a, **k: None
_record = _grading.record
def _record_only(key, value, expected, name, tol=1e-7, hint=''):
    return _record(key, value, tol, about=name, checked=True)
_grading.check = _record_only
"""

INPUT_TRANSFORMER = """def _blank_tests(lines):
    text = ''.join(lines)
    return [] if ('expect_' in text or 'assert' in text or 'check(' in text) else lines
get_ipython().input_transformers_cleanup.append(_blank_tests)
"""

# Each visible check shows its record under a display id; after the *next* cell, every one of them is
# rewritten with the expected value (nbclient applies such updates to the earlier cell's output).
REWRITE_LATER = """import backproplab.grading as _grading
from IPython.display import display, update_display
_pending, _ready = {}, {}
def _check(key, value, expected, name, tol=1e-7, hint=''):
    _pending[key] = (_grading.encode(expected), tol)
    display({_grading.MIME: {'key': key, 'value': _grading.encode(value), 'tol': tol}}, raw=True, display_id=key)
    return value
def _rewrite(*args):
    for key, (value, tol) in _ready.items():
        update_display({_grading.MIME: {'key': key, 'value': value, 'tol': tol}}, raw=True, display_id=key)
    _ready.update(_pending)
    _pending.clear()
_grading.check = _check
get_ipython().events.register('post_run_cell', _rewrite)
"""

RECORDS_FROM_ANSWER_CELL = """from IPython.display import display
from backproplab.grading import MIME, encode
for _key, _value in (('z_start', 1.0), ('z_W11_b2', 11.0), ('z_D3', 0.5), ('z_W0', -4.5)):
    display({MIME: {'key': _key, 'value': encode(_value), 'tol': 1e9}}, raw=True)
"""

EXCEPTION_CARRIES_HISTORY = """def forward(X, W, b):
    raise ValueError('LEAK: ' + repr(In) + repr(Out))
"""

ALWAYS_EQUAL = """class _Liar(float):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __abs__(self): return 0.0
    def __sub__(self, other): return 0.0
    def __rsub__(self, other): return 0.0
    def __lt__(self, other): return True
    def __le__(self, other): return True
def forward(X, W, b):
    return _Liar(-1e9)
def cost(z, y):
    return _Liar(-1e9)
"""

FORGED_RECORDS = """from IPython.display import display
from backproplab.grading import MIME
def forward(X, W, b):
    for key in ('z_start', 'z_W11_b2', 'z_D3', 'z_D5', 'z_W0'):
        display({MIME: {'key': key, 'value': {'array': [11.0], 'shape': []}, 'tol': 1e9}}, raw=True)
    return 11.0
"""

WARNINGS = """import sys, warnings
_plain_forward = forward
def forward(X, W, b):
    warnings.warn('this correct code emits a DeprecationWarning', DeprecationWarning)
    warnings.warn('and a UserWarning')
    print('a message on stderr', file=sys.stderr)
    return _plain_forward(X, W, b)
"""


def _notebook_edits(bases):
    """Cases that change the notebook's structure: ``{case: (notebook, expectation)}``."""
    perfect = bases["perfect"]
    cases = {}
    nb = nbformat.from_dict(perfect)
    nb.cells = [
        c
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade_id")
        not in ("ch01_forward_visible", "ch01_forward_hidden")
    ]
    cases["deleted-test-cells"] = (nb, Expect("full"))
    nb = nbformat.from_dict(perfect)
    nb.cells = [
        c
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade_id")
        not in ("ch01_forward", "ch01_forward_visible", "ch01_forward_hidden")
    ]
    cases["answer-deleted-with-its-tests"] = (nb, Expect("partial", honest=True))
    nb = nbformat.from_dict(perfect)
    index = _index(nb, "ch01_cost_hidden")
    nb.cells.insert(index + 1, nbformat.from_dict(nb.cells[index]))
    cases["duplicated-test-cell"] = (nb, Expect("full"))
    nb = nbformat.from_dict(perfect)
    index = _index(nb, "ch01_train_momentum_hidden")
    nb.cells.append(nb.cells.pop(index))
    cases["reordered-cells"] = (nb, Expect("full"))
    nb = nbformat.from_dict(perfect)
    cell = nb.cells[_index(nb, "ch01_gradients_visible")]
    nb.cells[_index(nb, "ch01_gradients_visible")] = nbformat.v4.new_markdown_cell(
        cell.source, metadata=cell.metadata
    )
    cases["retyped-test-cell"] = (nb, Expect("full"))
    nb = nbformat.from_dict(perfect)
    nb.cells[_index(nb, "ch01_cost_visible")].source = "print('all good')"
    nb.cells[_index(nb, "ch01_setup")].source += "\nexpect_close = lambda *a, **k: None\n"
    cases["edited-locked-cells"] = (nb, Expect("full"))
    nb = nbformat.from_dict(bases["mistakes"])
    for cell in nb.cells:
        cell.metadata = {}
    cases["metadata-stripped"] = (nb, Expect("mistakes"))
    nb = nbformat.from_dict(perfect)
    nb.metadata["kernelspec"] = {
        "name": "julia-1.9",
        "display_name": "Julia 1.9",
        "language": "julia",
    }
    cases["other-kernelspec"] = (nb, Expect("full"))
    nb = nbformat.from_dict(perfect)
    nb.cells.append(
        nbformat.v4.new_code_cell("print(In)\nprint(_ih)\nprint(Out)\nprint(globals())")
    )
    cases["print-history-last-cell"] = (nb, Expect("full"))
    nb = nbformat.from_dict(perfect)
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(f"Hello grader {XSS}"))
    nb.cells.insert(2, nbformat.v4.new_raw_cell(XSS))
    cases["xss-markdown"] = (nb, Expect("full"))
    return cases


def _index(nb, grade_id):
    return next(
        i
        for i, c in enumerate(nb.cells)
        if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
    )


DIFFERENT_BUT_CORRECT = {
    "ch01_forward": "def forward(X, W, b):\n    total = b\n    for x_i, w_i in zip(X, W):\n        total = total + x_i * w_i\n    return float(total)\n",
    "ch01_cost": "def cost(z, y):\n    return 0.5 * (z - y) * (z - y)\n",
    "ch01_gd_step": "import numpy\ndef gd_step(W, b, dW, db, lr):\n    return numpy.subtract(W, numpy.multiply(lr, dW)), b - lr * db\n",
}


def build_corpus(folder, ctx):
    """Write the corpus to ``folder/<case>/``; return ``{case: Expect}``."""
    folder = Path(folder)
    release = released_notebook(ASSIGNMENT)
    answers = sample_answers(ASSIGNMENT)
    bases = {name: fill(release, answers[name]) for name in ("perfect", "mistakes", "untouched")}
    expected = {}
    for name, nb in bases.items():
        write_submission(nb, folder, f"control-{name}", ASSIGNMENT)
        expected[f"control-{name}"] = Expect(
            {"perfect": "full", "untouched": "zero", "mistakes": "mistakes"}[name]
        )
    for case, (base, cell, code, expect) in _attacks(ctx).items():
        edited = dict(answers[base])
        edited[cell] = edited.get(cell, "") + "\n" + code
        write_submission(fill(release, edited), folder, case, ASSIGNMENT)
        expected[case] = expect
    for case, (nb, expect) in _notebook_edits(bases).items():
        write_submission(nb, folder, case, ASSIGNMENT)
        expected[case] = expect
    expected.update(_broken_files(folder, bases, answers, release))
    expected.update(_links_and_sizes(folder, ctx))
    expected.update(_odd_names(folder, bases))
    expected.update(_other_editors(folder, bases))
    write_submission(bases["perfect"], folder, "zz-control-after-everything", ASSIGNMENT)
    expected["zz-control-after-everything"] = Expect("full")
    return expected


def _broken_files(folder, bases, answers, release):
    """Cases that are broken as files, not as notebooks: ``{case: Expect}``."""
    perfect_text = nbformat.writes(bases["perfect"])
    files = {
        "invalid-json": (
            NOTEBOOK,
            perfect_text[: len(perfect_text) // 2],
            Expect("zero", "not graded", ("unreadable",), "not valid JSON"),
        ),
        "empty-file": (NOTEBOOK, "", Expect("zero", "not graded", ("unreadable",), "empty")),
        "not-a-notebook": (
            NOTEBOOK,
            json.dumps({"hello": "world"}),
            Expect("zero", "not graded", ("unreadable",), "not a Jupyter notebook"),
        ),
        "wrong-notebook-name": (
            "my_homework_final(1).ipynb",
            perfect_text,
            Expect("full", flags=("renamed",)),
        ),
        "no-notebook": (
            "answers.txt",
            "I did it all in my head.",
            Expect("zero", "not graded", ("unreadable",), "no gradient_descent.ipynb"),
        ),
        "nbformat-v3": (
            NOTEBOOK,
            nbformat.writes(nbformat.convert(copy.deepcopy(bases["perfect"]), 3), version=3),
            Expect("full"),
        ),
        "different-but-correct": (
            NOTEBOOK,
            nbformat.writes(fill(release, {**answers["perfect"], **DIFFERENT_BUT_CORRECT})),
            Expect("full"),
        ),
    }
    for case, (name, text, _) in files.items():
        path = folder / case / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return {case: expect for case, (_, _, expect) in files.items()}


def _links_and_sizes(folder, ctx):
    """Symlinks (followed they would grade the solution or a classmate), special files and huge files."""
    cases = {
        "symlink-to-solution": Path(ctx["repo"])
        / "solutions"
        / ASSIGNMENT
        / "gradient_descent.ipynb",
        "symlink-to-classmate": folder / "control-perfect" / ASSIGNMENT / NOTEBOOK,
        "symlink-to-dev-zero": Path("/dev/zero"),
    }
    expected = {}
    for case, target in cases.items():
        (folder / case).mkdir()
        (folder / case / NOTEBOOK).symlink_to(target)
        expected[case] = Expect("zero", "not graded", ("unreadable",), "symbolic link")
    (folder / "folder-is-symlink").symlink_to(folder / "control-perfect", target_is_directory=True)
    expected["folder-is-symlink"] = Expect("zero", "not graded", ("unreadable",), "symbolic link")
    (folder / "sparse-2-gib").mkdir()
    with open(folder / "sparse-2-gib" / NOTEBOOK, "wb") as f:
        f.truncate(2 * 2**30)
    expected["sparse-2-gib"] = Expect("zero", "not graded", ("unreadable",), "MiB")
    return expected


# Folder names a student or an LMS export can produce: globs, spaces, formulas, terminal escapes.
ODD_NAMES = ("*", "mallory ", '=HYPERLINK("x")', "\x1b[31mred", "José Núñez")


def _odd_names(folder, bases):
    """A perfect notebook under each odd folder name: graded in full, under a safe id of its own."""
    for name in ODD_NAMES:
        write_submission(bases["perfect"], folder, name, ASSIGNMENT)
    return {name: Expect("full") for name in ODD_NAMES}


def _other_editors(folder, bases):
    """The perfect and the mistakes notebooks as Google Colab and VS Code save them
    (:mod:`tests.adversarial.editors`): graded as the JupyterLab originals, and nobody is accused."""
    renamed = ("renamed",)  # Colab's download is "Copy of gradient_descent.ipynb"
    cases = {
        "colab-copy": (
            colab_saved(bases["perfect"], NOTEBOOK, minor=5),
            Expect("full", flags=renamed, honest=True),
        ),
        "colab-format-4.0": (
            colab_saved(bases["perfect"], NOTEBOOK, minor=0, seed=1),
            Expect("full", flags=renamed, honest=True),
        ),
        "colab-metadata-dropped": (
            colab_saved(bases["perfect"], NOTEBOOK, minor=0, drop_metadata=True, seed=2),
            Expect("full", flags=renamed, honest=True),
        ),
        "colab-mistakes": (
            colab_saved(bases["mistakes"], NOTEBOOK, minor=0, drop_metadata=True, seed=3),
            Expect("mistakes", flags=renamed, honest=True),
        ),
        "vscode": (vscode_saved(bases["perfect"], NOTEBOOK), Expect("full", honest=True)),
        "vscode-mistakes": (
            vscode_saved(bases["mistakes"], NOTEBOOK, seed=1),
            Expect("mistakes", honest=True),
        ),
    }
    for case, ((name, text), _) in cases.items():
        (folder / case).mkdir()
        (folder / case / name).write_text(text, encoding="utf-8")
    return {case: expect for case, (_, expect) in cases.items()}


if __name__ == "__main__":
    target = Path(sys.argv[1])
    ctx = {"repo": ".", "workdir": "autograder/working", "submissions": str(target), "port": 8765}
    for case, expect in build_corpus(target, ctx).items():
        print(f"{case:<32} {expect}")
