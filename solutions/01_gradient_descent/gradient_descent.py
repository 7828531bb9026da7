# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 01 — Gradient descent: how three parameters learn (2, 7) → 11
#
# A network with two inputs, no hidden layer and one linear output has three
# parameters, $w_1$, $w_2$ and $b$. We ask it to map the single example
# $(x_1, x_2) = (2, 7)$ to $y = 11$, and we let *gradient descent* find the
# parameters. Small as it is, this example already shows everything the rest
# of the course builds on: a forward pass, a cost, gradients by the chain rule,
# an update rule, a learning rate that can make or break training, and
# momentum.
#
# **Source.** The example and the algorithm follow sec. 1.2.1 of E. Kara's report
# *Mathematical Foundations of Deep Learning* (cited as "Kara"; the full reference is
# at the end of the chapter), and the momentum rule its eq. (37) (sec. 4.1). Both
# contain mistakes; we recompute them, state the correct results, and explain the
# mistakes in folded **Errata** notes at the end of sections 4 and 6 (click one to open it).
#
# ## Learning goals
#
# After this chapter you can
#
# - derive the gradient of a squared-error cost with the chain rule, by hand and
#   in SymPy;
# - implement the forward pass, the cost, the gradients and one gradient-descent
#   step with NumPy, without modifying the caller's arrays;
# - run gradient descent, record its history, and check it against a closed form;
# - explain why a learning rate above $2/(\lVert X\rVert^2 + 1)$ makes training
#   diverge, and relate this threshold to the Hessian's eigenvalue;
# - implement gradient descent with momentum (with the right sign) and say when
#   it helps.
#
# **Time:** about 1.5–2 hours of reading, deriving and coding. The whole notebook
# runs in a few seconds on a laptop CPU; no GPU is needed.
#
# **How to work:** fill in every cell that says `# YOUR CODE HERE`, then run the
# test cell below it. The visible tests show what is checked; hidden tests check
# the same things on other inputs (other sizes $D$, other learning rates) when
# your notebook is graded.

# %% nbgrader={"grade": false, "grade_id": "ch01_setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import builtins
import numbers

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp

from backproplab.gradcheck import numerical_gradient, rel_error
from backproplab.grading import check, record
from backproplab.plotting import show_figure
from backproplab.widgets import optimisation_explorer

np.set_printoptions(precision=6, suppress=True)


# The test cells below use the names imported here: do not rebind them.
def record_history(history, W, tag, label):
    """Test helper: record for the grader a training history (its keys W, b, z, cost, each an array)
    and the caller's W after training (train must not modify it). ``tag`` names the case in the
    record keys, ``label`` in words."""
    # a student's `from numpy import *` rebinds the name record
    from backproplab.grading import record

    record(f"W_after_{tag}", W, about=f"W after training {label}: it must not be modified")
    for key in ("W", "b", "z", "cost"):
        value = history.get(key) if isinstance(history, dict) else None
        record(
            f"{key}_is_ndarray_{tag}",
            isinstance(value, np.ndarray),
            about=f'history["{key}"] is a NumPy array {label}',
        )
        record(f"history_{key}_{tag}", value, tol=1e-9, about=f'history["{key}"] {label}')


# The example of the source, sec. 1.2.1: (x1, x2) = (2, 7) -> y = 11,
# start at w1 = w2 = 0, b = 1, learning rate 0.01, 15 updates.
X_toy = np.array([2.0, 7.0])
y_toy = 11.0
W_start = np.zeros(2)
b_start = 1.0
lr_toy = 0.01
epochs_toy = 15

# %% [markdown]
# ## 1. The model and its cost
#
# We write the inputs as a vector $X = (x_1, \dots, x_D)$ of shape `(D,)`, the
# weights as $W = (w_1, \dots, w_D)$ of the same shape, and the bias $b$ as a
# number. The model's output is linear:
#
# $$ z = x_1 w_1 + x_2 w_2 + \dots + x_D w_D + b = X \cdot W + b. \tag{1} $$
#
# For the toy, $D = 2$ and $z = 2 w_1 + 7 w_2 + b$. How far $z$ is from the
# target $y$ is measured by the squared-error **cost**
#
# $$ C = \tfrac12 \, (y - z)^2 . \tag{2} $$
#
# The factor $\tfrac12$ is a convention that cancels the 2 of the derivative.
# At the start ($W = 0$, $b = 1$) we have $z = 1$ and $C = \tfrac12 (11 - 1)^2 = 50$.
#
# ## 2. Gradients by the chain rule
#
# $C$ depends on the parameters only through $z$. The chain rule splits each
# derivative into "how $C$ changes with $z$" times "how $z$ changes with the
# parameter" (source, sec. 1.2.1):
#
# $$ \frac{\partial C}{\partial z} = -(y - z) = z - y, \tag{3} $$
#
# $$ \frac{\partial z}{\partial w_i} = x_i, \qquad \frac{\partial z}{\partial b} = 1, \tag{4} $$
#
# $$ \frac{\partial C}{\partial w_i} = \frac{\partial z}{\partial w_i}\frac{\partial C}{\partial z} = x_i\,(z - y),
#    \qquad
#    \frac{\partial C}{\partial b} = \frac{\partial z}{\partial b}\frac{\partial C}{\partial z} = z - y. \tag{5} $$
#
# In vector form, with the names we use in code,
#
# $$ dW := \nabla_W C = (z - y)\,X \quad \text{(shape } (D,)\text{)}, \qquad db := \frac{\partial C}{\partial b} = z - y . \tag{6} $$
#
# At the start of the toy $z - y = -10$, so $dW = (-20, -70)$ and $db = -10$:
# every component is negative, so increasing every parameter lowers the cost.
#
# ### Exercise 1 (derive): the gradients in SymPy
#
# The cell below defines SymPy symbols and the expressions $z$ and $C$ of
# eqs. (1)–(2) for $D = 2$. Write `dC_dw1`, `dC_dw2` and `dC_db` as SymPy
# expressions in `x1, x2, w1, w2, b, y`, **by the chain rule** (eqs. (3)–(5)),
# e.g. start from `dC_dz = ...`. Afterwards you may compare with
# `sp.diff(C, w1)`, but derive first.

# %% nbgrader={"grade": false, "grade_id": "ch01_symbols", "locked": true, "schema_version": 3, "solution": false, "task": false}
x1, x2, w1, w2, b, y = sp.symbols("x1 x2 w1 w2 b y", real=True)
z = x1 * w1 + x2 * w2 + b  # eq. (1)
C = (y - z) ** 2 / 2  # eq. (2)
C

# %% nbgrader={"grade": false, "grade_id": "ch01_derive_gradients", "locked": false, "schema_version": 3, "solution": true, "task": false}
# Define dC_dw1, dC_dw2 and dC_db (SymPy expressions in x1, x2, w1, w2, b, y).
### BEGIN SOLUTION
dC_dz = z - y  # eq. (3)
dC_dw1 = x1 * dC_dz  # eq. (5), dz/dw1 = x1
dC_dw2 = x2 * dC_dz  # dz/dw2 = x2
dC_db = 1 * dC_dz  # dz/db = 1
### END SOLUTION
dC_dw1, dC_dw2, dC_db

# %% nbgrader={"grade": true, "grade_id": "ch01_derive_gradients_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""dC_dw1, dC_dw2 and dC_db equal x1 (z - y), x2 (z - y) and z - y: by their values at three points."""
import builtins

import sympy as sp

from backproplab.grading import check

s_names = ("x1", "x2", "w1", "w2", "b", "y")
s_points = ((2, 7, 0, 0, 1, 11), (-1.5, 0.5, 2, -3, 0.25, 4), (3, -2, 0.5, 1.5, -1, -2))
# By hand, z - y = x1 w1 + x2 w2 + b - y is -10, -8.25 and -0.5 at these points, so
# dC/dw1 = x1 (z - y), dC/dw2 = x2 (z - y) and dC/db = z - y are:
s_expected = {
    "dC_dw1": (-20.0, 12.375, -1.5),
    "dC_dw2": (-70.0, -4.125, 1.0),
    "dC_db": (-10.0, -8.25, -0.5),
}
for s_name, s_answer in (("dC_dw1", dC_dw1), ("dC_dw2", dC_dw2), ("dC_db", dC_db)):
    s_expr = sp.sympify(s_answer)
    s_other = sorted(s.name for s in s_expr.free_symbols if s.name not in s_names)
    check(
        f"{s_name}_only_known_symbols",
        s_other == [],
        True,
        f"{s_name} is an expression in x1, x2, w1, w2, b, y only",
        hint=f"it also uses {s_other}",
    )
    for s_i, s_point in enumerate(s_points):
        s_values = dict(zip(s_names, s_point))
        s_value = s_expr.subs({s: s_values[s.name] for s in s_expr.free_symbols})
        check(
            f"{s_name}_at_point{s_i}",
            builtins.float(s_value),
            s_expected[s_name][s_i],
            f"{s_name} at (x1, x2, w1, w2, b, y) = {s_point}",
        )
print("dC_dw1 =", sp.factor(dC_dw1), " dC_dw2 =", sp.factor(dC_dw2), " dC_db =", sp.factor(dC_db))
print("the three derivatives: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch01_derive_gradients_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""dC_dw1, dC_dw2 and dC_db all equal the true derivatives (by their values at the source's start point and two more)."""
import builtins

import sympy as sp

from backproplab.grading import record

### BEGIN HIDDEN TESTS
names_h = ("x1", "x2", "w1", "w2", "b", "y")
points_h = {
    "at_start": {"x1": 2, "x2": 7, "w1": 0, "w2": 0, "b": 1, "y": 11},
    "at_point0": {"x1": 0.5, "x2": -4, "w1": 1.25, "w2": 0.75, "b": -2, "y": 3},
    "at_point1": {"x1": -3, "x2": 1.5, "w1": -0.5, "w2": 2, "b": 0.5, "y": -1.25},
}
for name_h, answer_h in (("dC_dw1", dC_dw1), ("dC_dw2", dC_dw2), ("dC_db", dC_db)):
    expr_h = sp.sympify(answer_h)
    other_h = sorted(s.name for s in expr_h.free_symbols if s.name not in names_h)
    record(
        f"{name_h}_other_symbols",
        other_h,
        about=f"{name_h} is an expression in x1, x2, w1, w2, b, y only",
    )
    for where_h, point_h in points_h.items():
        value_h = expr_h.subs(
            {s: point_h[s.name] for s in expr_h.free_symbols if s.name in point_h}
        )
        record(
            f"{name_h}_{where_h}",
            None if value_h.free_symbols else builtins.float(value_h),
            about=f"{name_h} {where_h.replace('_', ' ')}",
        )
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 2 (implement): forward pass and cost
#
# Implement eqs. (1) and (2) with NumPy. `forward` must work for any number of
# inputs $D$ (the hidden tests use $D = 3$ and $D = 5$) and return a single
# number, not an array.


# %% nbgrader={"grade": false, "grade_id": "ch01_forward", "locked": false, "schema_version": 3, "solution": true, "task": false}
def forward(X, W, b):
    """The model's output, eq. (1): z = X . W + b.

    X: inputs, shape (D,). W: weights, shape (D,). b: bias (float).
    Returns z, a float.
    """
    ### BEGIN SOLUTION
    return X @ W + b
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch01_forward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""forward on the toy: z = 1 at the start (W = 0, b = 1), z = 11 at W = (1, 1), b = 2; z is one number."""
import numbers

import numpy as np

from backproplab.grading import check, describe_value

X = np.array([2.0, 7.0])
z_start = check("z_start", forward(X, np.zeros(2), 1.0), 1.0, "z at the start (W = 0, b = 1)")
check(
    "z_start_is_real",
    isinstance(z_start, (numbers.Real, np.ndarray)) and np.ndim(z_start) == 0,
    True,
    "forward(X, W, b) returns a single number (float), not an array",
    hint=f"it returned {describe_value(z_start)}",
)
check("z_W11_b2", forward(X, np.array([1.0, 1.0]), 2.0), 11.0, "z at W = (1, 1), b = 2")
print("forward: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch01_forward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""forward on hidden inputs (D = 3 and 5, random, fixed seed): value, one number, inputs left unchanged."""
import builtins
import numbers

import numpy as np

from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(1001)
for D_h in (3, 5):
    X_h, W_h, b_h = (rng_h.normal(size=D_h), rng_h.normal(size=D_h), builtins.float(rng_h.normal()))
    z_h = record(f"z_D{D_h}", forward(X_h, W_h, b_h), tol=1e-10, about=f"z for D = {D_h}")
    record(
        f"z_is_real_D{D_h}",
        isinstance(z_h, (numbers.Real, np.ndarray)) and np.ndim(z_h) == 0,
        about=f"forward returns one number (D = {D_h})",
    )
    record(f"X_after_D{D_h}", X_h, about=f"X after forward (D = {D_h}): it must not be modified")
    record(f"W_after_D{D_h}", W_h, about=f"W after forward (D = {D_h}): it must not be modified")
recorded_h = record(
    "z_W0", forward(np.array([1.0, -2.0, 3.0]), np.zeros(3), -4.5), about="z for W = 0 (D = 3)"
)
### END HIDDEN TESTS


# %% nbgrader={"grade": false, "grade_id": "ch01_cost", "locked": false, "schema_version": 3, "solution": true, "task": false}
def cost(z, y):
    """The squared-error cost, eq. (2): C = (y - z)^2 / 2.

    z: the model's output (float). y: the target (float). Returns a float.
    """
    ### BEGIN SOLUTION
    return (y - z) ** 2 / 2
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch01_cost_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""cost on the toy: C = 50 at the start (z = 1, y = 11), C = 0 when z = y; C is one number."""
import numbers

import numpy as np

from backproplab.grading import check, describe_value

C_start = check("C_start", cost(1.0, 11.0), 50.0, "the cost at the start (z = 1, y = 11)")
check(
    "C_start_is_real",
    isinstance(C_start, (numbers.Real, np.ndarray)) and np.ndim(C_start) == 0,
    True,
    "cost(z, y) returns a single number (float), not an array",
    hint=f"it returned {describe_value(C_start)}",
)
check("C_at_target", cost(11.0, 11.0), 0.0, "the cost when z = y")
print("cost: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch01_cost_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""cost on hidden values (random, fixed seed, both signs of y - z): value, one number."""
import builtins
import numbers

import numpy as np

from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(1002)
for i_h, (z_h, y_h) in enumerate(
    list(rng_h.normal(scale=5.0, size=(4, 2))) + [(12.0, 11.0), (-3.0, 1.0)]
):
    C_h = record(
        f"C_{i_h}",
        cost(builtins.float(z_h), builtins.float(y_h)),
        tol=1e-12,
        about=f"the cost, case {i_h}",
    )
    record(
        f"C_is_real_{i_h}",
        isinstance(C_h, (numbers.Real, np.ndarray)) and np.ndim(C_h) == 0,
        about=f"cost returns one number (case {i_h})",
    )
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 3 (implement): the gradients
#
# Implement eq. (6). Return `dW` as an array with the shape of `W`, and `db` as a
# float. You may call your `forward`.


# %% nbgrader={"grade": false, "grade_id": "ch01_gradients", "locked": false, "schema_version": 3, "solution": true, "task": false}
def gradients(X, y, W, b):
    """The gradient of C = (y - z)^2 / 2 with z = X . W + b, eq. (6).

    X: inputs, shape (D,). y: target (float). W: weights, shape (D,). b: bias.
    Returns (dW, db): dW = (z - y) X, shape (D,); db = z - y, a float.
    """
    ### BEGIN SOLUTION
    error = forward(X, W, b) - y  # dC/dz, eq. (3)
    dW = error * X  # eq. (5): dz/dw_i = x_i
    db = float(error)  # dz/db = 1
    return dW, db
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch01_gradients_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""gradients at the start of the toy: dW = (-20, -70) with shape (2,), db = -10, one number (source, sec. 1.2.1)."""
import numbers

import numpy as np

from backproplab.grading import check, describe_value

dW, db = gradients(np.array([2.0, 7.0]), 11.0, np.zeros(2), 1.0)
check("dW_start", dW, [-20.0, -70.0], "dW at the start (shape (2,), like W)")
check("db_start", db, -10.0, "db at the start")
check(
    "db_is_real",
    isinstance(db, (numbers.Real, np.ndarray)) and np.ndim(db) == 0,
    True,
    "db is a single number (float), not an array",
    hint=f"it returned {describe_value(db)}",
)
print("gradients: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch01_gradients_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""gradients on hidden inputs (D = 3 and 5, fixed seed): eq. (6), shapes, db one number, inputs unchanged."""
import builtins
import numbers

import numpy as np

from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(1003)
for D_h in (3, 5):
    X_h, W_h = (rng_h.normal(size=D_h), rng_h.normal(size=D_h))
    b_h, y_h = (builtins.float(rng_h.normal()), builtins.float(rng_h.normal(scale=3.0)))
    dW_h, db_h = gradients(X_h, y_h, W_h, b_h)
    record(f"dW_D{D_h}", dW_h, tol=1e-10, about=f"dW for D = {D_h}")
    record(f"db_D{D_h}", db_h, tol=1e-10, about=f"db for D = {D_h}")
    record(
        f"db_is_real_D{D_h}",
        isinstance(db_h, (numbers.Real, np.ndarray)) and np.ndim(db_h) == 0,
        about=f"db is one number (D = {D_h})",
    )
    record(f"X_after_D{D_h}", X_h, about=f"X after gradients (D = {D_h}): it must not be modified")
    record(f"W_after_D{D_h}", W_h, about=f"W after gradients (D = {D_h}): it must not be modified")
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Gradient descent
#
# The gradient points where the cost grows fastest, so we take a small step
# the other way. With the **learning rate** $\eta$ (`lr` in code), one update is
#
# $$ W_{n+1} = W_n - \eta\, dW_n, \qquad b_{n+1} = b_n - \eta\, db_n, \tag{7} $$
#
# where $dW_n, db_n$ are the gradients (6) at $(W_n, b_n)$. For the toy this is
# Algorithm 1 of the source, written component by component there. One pass
# "forward, gradients, update" over the (single) example is one **epoch**.
#
# ### Exercise 4 (implement): one step
#
# `gd_step` returns **new** parameters. It must not change the arrays it is given
# (write `W - lr * dW`, not `W -= lr * dW`): the caller may still need the old
# `W`, for instance to record the history of training.


# %% nbgrader={"grade": false, "grade_id": "ch01_gd_step", "locked": false, "schema_version": 3, "solution": true, "task": false}
def gd_step(W, b, dW, db, lr):
    """One gradient-descent update, eq. (7), without modifying the inputs.

    W, dW: shape (D,). b, db: floats. lr: learning rate (float).
    Returns (W_new, b_new): W_new = W - lr dW, a new array of shape (D,);
    b_new = b - lr db, a float.
    """
    ### BEGIN SOLUTION
    W_new = W - lr * dW
    b_new = b - lr * db
    return W_new, b_new
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch01_gd_step_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""gd_step, the first update of the toy: W = (0.2, 0.7), b = 1.1 (lr = 0.01, dW = (-20, -70), db = -10); W unchanged."""
import numpy as np

from backproplab.grading import check

W_start = np.zeros(2)
W_next, b_next = gd_step(W_start, 1.0, np.array([-20.0, -70.0]), -10.0, 0.01)
check("W_next", W_next, [0.2, 0.7], "the new W (shape (2,))")
check("b_next", b_next, 1.1, "the new b")
check(
    "W_start_unchanged",
    W_start,
    [0.0, 0.0],
    "W after the call (gd_step must not change its input)",
    hint="W - lr * dW makes a new array; W -= lr * dW changes the caller's W",
)
print("gd_step: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch01_gd_step_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""gd_step on hidden inputs (D = 3 and 5, other lr): values, shapes, a new array, W and dW unchanged."""
import builtins
import numbers

import numpy as np

from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(1004)
for D_h, lr_h in ((3, 0.05), (5, 0.003)):
    W_h, dW_h = (rng_h.normal(size=D_h), rng_h.normal(size=D_h))
    b_h, db_h = (builtins.float(rng_h.normal()), builtins.float(rng_h.normal()))
    W_new_h, b_new_h = gd_step(W_h, b_h, dW_h, db_h, lr_h)
    record(f"W_new_D{D_h}", W_new_h, tol=1e-12, about=f"the new W (D = {D_h}, lr = {lr_h})")
    record(f"b_new_D{D_h}", b_new_h, tol=1e-12, about=f"the new b (D = {D_h}, lr = {lr_h})")
    record(
        f"b_new_is_real_D{D_h}",
        isinstance(b_new_h, (numbers.Real, np.ndarray)) and np.ndim(b_new_h) == 0,
        about=f"the new b is one number (D = {D_h})",
    )
    record(
        f"W_new_is_W_D{D_h}",
        W_new_h is W_h,
        about=f"gd_step returns a new array, not W itself (D = {D_h})",
    )
    record(f"W_after_D{D_h}", W_h, about=f"W after gd_step (D = {D_h}): it must not be modified")
    record(f"dW_after_D{D_h}", dW_h, about=f"dW after gd_step (D = {D_h}): it must not be modified")
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 5 (implement): training with a history
#
# `train` runs `num_epochs` updates (7) from `(W, b)` and records the state
# **before the first update and after every update**, so each history has
# `num_epochs + 1` rows: row 0 is the start, row $n$ the state after $n$ updates.
#
# | key | shape | row $n$ |
# |---|---|---|
# | `"W"` | `(num_epochs + 1, D)` | $W_n$ |
# | `"b"` | `(num_epochs + 1,)` | $b_n$ |
# | `"z"` | `(num_epochs + 1,)` | $z_n = X\cdot W_n + b_n$ |
# | `"cost"` | `(num_epochs + 1,)` | $C_n = \tfrac12 (y - z_n)^2$ |
#
# Use your `forward`, `cost`, `gradients` and `gd_step`. Do not modify the
# caller's `W`.


# %% nbgrader={"grade": false, "grade_id": "ch01_train", "locked": false, "schema_version": 3, "solution": true, "task": false}
def train(X, y, W, b, lr, num_epochs):
    """Gradient descent, eq. (7), for num_epochs updates on one example.

    X: inputs, shape (D,). y: target. W: start weights, shape (D,) (not modified).
    b: start bias. lr: learning rate. num_epochs: number of updates.
    Returns a dict of arrays with num_epochs + 1 rows (row 0 = the start):
    "W" (num_epochs + 1, D), "b", "z", "cost" (num_epochs + 1,).
    """
    ### BEGIN SOLUTION
    W, b = np.array(W, dtype=float), float(b)
    history = {"W": [], "b": [], "z": [], "cost": []}
    for _ in range(num_epochs + 1):
        z = forward(X, W, b)
        for key, value in (("W", W), ("b", b), ("z", z), ("cost", cost(z, y))):
            history[key].append(value)
        dW, db = gradients(X, y, W, b)
        W, b = gd_step(W, b, dW, db, lr)
    return {key: np.array(rows) for key, rows in history.items()}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch01_train_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""train on the toy (lr = 0.01, 15 epochs): every row of the history against the closed form (10) of section 4."""
import builtins

import numpy as np

from backproplab.grading import check

history = train(np.array([2.0, 7.0]), 11.0, np.zeros(2), 1.0, 0.01, 15)
# Section 4 solves this run exactly: rho = 1 - 0.01 * 54 = 0.46 and s_n = 10 (1 - rho^n) / 54 give
# W_n = s_n (2, 7), b_n = 1 + s_n, z_n = 11 - 10 rho^n, C_n = 50 rho^(2n); row 0 is the start,
# row 15 is W = (0.370367, 1.296285), b = 1.185184, z = 10.999913.
rho_n = 0.46 ** np.arange(16)
s_n = 10 * (1 - rho_n) / 54
expected = {
    "W": np.outer(s_n, [2.0, 7.0]),
    "b": 1 + s_n,
    "z": 11 - 10 * rho_n,
    "cost": 50 * rho_n**2,
}
for key in ("W", "b", "z", "cost"):
    check(
        f"history_{key}",
        history.get(key),
        expected[key],
        f'history["{key}"], rows 0 (the start) to 15',
        tol=1e-8,
        hint="One row for the start plus one per update",
    )
check(
    "history_are_arrays",
    builtins.all(isinstance(history[key], np.ndarray) for key in expected),
    True,
    "every entry of the history is a NumPy array",
    hint="Return np.array(rows), not the list of rows",
)
print("train: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch01_train_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""train on hidden problems (D = 3 and 5, other lr, a diverging lr): every row (they follow the closed form (10)), W unchanged."""
import builtins

import numpy as np

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(1005)
cases_h = [
    (
        rng_h.normal(size=3),
        builtins.float(rng_h.normal()),
        rng_h.normal(size=3),
        builtins.float(rng_h.normal()),
        0.02,
        7,
    ),
    (
        rng_h.normal(size=5),
        builtins.float(rng_h.normal()),
        rng_h.normal(size=5),
        builtins.float(rng_h.normal()),
        0.005,
        12,
    ),
    (np.array([2.0, 7.0]), 11.0, np.zeros(2), 1.0, 0.1, 5),
]
for i_h, (X_h, y_h, W_h, b_h, lr_h, n_h) in enumerate(cases_h):
    hist_h = train(X_h, y_h, W_h, b_h, lr_h, n_h)
    record_history(hist_h, W_h, f"case{i_h}", f"(D = {len(X_h)}, lr = {lr_h}, {n_h} epochs)")
### END HIDDEN TESTS

# %% [markdown]
# ## 4. The 15-step run of the source, recomputed
#
# Why do the hidden tests know every row of the history in advance? Because on
# one example gradient descent can be solved exactly. Write $e_n = z_n - y$ for
# the error and $\lambda = \lVert X\rVert^2 + 1$. Put the update (7) into (1):
#
# $$ z_{n+1} = X\cdot(W_n - \eta e_n X) + b_n - \eta e_n = z_n - \eta\,(\lVert X\rVert^2 + 1)\, e_n , $$
#
# and subtract $y$:
#
# $$ e_{n+1} = (1 - \eta\lambda)\, e_n = \rho\, e_n, \qquad \rho := 1 - \eta\,(\lVert X\rVert^2 + 1). \tag{8} $$
#
# So the error is multiplied by the same factor $\rho$ at every step, and the
# cost by $\rho^2$:
#
# $$ e_n = \rho^n e_0, \qquad C_n = \rho^{2n} C_0 . \tag{9} $$
#
# Every update moves $W$ along $X$ (and $b$ by the same amount), since
# $dW = e_n X$. Summing the geometric series $\eta\sum_{k<n} e_k = e_0(1-\rho^n)/\lambda$:
#
# $$ W_n = W_0 - \frac{e_0\,(1 - \rho^n)}{\lambda}\, X, \qquad b_n = b_0 - \frac{e_0\,(1 - \rho^n)}{\lambda}. \tag{10} $$
#
# For the toy: $\lambda = 2^2 + 7^2 + 1 = 54$, $\eta = 0.01$, so $\rho = 0.46$
# and $e_0 = -10$. The limit ($n \to \infty$) is $W = \tfrac{10}{54}(2, 7) =
# (0.37037, 1.29630)$, $b = 1 + \tfrac{10}{54} = 1.18519$, and along the way
# $w_2 / w_1 = 3.5$ and $b - 1 = w_1 / 2$ at every step. Let us run your `train`
# and compare with the numbers the source prints.

# %% nbgrader={"grade": false, "grade_id": "ch01_errata_table", "locked": true, "schema_version": 3, "solution": false, "task": false}
history_toy = train(X_toy, y_toy, W_start, b_start, lr_toy, epochs_toy)
source_says = {"w1": 0.215681, "w2": 1.50976, "b": 0.21568, "z": 10.99975}
final = history_toy["W"][-1]
recomputed = {"w1": final[0], "w2": final[1], "b": history_toy["b"][-1], "z": history_toy["z"][-1]}
rho_toy = 1 - lr_toy * (X_toy @ X_toy + 1)
closed = 10 / 54 * (1 - rho_toy**epochs_toy)  # eq. (10) with e0 = -10, lambda = 54
closed_form = {
    "w1": 2 * closed,
    "w2": 7 * closed,
    "b": 1 + closed,
    "z": 11 - 10 * rho_toy**epochs_toy,
}

print(f"after {epochs_toy} epochs   source      recomputed   closed form (10)")
for name in source_says:
    print(
        f"  {name:5}           {source_says[name]!s:<10}  {recomputed[name]:<11.8f}  {closed_form[name]:.8f}"
    )
z_of_source = X_toy @ np.array([source_says["w1"], source_says["w2"]]) + source_says["b"]
print(f"\nz computed from the source's own w1, w2, b: {z_of_source:.6f}")
print(
    f"|z - y| after 15 epochs: {abs(history_toy['z'][15] - y_toy):.2e}   (source's z gives {11 - 10.99975:.1e})"
)
print(
    f"|z - y| after  5 epochs: {abs(history_toy['z'][5] - y_toy):.3f}      cost after 5 epochs: {history_toy['cost'][5]:.4f}"
)

# %% [markdown]
# With a correct `train`, your run and the closed form (10) agree: after 15 epochs
# $W = (0.370367, 1.296285)$, $b = 1.185184$ and $z = 10.999913$, so
# $\lvert z - y\rvert = 10\cdot 0.46^{15} = 8.7\cdot10^{-5}$;
# after 5 epochs the error is $\lvert z_5 - y\rvert = 10\cdot0.46^5 = 0.206$, of order $10^{-1}$,
# and the cost $C_5 = 0.0212$. As eq. (10) says, $w_2/w_1 = 3.5$ and $b$ grows from 1 at
# every step. The source prints other numbers (the first column above); the fold below
# says where they go wrong.
#
# <details><summary>Errata: the 15-step run (Kara, sec. 1.2.1)</summary>
#
# 1. *The parameters after 15 epochs.* The source prints $w_1 = 0.215681$,
#    $w_2 = 1.50976$, $b = 0.21568$ and $z = 10.99975$. Running its own
#    Algorithm 1 gives
#
#    | after 15 epochs | source | recomputed (eqs. 7, 10) |
#    |---|---|---|
#    | $w_1$ | 0.215681 | 0.370367 |
#    | $w_2$ | 1.50976 | 1.296285 |
#    | $b$ | 0.21568 | 1.185184 |
#    | $z$ | 10.99975 | 10.999913 |
#    | $\lvert z - y\rvert$ | $2.5\cdot10^{-4}$ | $8.7\cdot10^{-5}$ ($= 10\cdot 0.46^{15}$) |
#
#    The printed values cannot be right: every update is proportional to
#    $(2, 7, 1)$, so $w_2/w_1$ must be $3.5$ (the source has $7.0$) and $b$ must
#    grow from 1 (the source has it shrink to 0.216); and $2 w_1 + 7 w_2 + b$
#    with the printed values is $11.215$, not $10.99975$.
# 2. *The error after 5 epochs.* The source says it "is of the order
#    $10^{-2}$". In fact $\lvert z_5 - y\rvert = 10 \cdot 0.46^5 = 0.206$, of
#    order $10^{-1}$; it is the **cost** $C_5 = 0.0212$ that is of order
#    $10^{-2}$.
#
# Its claim that $\eta = 0.1$ does not converge is right; section 5 says why.
#
# </details>

# %% [markdown]
# ## 5. How large may the learning rate be?
#
# By eq. (8), the error shrinks if and only if $\lvert\rho\rvert < 1$, that is
# $-1 < 1 - \eta\lambda < 1$:
#
# $$ 0 < \eta < \eta_{\max} = \frac{2}{\lambda} = \frac{2}{\lVert X\rVert^2 + 1} . \tag{11} $$
#
# - $0 < \eta < 1/\lambda$: $0 < \rho < 1$, the error shrinks monotonically;
# - $1/\lambda < \eta < 2/\lambda$: $-1 < \rho < 0$, it shrinks while flipping sign (overshoot);
# - $\eta > 2/\lambda$: $\rho < -1$, it grows and flips sign: **divergence**.
#
# For the toy $\eta_{\max} = 2/54 \approx 0.0370$; at $\eta = 0.1$,
# $\rho = 1 - 5.4 = -4.4$ and the cost is multiplied by $19.4$ at every step.
#
# **The Hessian view.** The matrix of second derivatives of $C$ with respect to
# $\theta = (W, b)$ is, from (6),
#
# $$ H = \nabla^2_\theta C = \begin{pmatrix} X \\ 1 \end{pmatrix}\begin{pmatrix} X^\top & 1 \end{pmatrix}, \tag{12} $$
#
# a rank-one matrix whose only non-zero eigenvalue is $\lVert X\rVert^2 + 1 = \lambda$
# (eigenvector $(X, 1)$). On a quadratic cost, gradient descent is stable iff
# $\eta < 2/\lambda_{\max}(H)$; (11) is this rule for our problem. The "+1" is the
# bias: forget it and you overestimate $\eta_{\max}$ (here $2/53$ instead of $2/54$),
# which is enough to diverge slowly.
#
# ### Exercise 6 (implement): the stability threshold


# %% nbgrader={"grade": false, "grade_id": "ch01_max_stable_lr", "locked": false, "schema_version": 3, "solution": true, "task": false}
def max_stable_lr(X):
    """The largest learning rate for which GD on one example converges, eq. (11).

    X: inputs, shape (D,). Returns 2 / (|X|^2 + 1), a float: GD converges for
    0 < lr < max_stable_lr(X) and diverges above it.
    """
    ### BEGIN SOLUTION
    return float(2.0 / (X @ X + 1.0))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch01_max_stable_lr_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""max_stable_lr on the toy: 2 / 54, one number."""
import numbers

import numpy as np

from backproplab.grading import check, describe_value

lr_max = check(
    "lr_max_toy", max_stable_lr(np.array([2.0, 7.0])), 2 / 54, "max_stable_lr for X = (2, 7)"
)
check(
    "lr_max_is_real",
    isinstance(lr_max, (numbers.Real, np.ndarray)) and np.ndim(lr_max) == 0,
    True,
    "max_stable_lr(X) returns a single number (float), not an array",
    hint=f"it returned {describe_value(lr_max)}",
)
print(f"max_stable_lr: visible tests passed ({lr_max:.5f})")

# %% nbgrader={"grade": true, "grade_id": "ch01_max_stable_lr_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""max_stable_lr on hidden inputs (D = 3 and 5, random, and X = (20, 70)): value, one number."""
import numbers

import numpy as np

from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(1006)
for i_h, X_h in enumerate(
    (rng_h.normal(size=3), rng_h.normal(scale=3.0, size=5), np.array([20.0, 70.0]))
):
    lr_max_h = record(
        f"lr_max_{i_h}", max_stable_lr(X_h), tol=1e-10, about=f"max_stable_lr for D = {len(X_h)}"
    )
    record(
        f"lr_max_is_real_{i_h}",
        isinstance(lr_max_h, (numbers.Real, np.ndarray)) and np.ndim(lr_max_h) == 0,
        about=f"max_stable_lr returns one number (D = {len(X_h)})",
    )
### END HIDDEN TESTS

# %% [markdown]
# ### Cost curves for several learning rates
#
# Run the cell: it trains the toy for 40 epochs with $\eta = 0.01$ ($\rho = 0.46$),
# $0.03$ ($\rho = -0.62$), just below and just above $\eta_{\max}$, and $0.1$.
# The curves are straight lines on a log scale, with slope $2\log_{10}\lvert\rho\rvert$ per
# step, as eq. (9) predicts. The curve for $\eta = 0.01$ is still straight where the plot
# ends, at $C_{40} = 50\cdot0.46^{80} \approx 5\cdot10^{-26}$. A few epochs later $z$ would come
# within float64's rounding of $y$, a cost of order $10^{-30}$, and the curve would stop
# falling (or drop to exactly 0, which a log scale cannot draw): a floor set by the
# rounding of float64, not a property of GD.

# %%
lr_max_toy = max_stable_lr(X_toy)
fig, ax = plt.subplots(figsize=(7.5, 4.2))
for lr in (0.01, 0.03, 0.95 * lr_max_toy, 1.05 * lr_max_toy, 0.1):
    rho = 1 - lr * (X_toy @ X_toy + 1)
    history = train(X_toy, y_toy, W_start, b_start, lr, 40)
    ax.semilogy(history["cost"], "o-", ms=3, label=f"lr = {lr:.4f}   (rho = {rho:+.2f})")
ax.set(
    xlabel="epoch n",
    ylabel="cost $C_n$",
    ylim=(1e-32, 1e12),
    title=f"GD on (2, 7) -> 11: the threshold is lr = 2/54 = {lr_max_toy:.4f}",
)
ax.legend(fontsize=8)
show_figure(
    fig,
    "The cost per epoch on a log scale for five learning rates: straight lines that fall "
    f"below the threshold lr = {lr_max_toy:.4f} and rise above it, steeper the further lr is from it.",
)

# %% [markdown]
# ### Exercise 7 (explain): why does $\eta = 0.1$ diverge?
#
# In three to six sentences, using the equations above: (a) explain what happens
# to the error $z_n - y$ when $\eta = 0.1$ on the toy, and why; (b) say what the
# largest stable learning rate depends on and what it does **not** depend on;
# (c) predict it for the input $(20, 70) \to 110$ and say what this means for
# data whose inputs are large numbers.

# %% [markdown] nbgrader={"grade": true, "grade_id": "ch01_explain_divergence", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Model answer.** (a) By eq. (8) each update multiplies the error by
# $\rho = 1 - \eta(\lVert X\rVert^2 + 1) = 1 - 0.1 \cdot 54 = -4.4$. Since
# $\lvert\rho\rvert > 1$ the error grows by a factor 4.4 per step and flips sign:
# each step overshoots the target by more than it was off before (the cost
# grows by $4.4^2 \approx 19$ per step). (b) The threshold
# $\eta_{\max} = 2/(\lVert X\rVert^2 + 1)$ depends only on the inputs (the
# curvature, i.e. the Hessian's eigenvalue $\lambda$, eq. (12)), including the
# $+1$ of the bias; it does not depend on the target $y$ or on the starting
# $W, b$, which only set $e_0$. (c) For $(20, 70)$: $\lambda = 400 + 4900 + 1 = 5301$,
# $\eta_{\max} = 2/5301 \approx 3.8\cdot10^{-4}$, about 100 times smaller: scaling the inputs
# by 10 divides the stable learning rate by about 100, so large raw inputs force
# tiny learning rates (or need normalising).
#
# **Rubric (2 points).**
# - 1 point: the error is multiplied by $\rho = 1 - \eta\lambda = -4.4$ each step,
#   $\lvert\rho\rvert > 1$ so it grows (oscillating sign). Mentioning only "the
#   steps are too big" without the factor: ½ point.
# - ½ point: the threshold is $2/(\lVert X\rVert^2 + 1)$ and depends on the inputs (curvature /
#   Hessian eigenvalue), not on $y$ or the start.
# - ½ point: $(20, 70)$ gives $2/5301 \approx 3.8\cdot10^{-4}$, with the conclusion that large
#   inputs need a smaller learning rate or input scaling. Accept $2/5300$ with a ¼ point deduction for the forgotten bias term.

# %% [markdown]
# ## 6. Momentum
#
# Plain gradient descent forgets everything but the current gradient. **Momentum**
# (the "heavy ball" method) keeps a velocity $v$ that accumulates past
# gradients, with a decay factor $\mu \in [0, 1)$. For every parameter vector
# $\theta$ (here $W$ and $b$, each with its own velocity, both starting at 0):
#
# $$ v_{n+1} = \mu\, v_n - \eta\, \nabla C(\theta_n), \qquad \theta_{n+1} = \theta_n + v_{n+1}. \tag{13} $$
#
# With $\mu = 0$ this is plain gradient descent (7). When successive gradients
# point the same way, the steps grow up to $\eta/(1-\mu)$ times the gradient;
# when they alternate, they partly cancel. The minus sign matters: with $+\eta\nabla C$ the
# velocity points up the gradient and the update climbs the cost (as the source prints
# it; see the errata at the end of this section). An equivalent form, PyTorch's,
# accumulates the gradient and subtracts: $v \leftarrow \mu v + \nabla C$, $\theta \leftarrow \theta - \eta v$.
#
# **Momentum on the toy.** Let $u_n = X\cdot v^W_n + v^b_n$ be the velocity of
# $z$. From (13) and (6), $z_{n+1} = z_n + u_{n+1}$ and
# $u_{n+1} = \mu u_n - \eta\lambda e_n$. Eliminating $u$:
#
# $$ e_{n+1} = (1 + \mu - \eta\lambda)\, e_n - \mu\, e_{n-1}. \tag{14} $$
#
# Its characteristic roots solve $r^2 - (1 + \mu - \eta\lambda) r + \mu = 0$; the
# error decays like $\lvert r\rvert^n$ with the larger root. The iteration is
# stable for $0 < \eta\lambda < 2(1 + \mu)$ — momentum also widens the stable
# range — and fastest when the two roots coincide, where $\lvert r\rvert = \sqrt{\mu}$.
# Too much momentum gives complex roots with $\lvert r\rvert = \sqrt{\mu}$ close to 1:
# slow, oscillating convergence. On a single example the cost is a "valley"
# with one curved direction, so momentum can only help when $\eta$ is small; on
# real problems with many directions of different curvature it helps far more
# (chapter 03).
#
# ### Exercise 8 (implement): one momentum step


# %% nbgrader={"grade": false, "grade_id": "ch01_momentum_step", "locked": false, "schema_version": 3, "solution": true, "task": false}
def momentum_step(W, b, vW, vb, dW, db, lr, mu):
    """One gradient-descent-with-momentum update, eq. (13), without modifying inputs.

    W, vW, dW: shape (D,). b, vb, db: floats. lr: learning rate. mu: momentum in [0, 1).
    v_new = mu v - lr grad; param_new = param + v_new.
    Returns (W_new, b_new, vW_new, vb_new).
    """
    ### BEGIN SOLUTION
    vW_new = mu * vW - lr * dW
    vb_new = mu * vb - lr * db
    return W + vW_new, b + vb_new, vW_new, vb_new
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch01_momentum_step_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""momentum_step from W = 0, b = 1 with velocity vW = (0.1, -0.2), vb = 0.05, mu = 0.9, lr = 0.01 on the toy gradient."""
import numpy as np

from backproplab.grading import check

out_m = momentum_step(
    np.zeros(2), 1.0, np.array([0.1, -0.2]), 0.05, np.array([-20.0, -70.0]), -10.0, 0.01, 0.9
)
check(
    "returns_4_values",
    isinstance(out_m, (tuple, list)) and len(out_m) == 4,
    True,
    "momentum_step returns (W_new, b_new, vW_new, vb_new)",
)
W_m, b_m, vW_m, vb_m = out_m
check("vW_new", vW_m, [0.29, 0.52], "the new vW = mu vW - lr dW")
check("vb_new", vb_m, 0.145, "the new vb = mu vb - lr db")
check("W_new", W_m, [0.29, 0.52], "the new W = W + vW_new")
check("b_new", b_m, 1.145, "the new b = b + vb_new")
print("momentum_step: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch01_momentum_step_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""momentum_step on hidden inputs (D = 3 and 5, other lr and mu): values, shapes, one-number b and vb, inputs unchanged."""
import builtins
import numbers

import numpy as np

from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(1008)
for D_h, lr_h, mu_h in ((3, 0.02, 0.5), (5, 0.004, 0.95)):
    W_h, vW_h, dW_h = (rng_h.normal(size=D_h), rng_h.normal(size=D_h), rng_h.normal(size=D_h))
    b_h, vb_h, db_h = (builtins.float(v) for v in rng_h.normal(size=3))
    out_h = momentum_step(W_h, b_h, vW_h, vb_h, dW_h, db_h, lr_h, mu_h)
    label_h = f"(D = {D_h}, lr = {lr_h}, mu = {mu_h})"
    four_h = isinstance(out_h, (tuple, list)) and len(out_h) == 4
    record(
        f"returns_4_values_D{D_h}",
        four_h,
        about=f"momentum_step returns (W_new, b_new, vW_new, vb_new) {label_h}",
    )
    for name_h, arr_h in (("W", W_h), ("vW", vW_h), ("dW", dW_h)):
        record(
            f"{name_h}_after_D{D_h}",
            arr_h,
            about=f"{name_h} after momentum_step {label_h}: it must not be modified",
        )
    W_new_h, b_new_h, vW_new_h, vb_new_h = out_h if four_h else (None,) * 4
    for name_h, new_h in (
        ("vW_new", vW_new_h),
        ("vb_new", vb_new_h),
        ("W_new", W_new_h),
        ("b_new", b_new_h),
    ):
        record(f"{name_h}_D{D_h}", new_h, tol=1e-12, about=f"the new {name_h[:-4]} {label_h}")
    for name_h, new_h in (("b_new", b_new_h), ("vb_new", vb_new_h)):
        record(
            f"{name_h}_is_real_D{D_h}",
            isinstance(new_h, (numbers.Real, np.ndarray)) and np.ndim(new_h) == 0,
            about=f"the new {name_h[:-4]} is one number {label_h}",
        )
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 9 (implement): training with momentum
#
# Same history as `train`, with the updates of eq. (13); both velocities start
# at zero. With `mu = 0` it must give exactly what `train` gives.


# %% nbgrader={"grade": false, "grade_id": "ch01_train_momentum", "locked": false, "schema_version": 3, "solution": true, "task": false}
def train_momentum(X, y, W, b, lr, mu, num_epochs):
    """Gradient descent with momentum, eq. (13), for num_epochs updates.

    X: inputs, shape (D,). y: target. W: start weights, shape (D,) (not modified).
    b: start bias. lr: learning rate. mu: momentum. Velocities start at 0.
    Returns the history dict of `train`: "W" (num_epochs + 1, D), "b", "z",
    "cost" (num_epochs + 1,), row 0 = the start.
    """
    ### BEGIN SOLUTION
    W, b = np.array(W, dtype=float), float(b)
    vW, vb = np.zeros_like(W), 0.0
    history = {"W": [], "b": [], "z": [], "cost": []}
    for _ in range(num_epochs + 1):
        z = forward(X, W, b)
        for key, value in (("W", W), ("b", b), ("z", z), ("cost", cost(z, y))):
            history[key].append(value)
        dW, db = gradients(X, y, W, b)
        W, b, vW, vb = momentum_step(W, b, vW, vb, dW, db, lr, mu)
    return {key: np.array(rows) for key, rows in history.items()}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch01_train_momentum_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""train_momentum on the toy (lr = 0.01, 15 epochs): shapes, row 0, row 15 for mu = 0.5, and mu = 0 gives plain GD."""
import builtins

import numpy as np

from backproplab.grading import check

history_m = train_momentum(np.array([2.0, 7.0]), 11.0, np.zeros(2), 1.0, 0.01, 0.5, 15)
keys_m = ("W", "b", "z", "cost")
check(
    "history_mu05_shapes",
    {key: np.shape(history_m.get(key)) for key in keys_m},
    {"W": (16, 2), "b": (16,), "z": (16,), "cost": (16,)},
    'the shapes of history["W"], ["b"], ["z"], ["cost"]',
    hint="One row for the start plus one per update",
)
check(
    "history_mu05_are_arrays",
    builtins.all(isinstance(history_m[key], np.ndarray) for key in keys_m),
    True,
    "every entry of the history is a NumPy array",
    hint="Return np.array(rows), not the list of rows",
)
check("history_mu05_W0", history_m["W"][0], [0.0, 0.0], 'history["W"][0] (the start)')
check("history_mu05_b0", history_m["b"][0], 1.0, 'history["b"][0] (the start)')
check(
    "history_mu05_W15",
    history_m["W"][15],
    [0.3683484259, 1.2892194905],
    'history["W"][15] with mu = 0.5',
    tol=1e-8,
)
check(
    "history_mu05_z15",
    history_m["z"][15],
    10.9454074982,
    'history["z"][15] with mu = 0.5',
    tol=1e-8,
)
history_0 = train_momentum(np.array([2.0, 7.0]), 11.0, np.zeros(2), 1.0, 0.01, 0.0, 15)
check(
    "history_mu0_W15",
    history_0["W"][15],
    [0.3703671344, 1.2962849704],
    'history["W"][15] with mu = 0 (plain GD)',
    tol=1e-8,
)
print("train_momentum: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch01_train_momentum_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""train_momentum on hidden problems (D = 3 and 5, other lr and mu): every row of the history, W unchanged."""
import builtins

import numpy as np

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(1009)
for D_h, lr_h, mu_h, n_h in ((3, 0.03, 0.7, 9), (5, 0.01, 0.9, 20)):
    X_h, W_h = (rng_h.normal(size=D_h), rng_h.normal(size=D_h))
    b_h, y_h = (builtins.float(rng_h.normal()), builtins.float(rng_h.normal(scale=3.0)))
    hist_h = train_momentum(X_h, y_h, W_h, b_h, lr_h, mu_h, n_h)
    record_history(hist_h, W_h, f"D{D_h}", f"(D = {D_h}, lr = {lr_h}, mu = {mu_h}, {n_h} epochs)")
### END HIDDEN TESTS

# %% [markdown]
# ### Momentum against plain gradient descent
#
# With a small learning rate, $\eta = 0.001$, plain GD has $\rho = 1 - 0.054 = 0.946$
# and crawls. Momentum $\mu = 0.6$ is close to the double root of (14)
# ($\lvert r\rvert \approx 0.77$); $\mu = 0.9$ overshoots and oscillates
# ($\lvert r\rvert = \sqrt{0.9} \approx 0.95$). The last curve is the source's
# eq. (37) as printed: it equals our `train_momentum` with $\eta$ replaced by $-\eta$.

# %%
lr_slow, epochs_slow = 0.001, 60
fig, ax = plt.subplots(figsize=(7.5, 4.2))
history_gd = train(X_toy, y_toy, W_start, b_start, lr_slow, epochs_slow)
ax.semilogy(history_gd["cost"], "k-", lw=2.5, label="plain GD (train)")
for mu in (0.0, 0.6, 0.9):
    history = train_momentum(X_toy, y_toy, W_start, b_start, lr_slow, mu, epochs_slow)
    ax.semilogy(history["cost"], "o-", ms=3, label=f"momentum, mu = {mu}")
history_source = train_momentum(X_toy, y_toy, W_start, b_start, -lr_slow, 0.9, epochs_slow)
ax.semilogy(history_source["cost"], "r--", label="source eq. (37) as printed, mu = 0.9")
ax.set(
    xlabel="epoch n",
    ylabel="cost $C_n$",
    ylim=(1e-14, 1e6),
    title=f"lr = {lr_slow}: momentum vs plain GD",
)
ax.legend(fontsize=8)
show_figure(
    fig,
    f"The cost per epoch on a log scale with lr = {lr_slow}: plain GD and momentum 0 fall slowly on "
    "the same line, momentum 0.6 falls fastest, momentum 0.9 oscillates, and the source's eq. (37) "
    "as printed diverges.",
)
print(
    "mu = 0 reproduces plain GD:",
    np.allclose(
        history_gd["W"],
        train_momentum(X_toy, y_toy, W_start, b_start, lr_slow, 0.0, epochs_slow)["W"],
    ),
)
print(
    "eq. (37) as printed, cost after 0..5 steps:",
    train_momentum(X_toy, y_toy, W_start, b_start, -0.01, 0.9, 5)["cost"].round(1),
)

# %% [markdown]
# <details><summary>Errata: the sign of the momentum rule (Kara, sec. 4.1, eq. 37)</summary>
#
# The source writes $v^{(n)} = \mu v^{(n-1)} + \eta \nabla C$ and $w^{(n)} = w^{(n-1)} + v^{(n)}$.
# With these signs $v$ points **up** the gradient and adding it to $w$ climbs the
# cost: it is gradient *ascent*. (With $\mu = 0$ it reads $w^{(n)} = w^{(n-1)} + \eta\nabla C$.)
# Either the gradient term needs a minus sign, as in (13), or the update must
# subtract: $w^{(n)} = w^{(n-1)} - v^{(n)}$ (the form PyTorch uses, with $\eta$ applied
# outside: $v \leftarrow \mu v + \nabla C$, $w \leftarrow w - \eta v$). The last curve of the
# plot above is eq. (37) as printed.
#
# </details>
#
# ## 7. Explore
#
# The panel below runs **your** `train_momentum` every time you move a slider
# (learning rate, epochs, momentum $\mu$, start point). The left plot is the
# cost per step; the right plot is the path of $W$ in the $(w_1, w_2)$ plane over
# contour lines of the cost at the starting $b$ (the straight valley is where
# $2w_1 + 7w_2 + b = 11$). If it says "Implement train_momentum above first",
# do Exercise 9, run its cell, then move a slider: the panel always calls your latest
# `train_momentum`. The learning rate slider is on a log scale; for an exact value,
# click its number and type it. (The panel needs a live kernel: it does not redraw in
# a saved notebook.)

# %%
explorer = optimisation_explorer(
    train_momentum, X_toy, y_toy, W_start, b_start, lr=0.001, num_epochs=15, mu=0.0
)
explorer

# %% [markdown]
# ### Exercise 10 (explore + explain)
#
# Use the panel. (a) Whatever the learning rate, momentum and start point, the
# path of $W$ is a straight line. Along which direction, and why (use eq. (6))?
# (b) With $\eta = 0.001$ and 15 epochs, plain GD ($\mu = 0$) ends at a cost of
# about 9.5. Find a momentum $\mu$ that brings the cost after 15 epochs below
# 0.1, report it with the cost you get, and describe what happens at
# $\mu = 0.95$ and why (use eq. (14)).

# %% [markdown] nbgrader={"grade": true, "grade_id": "ch01_explain_explore", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Model answer.** (a) Every gradient $dW = (z - y)X$ is a multiple of $X = (2, 7)$,
# so every step, and with momentum every velocity (a sum of past gradients), is a
# multiple of $X$: $W_n = W_0 + s_n (2, 7)$, a line through the start with slope
# $7/2$, perpendicular to the contour lines. (b) Any $\mu$ from about 0.63 to 0.70
# works: $\mu = 0.65$ gives $0.023$, $\mu = 0.67$ almost 0, $\mu = 0.70$ gives $0.078$
# (while $\mu = 0.6$ gives $0.28$ and $\mu = 0.8$ gives $1.9$). At
# $\mu = 0.95$ the cost after 15 epochs is about 20, worse than plain GD: the
# roots of (14) are complex with $\lvert r\rvert = \sqrt{0.95} \approx 0.975$, so the
# error oscillates around the target (the path overshoots back and forth
# along the line) and decays very slowly.
#
# **Rubric (2 points).**
# - 1 point: the direction is $X = (2, 7)$ (slope 3.5), because each gradient and
#   hence each velocity is proportional to $X$. Direction without the reason: ½.
# - ½ point: a $\mu$ in about $[0.63, 0.70]$ with a cost below 0.1 (values from the panel
#   within rounding).
# - ½ point: $\mu = 0.95$ oscillates / overshoots and converges slowly (or is worse than
#   GD after 15 steps), explained by too much momentum ($\lvert r\rvert = \sqrt{\mu}$ near 1).

# %% [markdown]
# ## Summary
#
# - A linear model $z = X\cdot W + b$ with cost $C = \tfrac12(y - z)^2$ has the
#   gradient $dW = (z - y)X$, $db = z - y$: "error times input", by the chain rule (eqs. 3–6).
# - Gradient descent multiplies the error by $\rho = 1 - \eta(\lVert X\rVert^2 + 1)$ at
#   every step (eq. 8); on the toy, 15 steps with $\eta = 0.01$ leave
#   $\lvert z - y\rvert = 10\cdot0.46^{15} = 8.7\cdot10^{-5}$ and
#   $W = (0.370367, 1.296285)$, $b = 1.185184$ — not the numbers the source prints.
# - It converges iff $0 < \eta < 2/\lambda_{\max}$, where $\lambda_{\max} = \lVert X\rVert^2 + 1$
#   is the Hessian's eigenvalue (eqs. 11–12). The threshold is set by the
#   inputs: large inputs need small learning rates.
# - Momentum, $v \leftarrow \mu v - \eta\nabla C$, $\theta \leftarrow \theta + v$ (eq. 13; the
#   source's eq. (37) has the wrong sign), speeds up slow descent but
#   oscillates when $\mu$ is too large (eq. 14).
#
# ## Next: chapter 02, backpropagation
#
# Here the gradient took one line, because $z$ depends on the parameters
# directly. In a network with hidden layers, $z^l = W^l a^{l-1} + b^l$ and
# $a^l = \psi(z^l)$ are stacked many times (source, sec. 1.2.2), and the cost
# depends on the first layer's weights through every later layer. Chapter 02
# applies the same chain rule (3)–(5) layer by layer, backwards from the cost —
# **backpropagation** — to get all the gradients in one sweep, and checks them
# against numerical gradients. The update rules of this chapter, `gd_step` and
# `momentum_step`, then train those networks unchanged.
#
# ## References
#
# The text this chapter is built from, cited by author and section:
#
# - **Kara** — E. Kara, *Mathematical Foundations of Deep Learning: A Brief Overview with
#   Application to Image Classification Problem*, report, Texas Tech University, Mathematics
#   and Statistics (undated).
