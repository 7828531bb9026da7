# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 02 — Backpropagation: where the gradients of a layered network come from
#
# In chapter 01 the gradient of the cost took one line, because the output
# depended on the parameters directly. In a network, the cost depends on the
# first layer's weights through every later layer. **Backpropagation** applies
# the chain rule of chapter 01 (its eqs. 3–5) backwards through the layers and
# gets *all* the gradients in one sweep, at about the cost of one forward pass.
#
# We start with tiny "circuits" whose gradients you can check by hand, derive
# the backpropagation equations for a layered network, write each layer and
# each loss as a pair of functions `*_forward` / `*_backward` working on whole
# mini-batches, verify every one against a numerical gradient, assemble them
# into a multilayer network, and train it with mini-batch SGD on real
# handwritten digits until it classifies more than 95 % of the test images
# correctly.
#
# **Sources.** Kara's report *Mathematical Foundations of Deep Learning*, sec. 1.2.2:
# eqs. (6)–(27) and Algorithm 2; von Hacht's MSc thesis (Chalmers, 2017), sec.
# 2.1–2.3.1, 3.3, 3.6 and appendices A.1–A.2 (softmax and negative log-likelihood, the
# gradient check); Lohiya's CS231n-based report *Deep Learning and Computer Vision*
# (2019), sec. 3–7 (linear classifier, bias trick, SVM and softmax losses, the circuit
# $f = (x + y)z$). Full references are at the end of the chapter. We recompute
# everything we take from them. The text states the correct results; what a source gets
# wrong is in a folded **Errata** note at the end of the section (click it to open), and
# so are notes on its omissions and ambiguities.
#
# ## Learning goals
#
# After this chapter you can
#
# - run a forward and a backward pass through a small expression graph by hand,
#   including a variable that is used twice;
# - derive $\delta^L$, the recursion $\delta^l = (W^{l+1})^T\delta^{l+1}\odot\psi'(z^l)$
#   and $\partial C/\partial W^l$, $\partial C/\partial b^l$, and check them in SymPy;
# - implement affine, ReLU, sigmoid and tanh layers and the MSE, binary cross
#   entropy, softmax and SVM losses, batched, with the right shapes, and stable
#   for large inputs;
# - check any gradient against centred differences, say why that needs float64,
#   and read a relative error;
# - train a multilayer network with mini-batch SGD to above 95 % test accuracy on
#   8x8 digits, and read its loss and accuracy curves and confusion matrix.
#
# **Time:** about 3–4 hours of reading, deriving and coding. The whole notebook
# runs in well under a minute on a laptop CPU; no GPU is needed.
#
# **How to work:** fill in every cell that says `# YOUR CODE HERE`, then run the
# test cell below it. The visible tests check shapes and one small case you can
# verify by hand; hidden tests check other shapes, batch sizes 1 and 17, and
# compare your gradients with numerical gradients when your notebook is graded.

# %% nbgrader={"grade": false, "grade_id": "ch02_setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import builtins
import numbers
import os
import time

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp

from backproplab.datasets import load_digits_split
from backproplab.gradcheck import numerical_gradient, rel_error
from backproplab.grading import check, record
from backproplab.plotting import show_figure
from backproplab.weights_viewer import weights_viewer

np.set_printoptions(precision=6, suppress=True)
# The test cells below use the names imported and defined here: do not rebind them.


def sympy_values(expr, point):
    """The values of a SymPy expression or Matrix at ``point`` ({symbol name: number}), as a float array;
    None when ``expr`` is no SymPy expression or Matrix, or uses symbols that ``point`` does not name."""
    try:
        expr = sp.sympify(expr)
        value = expr.subs({s: point[s.name] for s in expr.free_symbols if s.name in point})
        if value.free_symbols:
            return None
        return np.array(value.evalf(), dtype=float)
    except (sp.SympifyError, TypeError, ValueError, AttributeError):
        return None


# %% [markdown]
# ## 1. Circuits: the chain rule, one gate at a time
#
# Lohiya (sec. 6) starts from the smallest interesting expression,
#
# $$ f(x, y, z) = (x + y)\,z , \tag{1} $$
#
# and breaks it into two **gates**: an add gate $q = x + y$ and a multiply gate
# $f = q z$. Each gate knows its *local* derivatives,
#
# $$ \frac{\partial f}{\partial q} = z,\quad \frac{\partial f}{\partial z} = q,\qquad
#    \frac{\partial q}{\partial x} = 1,\quad \frac{\partial q}{\partial y} = 1, \tag{2} $$
#
# and the chain rule multiplies them along the path from the output back to each
# input: $\partial f/\partial x = (\partial f/\partial q)(\partial q/\partial x) = z$.
#
# The **forward pass** computes the values from the inputs to the output. The
# **backward pass** starts at the output with an *upstream gradient*
# $\bar f := \partial L/\partial f$ (1 if $f$ is the final output $L$ itself) and
# sends gradients back: every gate multiplies the gradient arriving at its
# output by its local derivatives and passes the products to its inputs. Two
# rules of thumb follow from (2):
#
# - an **add gate distributes** the upstream gradient unchanged to all its inputs;
# - a **multiply gate swaps**: each input gets the upstream gradient times the
#   *other* input.
#
# **Worked example** (the numbers of the CS231n notes that Lohiya follows; its
# figure is missing from our copy, so we recompute them): $x = -2$, $y = 5$,
# $z = -4$. Forward: $q = 3$, $f = -12$. Backward with $\bar f = 1$:
# $\bar z = \bar f\, q = 3$, $\bar q = \bar f\, z = -4$, then $\bar x = \bar y = \bar q = -4$.
# Check: $f = xz + yz$, so $\partial f/\partial x = z = -4$ ✓.
#
# The intermediate gradient $\bar q$ is not an answer we report, but the backward pass
# cannot do without it: it is the upstream gradient the add gate needs. Every
# intermediate gradient is computed once and reused — that is what makes
# backpropagation cheap.
#
# ### Exercise 1 (implement): the circuit $f = (x + y)z$
#
# Compute the forward pass and the backward pass *gate by gate* (not from a
# formula for the whole of $f$). With an upstream gradient `dout` $= \bar f$ the
# gradients are $\bar x = \bar f\,\partial f/\partial x$, and so on. It must also
# work elementwise on NumPy arrays of one shape.


# %% nbgrader={"grade": false, "grade_id": "ch02_add_mul_circuit", "locked": false, "schema_version": 3, "solution": true, "task": false}
def add_mul_circuit(x, y, z, dout=1.0):
    """Forward and backward pass through f = (x + y) z, eqs. (1)-(2).

    x, y, z: numbers, or arrays of one shape (everything elementwise).
    dout: the upstream gradient dL/df (1.0 when f is the output itself).
    Returns (f, dx, dy, dz) with dx = dout * df/dx, dy = dout * df/dy, dz = dout * df/dz.
    """
    ### BEGIN SOLUTION
    q = x + y  # forward: the add gate
    f = q * z  # the multiply gate
    dq = dout * z  # multiply gate: the upstream gradient times the other input
    dz = dout * q
    dx = dq * 1.0  # add gate: hands the gradient on unchanged
    dy = dq * 1.0
    return f, dx, dy, dz
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch02_add_mul_circuit_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""add_mul_circuit at x = -2, y = 5, z = -4: f = -12 and gradients (-4, -4, 3); with dout = 2 the gradients double."""
from backproplab.grading import check

f, dx, dy, dz = add_mul_circuit(-2.0, 5.0, -4.0)
for name, value, expected in (("f", f, -12.0), ("dx", dx, -4.0), ("dy", dy, -4.0), ("dz", dz, 3.0)):
    check(name, value, expected, f"{name} at (x, y, z) = (-2, 5, -4)")
f2, dx2, dy2, dz2 = add_mul_circuit(-2.0, 5.0, -4.0, dout=2.0)
check(
    "grads_dout2",
    [dx2, dy2, dz2],
    [-8.0, -8.0, 6.0],
    "(dx, dy, dz) with dout = 2",
    hint="Every gradient is the upstream gradient times the local derivative",
)
print("add_mul_circuit: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch02_add_mul_circuit_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""add_mul_circuit on hidden values and on arrays of 17 entries: f and its gradients dx, dy, dz."""
import builtins

import numpy as np

from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(2001)
for shape_h in ((), (17,)):
    x_h, y_h, z_h, g_h = (rng_h.normal(size=shape_h) for _ in builtins.range(4))
    out_h = add_mul_circuit(x_h, y_h, z_h, dout=g_h)
    four_h = isinstance(out_h, (tuple, list)) and len(out_h) == 4
    record(
        f"returns_4_values_{len(shape_h)}",
        four_h,
        about=f"add_mul_circuit returns (f, dx, dy, dz) for shape {shape_h}",
    )
    for name_h, value_h in zip(("f", "dx", "dy", "dz"), out_h if four_h else (None,) * 4):
        record(
            f"{name_h}_{len(shape_h)}", value_h, tol=1e-12, about=f"{name_h} for shape {shape_h}"
        )
### END HIDDEN TESTS

# %% [markdown]
# ### A variable used twice: gradients add
#
# In a network, one activation feeds *every* unit of the next layer. The
# smallest example of such a **fan-out** is a variable that enters an
# expression twice:
#
# $$ f(x, y, z) = (x y + z)\,x, \qquad p = x y,\quad q = p + z,\quad f = q\,x . \tag{3} $$
#
# The multivariable chain rule says: when $x$ reaches $f$ along several paths,
# $\partial f/\partial x$ is the **sum** over the paths. Here $x$ goes straight
# into the last multiply gate (local derivative $q$) and, through $p$, into the
# add gate (local derivative $y$ on the way):
#
# $$ \bar x = \underbrace{\bar f\, q}_{\text{direct path}} + \underbrace{(\bar f\, x)\, y}_{\text{through } p} . \tag{4} $$
#
# At $(x, y, z) = (3, -2, 4)$: forward $p = -6$, $q = -2$, $f = -6$; backward with
# $\bar f = 1$: $\bar q = x = 3$, $\bar z = \bar p = 3$, $\bar y = \bar p\,x = 9$,
# and $\bar x = q + \bar p\, y = -2 - 6 = -8$. Check with $f = x^2 y + x z$:
# $\partial f/\partial x = 2xy + z = -8$ ✓, $\partial f/\partial y = x^2 = 9$ ✓,
# $\partial f/\partial z = x = 3$ ✓. The sum in (4) is the same sum over $k$ that
# we will meet in the backpropagation equation (7).
#
# ### Exercise 2 (implement): the fan-out circuit (3)


# %% nbgrader={"grade": false, "grade_id": "ch02_fanout_circuit", "locked": false, "schema_version": 3, "solution": true, "task": false}
def fanout_circuit(x, y, z, dout=1.0):
    """Forward and backward pass through f = (x y + z) x, eqs. (3)-(4).

    x, y, z: numbers, or arrays of one shape (elementwise). dout: upstream gradient dL/df.
    Returns (f, dx, dy, dz). x is used twice: its gradient is the sum over both paths.
    """
    ### BEGIN SOLUTION
    p = x * y  # forward
    q = p + z
    f = q * x
    dq = dout * x  # the last multiply gate: upstream times the other input
    dx_direct = dout * q  # x's direct path into the last gate
    dp = dq  # the add gate hands dq on to p and z
    dz = dq
    dx_via_p = dp * y  # the first multiply gate
    dy = dp * x
    dx = dx_direct + dx_via_p  # x fans out: the gradients of its paths add
    return f, dx, dy, dz
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch02_fanout_circuit_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""fanout_circuit at (x, y, z) = (3, -2, 4): f = -6 and gradients (-8, 9, 3)."""
from backproplab.grading import check

f, dx, dy, dz = fanout_circuit(3.0, -2.0, 4.0)
check("f", f, -6.0, "f at (3, -2, 4)")
check("dy", dy, 9.0, "dy at (3, -2, 4)")
check("dz", dz, 3.0, "dz at (3, -2, 4)")
check(
    "dx",
    dx,
    -8.0,
    "dx at (3, -2, 4)",
    hint="x reaches f along two paths: add the gradients of both, eq. (4)",
)
print("fanout_circuit: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch02_fanout_circuit_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""fanout_circuit on hidden values and on arrays of 17 entries: f and its gradients dx, dy, dz."""
import builtins

import numpy as np

from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(2002)
for shape_h in ((), (17,)):
    vals_h = [np.array(rng_h.normal(size=shape_h), dtype=builtins.float) for _ in builtins.range(3)]
    g_h = np.array(rng_h.normal(size=shape_h), dtype=builtins.float)
    res_h = fanout_circuit(*vals_h, dout=g_h)
    four_h = isinstance(res_h, (tuple, list)) and len(res_h) == 4
    record(
        f"returns_4_values_ndim{len(shape_h)}",
        four_h,
        about=f"fanout_circuit returns (f, dx, dy, dz) for shape {shape_h}",
    )
    for name_h, value_h in zip(("f", "dx", "dy", "dz"), res_h if four_h else (None,) * 4):
        record(
            f"{name_h}_ndim{len(shape_h)}",
            value_h,
            tol=1e-12,
            about=f"{name_h} for shape {shape_h}",
        )
### END HIDDEN TESTS

# %% [markdown]
# <details><summary>Note on the source: the "not useful" gradient (Lohiya, sec. 6)</summary>
#
# The notes call the gradient on the intermediate value $q$ "not useful": they mean
# that it is not one of the answers we want ($\partial f/\partial x$, $\partial f/\partial y$,
# $\partial f/\partial z$), and they use it in the very next sentence. Read literally it
# misleads: the backward pass cannot do without $\bar q$.
#
# </details>
#
# ## 2. The backpropagation equations
#
# Kara (sec. 1.2.2) writes a fully connected network in *column* notation,
# one example at a time: layer $l$ has $n_l$ units, $a^0$ is the input,
#
# $$ z^l = W^l a^{l-1} + b^l, \qquad a^l = \psi(z^l), \qquad l = 1, \dots, L, \tag{5} $$
#
# with $W^l$ of shape $n_l \times n_{l-1}$ ($w^l_{jk}$ connects unit $k$ of layer
# $l-1$ to unit $j$ of layer $l$) and a cost $C(a^L; y)$. The *error* of unit $j$
# in layer $l$ is $\delta^l_j := \partial C/\partial z^l_j$ (Kara, eq. 10).
#
# **The output layer.** $C$ depends on $z^L_j$ only through $a^L_j = \psi(z^L_j)$, so
#
# $$ \delta^L = \nabla_{a} C \odot \psi'(z^L) \tag{6} $$
#
# (Kara, eqs. 11–12; $\odot$ is the elementwise product).
#
# **The recursion.** $z^l_j$ influences $C$ through *every* $z^{l+1}_k$ (a
# fan-out, as in eq. 4), and $z^{l+1}_k = \sum_j w^{l+1}_{kj}\,\psi(z^l_j) + b^{l+1}_k$
# gives $\partial z^{l+1}_k/\partial z^l_j = w^{l+1}_{kj}\,\psi'(z^l_j)$. Summing over the paths,
#
# $$ \delta^l_j = \sum_k w^{l+1}_{kj}\,\delta^{l+1}_k\,\psi'(z^l_j), \qquad
#    \delta^l = (W^{l+1})^T \delta^{l+1} \odot \psi'(z^l). \tag{7} $$
#
# The sum runs over the **first** index of $w^{l+1}$ — the units that $j$ feeds
# — which is why the matrix form has a transpose.
#
# **The parameters.** $z^l_j$ depends on $b^l_j$ with derivative 1 and on
# $w^l_{jk}$ with derivative $a^{l-1}_k$:
#
# $$ \frac{\partial C}{\partial b^l} = \delta^l, \qquad
#    \frac{\partial C}{\partial w^l_{jk}} = a^{l-1}_k\,\delta^l_j, \quad\text{i.e.}\quad
#    \frac{\partial C}{\partial W^l} = \delta^l\,(a^{l-1})^T . \tag{8} $$
#
# We checked the signs and indices of the printed equations (Kara, eqs.
# 10–16; von Hacht, eqs. 2.9, 2.20–2.22 and A.6–A.20): they agree with (6)–(8).
# Von Hacht writes the same recursion one layer down,
# $\delta^{l-1}_k = \sum_j w^l_{jk}\,\delta^l_j\, f'(z^{l-1}_k)$ (its eq. 2.20).
#
# **In which order?** The recursion (7) uses the weights of the *forward pass*. So a
# training step keeps every $z^l$ (or $a^l$) of the forward pass, since the backward pass
# needs $\psi'(z^l)$, then runs the whole backward pass — every $\delta^l$ — and only then
# updates the parameters. Updating $W^l$ before $\delta^{l-1}$ is computed from it gives a
# $\delta^{l-1}$ that is no longer $\partial C/\partial z^{l-1}$: the first cell below shows it on
# a small network (a relative error of $10^{-1}$ in $\partial C/\partial W^1$, against $2\cdot10^{-10}$
# for backward first). The second checks the formula
# $\tanh x = (1 - e^{-2x})/(1 + e^{-2x}) = 2\sigma(2x) - 1 \in (-1, 1)$. And ReLU, $\max(z, 0)$,
# has the derivative **0 for $z < 0$**: a unit whose $z$ is negative for every input gets no
# gradient at all (a "dead" unit); what ReLU avoids is saturation for $z > 0$. Where the
# sources print these differently, the folds at the end of this section say so.

# %%
# Algorithm 2 of Kara as printed (update W^2, then use it for delta^1) against backward-then-update,
# on a 3-2-2 sigmoid network, column notation (5), C = ||a2 - y||^2 / 2, learning rate 0.5.
rng = np.random.default_rng(1)
a0_num, y_num = rng.normal(size=3), rng.normal(size=2)
W1_num, b1_num, W2_num, b2_num = (
    rng.normal(size=(2, 3)),
    rng.normal(size=2),
    rng.normal(size=(2, 2)),
    rng.normal(size=2),
)


def logistic(v):
    return 1.0 / (1.0 + np.exp(-v))


def cost_of_W1(W):
    return 0.5 * np.sum((logistic(W2_num @ logistic(W @ a0_num + b1_num) + b2_num) - y_num) ** 2)


a1_num = logistic(W1_num @ a0_num + b1_num)
a2_num = logistic(W2_num @ a1_num + b2_num)
delta2_num = (a2_num - y_num) * a2_num * (1 - a2_num)  # eq. (6)
W2_updated = W2_num - 0.5 * np.outer(delta2_num, a1_num)  # Algorithm 2 updates W^2 first ...
# ... then uses it in (7)
dW1_printed = np.outer((W2_updated.T @ delta2_num) * a1_num * (1 - a1_num), a0_num)
# (7) with the forward pass's W^2
dW1_right = np.outer((W2_num.T @ delta2_num) * a1_num * (1 - a1_num), a0_num)
dW1_numeric = numerical_gradient(cost_of_W1, W1_num.copy())
print(
    f"rel. error of dC/dW1 against a numerical gradient: Algorithm 2 as printed {rel_error(dW1_printed, dW1_numeric):.1e}, "
    f"backward first {rel_error(dW1_right, dW1_numeric):.1e}"
)

# %%
xs = np.linspace(-3.0, 3.0, 13)
printed_eq4 = 1.0 / (1.0 + np.exp(-2.0 * xs))  # Kara, eq. (4) as printed
print("max |tanh x - printed eq. (4)|:      ", np.abs(np.tanh(xs) - printed_eq4).max().round(3))
print(
    "max |tanh x - (2 sigma(2x) - 1)|:     ", np.abs(np.tanh(xs) - (2.0 * printed_eq4 - 1.0)).max()
)

# %% [markdown]
# ### Exercise 3 (derive): backpropagation in SymPy
#
# The cell below builds a network with 2 inputs, 2 tanh hidden units and 2
# sigmoid outputs, in Kara's column notation (5), with the squared-error
# cost of one example (Kara, eq. 19 with $N_p = 1$):
#
# $$ a^1 = \tanh(W^1 a^0 + b^1), \qquad a^2 = \sigma(W^2 a^1 + b^2), \qquad
#    C = \tfrac12 \lVert a^2 - t \rVert^2 , $$
#
# where $t$ is the target. Using eqs. (6)–(8) — **not** `sp.diff` — define the
# SymPy matrices `delta2` $=\delta^2$ (2×1), `delta1` $=\delta^1$ (2×1),
# `dC_dW2`, `dC_db2`, `dC_dW1` and `dC_db1` (each with the shape of its
# parameter). Useful: $\sigma'(z) = \sigma(z)(1 - \sigma(z))$,
# $\tanh'(z) = 1 - \tanh^2(z)$, so both derivatives can be written with `a2` and
# `a1`; `A.multiply_elementwise(B)` is $A \odot B$; `A.T` transposes; `*` is the
# matrix product. The tests compare your matrices with `sp.diff(C, ...)` at random points.

# %% nbgrader={"grade": false, "grade_id": "ch02_symbols", "locked": true, "schema_version": 3, "solution": false, "task": false}
x1, x2, t1, t2 = sp.symbols("x1 x2 t1 t2", real=True)
a0 = sp.Matrix([x1, x2])  # the input, a column
t = sp.Matrix([t1, t2])  # the target
W1 = sp.Matrix(2, 2, sp.symbols("w1_11 w1_12 w1_21 w1_22", real=True))
b1 = sp.Matrix(sp.symbols("b1_1 b1_2", real=True))
W2 = sp.Matrix(2, 2, sp.symbols("w2_11 w2_12 w2_21 w2_22", real=True))
b2 = sp.Matrix(sp.symbols("b2_1 b2_2", real=True))


def sigma(s):
    """The logistic sigmoid, Kara, eq. (3)."""
    return 1 / (1 + sp.exp(-s))


z1 = W1 * a0 + b1  # eq. (5), layer 1
a1 = z1.applyfunc(sp.tanh)
z2 = W2 * a1 + b2  # layer 2, the output layer (L = 2)
a2 = z2.applyfunc(sigma)
C = ((a2 - t).T * (a2 - t))[0, 0] / 2
print("parameters:", W1.shape, b1.shape, W2.shape, b2.shape)

# %% nbgrader={"grade": false, "grade_id": "ch02_derive_deltas", "locked": false, "schema_version": 3, "solution": true, "task": false}
# Define delta2, delta1, dC_dW2, dC_db2, dC_dW1, dC_db1 as SymPy matrices, by eqs. (6)-(8).
### BEGIN SOLUTION
sigma_prime2 = a2.applyfunc(lambda s: s * (1 - s))  # sigma'(z2) = sigma(z2) (1 - sigma(z2))
delta2 = (a2 - t).multiply_elementwise(sigma_prime2)  # eq. (6): grad_a C = a2 - t
tanh_prime1 = a1.applyfunc(lambda s: 1 - s**2)  # tanh'(z1) = 1 - tanh(z1)^2
delta1 = (W2.T * delta2).multiply_elementwise(tanh_prime1)  # eq. (7)
dC_db2 = delta2  # eq. (8)
dC_dW2 = delta2 * a1.T  # entry (j, k) = delta2_j a1_k
dC_db1 = delta1
dC_dW1 = delta1 * a0.T
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ch02_derive_deltas_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""All six answers equal the derivatives of C (compared at one point with sp.diff, symbols matched by name)."""
import sympy as sp

from backproplab.grading import check

point = {
    "x1": 0.5,
    "x2": -1.0,
    "t1": 1.0,
    "t2": 0.0,
    "w1_11": 0.3,
    "w1_12": -0.7,
    "w1_21": 0.8,
    "w1_22": 0.2,
    "b1_1": 0.1,
    "b1_2": -0.4,
    "w2_11": -0.6,
    "w2_12": 0.9,
    "w2_21": 0.4,
    "w2_22": -0.3,
    "b2_1": 0.05,
    "b2_2": 0.2,
}
# dz/db = 1, so delta2 = dC/db2 and delta1 = dC/db1; each dC/dW entry by sp.diff
delta2_ref = sp.Matrix([sp.diff(C, s) for s in b2])
delta1_ref = sp.Matrix([sp.diff(C, s) for s in b1])
d_refs = {
    "delta2": (
        delta2,
        delta2_ref,
        "a 2x1 SymPy Matrix; eq. (6): grad_a C times sigma'(z2), elementwise",
    ),
    "delta1": (
        delta1,
        delta1_ref,
        "eq. (7): W2 transposed times delta2, times tanh'(z1) elementwise",
    ),
    "dC_dW2": (
        dC_dW2,
        sp.Matrix(2, 2, lambda i, j: sp.diff(C, W2[i, j])),
        "it has the shape of W2 (2x2); eq. (8): entry (j, k) is delta2_j times a1_k",
    ),
    "dC_db2": (dC_db2, delta2_ref, "it has the shape of b2 (2x1); eq. (8): it is delta2"),
    "dC_dW1": (
        dC_dW1,
        sp.Matrix(2, 2, lambda i, j: sp.diff(C, W1[i, j])),
        "it has the shape of W1 (2x2); eq. (8): entry (j, k) is delta1_j times a0_k",
    ),
    "dC_db1": (dC_db1, delta1_ref, "it has the shape of b1 (2x1); eq. (8): it is delta1"),
}
for d_name, (d_answer, d_ref, d_hint) in d_refs.items():
    check(
        f"{d_name}_at_point",
        sympy_values(d_answer, point),
        sympy_values(d_ref, point),
        f"{d_name} at the test point",
        hint=d_hint,
    )
print("delta2, delta1 and the four gradients: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch02_derive_deltas_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""All six answers, at three random points, against sp.diff of C (delta1 through the derivatives by b1)."""
import builtins

import numpy as np

from backproplab.grading import record

### BEGIN HIDDEN TESTS
answers_h = {
    "dC_dW1": dC_dW1,
    "dC_db1": dC_db1,
    "dC_dW2": dC_dW2,
    "dC_db2": dC_db2,
    "delta1": delta1,
    "delta2": delta2,
}
rng_h = np.random.default_rng(2003)
names_h = sorted((s_h.name for s_h in C.free_symbols))
for p_h in builtins.range(3):
    point_h = dict(zip(names_h, rng_h.normal(size=len(names_h))))
    for key_h, answer_h in answers_h.items():
        record(
            f"{key_h}_point{p_h}",
            sympy_values(answer_h, point_h),
            tol=1e-09,
            about=f"{key_h} at random point {p_h}",
        )
### END HIDDEN TESTS

# %% [markdown]
# <details><summary>Errata: the order of Algorithm 2 (Kara, Algorithm 2)</summary>
#
# The algorithm updates $W^L$ *before* it computes
# $\delta^{L-1} = (W^L)^T\delta^L \odot \psi'(z^{L-1})$, and in the loop updates each $W^l$
# before $\delta^{l-1}$ uses it. The recursion (7) must use the weights of the *forward
# pass*: with the updated ones, $\delta^{l-1}$ is no longer $\partial C/\partial z^{l-1}$. Compute
# all the $\delta^l$ (the backward pass) first, then update every layer. The forward loop
# must also keep every $z^l$ (or $a^l$): the backward pass needs $\psi'(z^l)$. On a small
# network (the first cell after eq. 8) the printed order gives $\partial C/\partial W^1$ with a
# relative error of $10^{-1}$ against a numerical gradient; backward first gives $2\cdot10^{-10}$.
#
# </details>
#
# <details><summary>Errata: ReLU's derivative and the tanh formula (Kara, sec. 1.2.2, comment 3; eq. 4)</summary>
#
# ReLU is not "always positive with a positive derivative": $\max(z, 0) \ge 0$ and its
# derivative is **0 for $z < 0$**. And eq. (4) prints $\tanh x = 1/(1 + e^{-2x})$, which is
# $\sigma(2x) \in (0, 1)$; the right formula is
# $\tanh x = (1 - e^{-2x})/(1 + e^{-2x}) = 2\sigma(2x) - 1 \in (-1, 1)$ (checked in the second
# cell after eq. 8).
#
# </details>
#
# <details><summary>Errata: the output error (von Hacht, sec. 2.2.1 and A.2)</summary>
#
# Before eq. (2.9) the output error is called $\delta_2 = \partial L/\partial a_2$, but eq. (2.9)
# defines $\delta$ as $\partial L/\partial z$; with (2.9) the output error is
# $\partial L/\partial a \odot f'(z^L)$, our eq. (6). In appendix A.2, eq. (A.19) comes from
# substituting (A.18) into (A.16), not into (A.10).
#
# </details>
#
# ## 3. Layers as objects, batched
#
# A network is a chain of **layers**. Each layer is a pair of functions:
#
# - `layer_forward(inputs...) -> (out, cache)` computes its output and keeps in
#   `cache` what the backward pass will need;
# - `layer_backward(dout, cache) -> gradients` receives the upstream gradient
#   `dout` $=\partial L/\partial\,\text{out}$ (same shape as `out`) and returns
#   the gradient for each input and each parameter, **each with the shape of
#   that input or parameter**.
#
# A layer never needs to know what comes after it: `dout` carries all of that.
# The network's backward pass is the layers' backward passes in reverse order.
#
# ### Our convention: rows are examples, $W$ is $(D, M)$
#
# We process a **mini-batch** of $N$ examples at once, one example per row:
# $X$ has shape $(N, D)$. An affine (fully connected) layer with $D$ inputs and
# $M$ outputs computes
#
# $$ \text{out} = X W + b, \qquad X: (N, D),\; W: (D, M),\; b: (M,),\; \text{out}: (N, M). \tag{9} $$
#
# We store $W$ as $(D, M)$, the transpose of the sources' $W^l$ ($n_l \times n_{l-1}$).
# Why: with rows as examples, (9) is one matrix product for the whole batch with no
# transpose, $b$ broadcasts over the rows, it is chapter 01's $X\cdot W + b$ with a
# batch, and column $W[:, j]$ holds the incoming weights of unit $j$ (an 8x8 image
# for digits, section 9). We keep this everywhere in the course. Names:
# `X, y, W, b, dout, dX, dW, db, lr, num_epochs`.
#
# ### The affine layer's backward pass
#
# Entry by entry, $\text{out}_{nm} = \sum_d X_{nd} W_{dm} + b_m$. The chain rule
# sums over every output that an entry influences:
#
# $$ \frac{\partial L}{\partial X_{nd}} = \sum_m \text{dout}_{nm} W_{dm}, \quad
#    \frac{\partial L}{\partial W_{dm}} = \sum_n X_{nd}\,\text{dout}_{nm}, \quad
#    \frac{\partial L}{\partial b_m} = \sum_n \text{dout}_{nm}, $$
#
# $$ dX = \text{dout}\, W^T \;(N, D), \qquad dW = X^T \text{dout} \;(D, M), \qquad
#    db = \textstyle\sum_{n} \text{dout}_{n,:} \;(M,). \tag{10} $$
#
# A quick way to remember (10): each gradient must have the shape of its variable,
# and there is only one way to multiply `dout` $(N, M)$ with $W$ or $X$ to get it.
# $db$ **sums** over the batch because $b$ was copied to every row; the $1/N$ of a
# batch *mean* belongs to the loss (section 4), never to a layer.
#
# In the sources' notation, one example is one row $x = (a^{l-1})^T$, our $W$ is
# $(W^l)^T$ and `dout` is the row $(\delta^l)^T$. Then $dX = (\delta^l)^T W^l$, whose
# transpose is $(W^l)^T\delta^l$ — the first factor of (7), one layer down;
# $dW = a^{l-1}(\delta^l)^T$ is (8) transposed (as our $W$ is); and $db$ is (8) summed
# over the batch. The factor $\psi'(z^l)$ of (7) is the activation layer's backward pass.
#
# **The bias trick** (Lohiya, sec. 3) appends a constant 1 to every input and
# a row $b$ to $W$, so that $XW + b = [X, 1]\,[W; b]$. It is the same layer: the
# gradient of the extra row is $1^T\text{dout}$, our $db$.
#
# ### Exercise 4 (implement): the affine layer


# %% nbgrader={"grade": false, "grade_id": "ch02_affine", "locked": false, "schema_version": 3, "solution": true, "task": false} provided="layers"
def affine_forward(X, W, b):
    """The affine (fully connected) layer, eq. (9): out = X W + b.

    X: (N, D) inputs, one example per row. W: (D, M) weights. b: (M,) biases.
    Returns (out, cache): out (N, M); cache holds what affine_backward needs.
    """
    ### BEGIN SOLUTION
    out = X @ W + b
    cache = (X, W)
    return out, cache
    ### END SOLUTION


def affine_backward(dout, cache):
    """The affine layer's backward pass, eq. (10).

    dout: (N, M) upstream gradient dL/dout. cache: from affine_forward.
    Returns (dX, dW, db) with the shapes of X (N, D), W (D, M) and b (M,).
    """
    ### BEGIN SOLUTION
    X, W = cache
    dX = dout @ W.T  # (N, M) @ (M, D)
    dW = X.T @ dout  # (D, N) @ (N, M)
    db = dout.sum(axis=0)  # b was broadcast to every row: sum over the batch
    return dX, dW, db
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch02_affine_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""affine_forward/backward on a tiny batch (N = 2, D = 2, M = 3) you can check by hand: values and shapes."""
import numpy as np

from backproplab.grading import check

# Two examples, so that a db averaged over the batch (or a sum over the wrong axis) shows.
X = np.array([[1.0, 2.0], [3.0, -1.0]])
W = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]])
b = np.array([0.5, 0.0, -0.5])
out, cache = affine_forward(X, W, b)
check(
    "out",
    out,
    np.array([[5.5, 2.0, -1.5], [1.5, -1.0, -3.5]]),
    "out = X W + b, shape (N, M) = (2, 3)",
)
dX, dW, db = affine_backward(np.array([[1.0, -1.0, 2.0], [0.0, 2.0, 1.0]]), cache)
check("dX", dX, np.array([[-1.0, 1.0], [-1.0, 2.0]]), "dX = dout W^T, with the shape of X (N, D)")
check(
    "dW",
    dW,
    np.array([[1.0, 5.0, 5.0], [2.0, -4.0, 3.0]]),
    "dW = X^T dout, with the shape of W (D, M)",
)
check(
    "db",
    db,
    [1.0, 1.0, 3.0],
    "db, with the shape of b (M,)",
    hint="sum dout over the batch (axis 0): b was added to every row, and no 1/N belongs here",
)
print("affine: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch02_affine_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""affine_forward/backward for batch sizes 1 and 17 and other shapes: out, dX, dW, db, inputs unchanged."""
import numpy as np

from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(2004)
for N_h, D_h, M_h in ((1, 6, 4), (17, 3, 7), (17, 5, 5)):
    X_h, W_h, b_h = (
        rng_h.normal(size=(N_h, D_h)),
        rng_h.normal(size=(D_h, M_h)),
        rng_h.normal(size=M_h),
    )
    dout_h = rng_h.normal(size=(N_h, M_h))
    out_h, cache_h = affine_forward(X_h, W_h, b_h)
    grads_h = affine_backward(dout_h, cache_h)
    label_h = f"N = {N_h}, D = {D_h}, M = {M_h}"
    record(f"out_{N_h}_{D_h}_{M_h}", out_h, tol=1e-10, about=f"out ({label_h})")
    three_h = isinstance(grads_h, (tuple, list)) and len(grads_h) == 3
    record(
        f"returns_3_values_{N_h}_{D_h}_{M_h}",
        three_h,
        about=f"affine_backward returns (dX, dW, db) ({label_h})",
    )
    for name_h, g_h in zip(("dX", "dW", "db"), grads_h if three_h else (None,) * 3):
        record(f"{name_h}_{N_h}_{D_h}_{M_h}", g_h, tol=1e-10, about=f"{name_h} ({label_h})")
    for name_h, after_h in zip(("X", "W", "b"), (X_h, W_h, b_h)):
        record(
            f"{name_h}_after_{N_h}_{D_h}_{M_h}",
            after_h,
            about=f"{name_h} after the layer ({label_h}): it must not be modified",
        )
### END HIDDEN TESTS

# %% [markdown]
# ### Activation layers
#
# An activation layer applies $\psi$ elementwise, $\text{out} = \psi(x)$, so its
# backward pass is the factor $\psi'(z^l)$ of eqs. (6)–(7), elementwise:
#
# $$ dx = \text{dout} \odot \psi'(x). \tag{11} $$
#
# | layer | $\psi(x)$ | $\psi'(x)$ | keep in `cache` |
# |---|---|---|---|
# | ReLU | $\max(x, 0)$ | $1$ if $x > 0$, else $0$ | $x$ |
# | sigmoid | $\sigma(x) = 1/(1 + e^{-x})$ | $\sigma(x)\,(1 - \sigma(x))$ | $\sigma(x)$ |
# | tanh | $\tanh x$ | $1 - \tanh^2 x$ | $\tanh x$ |
#
# Sigmoid and tanh have derivatives written with their own *output*, so the
# cache holds the output and the backward pass costs one multiplication. At
# $x = 0$ ReLU has a kink; any value in $[0, 1]$ is a valid (sub)gradient there,
# and both `x > 0` and `x >= 0` are accepted.
#
# Careful with $\sigma(x)$ for large $|x|$: `np.exp(-x)` overflows (with a warning)
# for $x < -709$. Since $\sigma(x) = e^{x}/(1 + e^{x})$ as well, use
# $e^{-|x|} \in (0, 1]$: $\sigma(x) = 1/(1 + e^{-|x|})$ for $x \ge 0$ and
# $e^{-|x|}/(1 + e^{-|x|})$ for $x < 0$.
#
# ### Exercise 5 (implement): ReLU


# %% nbgrader={"grade": false, "grade_id": "ch02_relu", "locked": false, "schema_version": 3, "solution": true, "task": false} provided="layers"
def relu_forward(x):
    """ReLU, elementwise: out = max(x, 0).

    x: array of any shape. Returns (out, cache): out has x's shape.
    """
    ### BEGIN SOLUTION
    out = np.maximum(x, 0.0)
    return out, x
    ### END SOLUTION


def relu_backward(dout, cache):
    """ReLU's backward pass, eq. (11): dx = dout * 1[x > 0].

    dout: upstream gradient, x's shape. cache: from relu_forward. Returns dx, x's shape.
    """
    ### BEGIN SOLUTION
    x = cache
    dx = dout * (x > 0)
    return dx
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch02_relu_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""relu_forward/backward on a tiny (2, 3) case: values and shapes."""
import numpy as np

from backproplab.grading import check

x = np.array([[-1.5, 2.0, 0.5], [3.0, -0.25, -2.0]])
out, cache = relu_forward(x)
check("out", out, np.array([[0.0, 2.0, 0.5], [3.0, 0.0, 0.0]]), "relu(x), shape (2, 3)")
dx = relu_backward(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), cache)
check(
    "dx",
    dx,
    np.array([[0.0, 2.0, 3.0], [4.0, 0.0, 0.0]]),
    "dx, shape (2, 3)",
    hint="the gradient passes where x > 0 and is blocked where x < 0",
)
print("relu: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch02_relu_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""relu_forward/backward for batch sizes 1 and 17 (away from the kink at 0): values, inputs unchanged."""
import numpy as np

from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(2005)
for N_h, D_h in ((1, 6), (17, 4)):
    x_h = rng_h.normal(size=(N_h, D_h))
    x_h[np.abs(x_h) < 0.001] = 0.5
    dout_h = rng_h.normal(size=(N_h, D_h))
    out_h, cache_h = relu_forward(x_h)
    dx_h = relu_backward(dout_h, cache_h)
    record(f"out_N{N_h}", out_h, tol=1e-12, about=f"relu(x) for N = {N_h}")
    record(f"dx_N{N_h}", dx_h, tol=1e-12, about=f"dx for N = {N_h}")
    record(f"x_after_N{N_h}", x_h, about=f"x after relu (N = {N_h}): it must not be modified")
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 6 (implement): sigmoid


# %% nbgrader={"grade": false, "grade_id": "ch02_sigmoid", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sigmoid_forward(x):
    """The logistic sigmoid, elementwise: out = 1 / (1 + exp(-x)), without overflow for |x| up to 1000.

    x: array of any shape. Returns (out, cache): out has x's shape.
    """
    ### BEGIN SOLUTION
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return out, out  # the backward pass only needs sigma(x)
    ### END SOLUTION


def sigmoid_backward(dout, cache):
    """The sigmoid's backward pass, eq. (11): dx = dout * sigma(x) (1 - sigma(x)).

    dout: upstream gradient, x's shape. cache: from sigmoid_forward. Returns dx.
    """
    ### BEGIN SOLUTION
    s = cache
    dx = dout * s * (1.0 - s)
    return dx
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch02_sigmoid_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""sigmoid_forward/backward on a tiny case: sigma(0) = 1/2, sigma'(0) = 1/4, sigma(ln 3) = 3/4."""
import numpy as np

from backproplab.grading import check

x = np.array([[0.0, np.log(3.0)]])
out, cache = sigmoid_forward(x)
check("out", out, np.array([[0.5, 0.75]]), "sigma(x), shape (1, 2)")
dx = sigmoid_backward(np.array([[1.0, 2.0]]), cache)
check("dx", dx, np.array([[0.25, 2.0 * 0.75 * 0.25]]), "dx = dout sigma(x) (1 - sigma(x))")
print("sigmoid: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch02_sigmoid_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""sigmoid_forward/backward for batch sizes 1 and 17 and at x = -1000 and 1000: values."""
import numpy as np

from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(2006)
for N_h, D_h in ((1, 5), (17, 3)):
    x_h = rng_h.normal(scale=3.0, size=(N_h, D_h))
    dout_h = rng_h.normal(size=(N_h, D_h))
    out_h, cache_h = sigmoid_forward(x_h)
    dx_h = sigmoid_backward(dout_h, cache_h)
    record(f"out_N{N_h}", out_h, tol=1e-10, about=f"sigma(x) for N = {N_h}")
    record(f"dx_N{N_h}", dx_h, tol=1e-10, about=f"dx for N = {N_h}")
with np.errstate(all="ignore"):
    big_out_h, big_cache_h = sigmoid_forward(np.array([[-1000.0, 1000.0]]))
    big_dx_h = sigmoid_backward(np.ones((1, 2)), big_cache_h)
record("out_pm1000", big_out_h, tol=1e-12, about="sigma(x) at x = -1000 and 1000")
recorded_h = record("dx_pm1000", big_dx_h, tol=1e-12, about="dx at x = -1000 and 1000")
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 7 (implement): tanh


# %% nbgrader={"grade": false, "grade_id": "ch02_tanh", "locked": false, "schema_version": 3, "solution": true, "task": false} provided="layers"
def tanh_forward(x):
    """tanh, elementwise. x: array of any shape. Returns (out, cache)."""
    ### BEGIN SOLUTION
    out = np.tanh(x)
    return out, out  # tanh' is written with tanh itself
    ### END SOLUTION


def tanh_backward(dout, cache):
    """tanh's backward pass, eq. (11): dx = dout * (1 - tanh(x)^2). Returns dx, x's shape."""
    ### BEGIN SOLUTION
    th = cache
    dx = dout * (1.0 - th**2)
    return dx
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch02_tanh_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""tanh_forward/backward on a tiny case: tanh(0) = 0 with slope 1, tanh(ln 2) = 3/5 with slope 16/25."""
import numpy as np

from backproplab.grading import check

x = np.array([[0.0], [np.log(2.0)]])
out, cache = tanh_forward(x)
check("out", out, np.array([[0.0], [0.6]]), "tanh(x), shape (2, 1)")
dx = tanh_backward(np.array([[3.0], [1.0]]), cache)
check("dx", dx, np.array([[3.0], [16.0 / 25.0]]), "dx = dout (1 - tanh(x)^2)")
print("tanh: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch02_tanh_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""tanh_forward/backward for batch sizes 1 and 17: values."""
import numpy as np

from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(2007)
for N_h, D_h in ((1, 7), (17, 2)):
    x_h = rng_h.normal(scale=1.5, size=(N_h, D_h))
    dout_h = rng_h.normal(size=(N_h, D_h))
    out_h, cache_h = tanh_forward(x_h)
    dx_h = tanh_backward(dout_h, cache_h)
    record(f"out_N{N_h}", out_h, tol=1e-10, about=f"tanh(x) for N = {N_h}")
    record(f"dx_N{N_h}", dx_h, tol=1e-10, about=f"dx for N = {N_h}")
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Losses and the first gradient of the backward pass
#
# A loss function turns the network's output `scores` $(N, K)$ and the targets
# into one number and returns `dscores` $=\partial L/\partial\,\text{scores}$, the
# `dout` that starts the backward pass. In the course **the loss of a batch is
# the mean over its examples**, so every `dscores` carries a factor $1/N$ — and
# only the loss does: the layers' backward passes sum over the batch (eq. 10).
# With a mean, the size of a gradient step does not depend on the batch size;
# forgetting the $1/N$ makes the effective learning rate grow with the batch size.
#
# ### Mean-square error (Kara, eq. 19)
#
# $$ L = \frac1{2N}\sum_{n=1}^N \lVert s_n - y_n\rVert^2, \qquad
#    \text{dscores} = \frac{1}{N}(S - Y), \tag{12} $$
#
# with `scores` $S$ and targets $Y$ both of shape $(N, K)$.
#
# ### Binary cross entropy with a sigmoid (Kara, eqs. 24–25)
#
# For $K$ independent yes/no outputs, $a = \sigma(s)$ and targets $y \in [0, 1]$,
#
# $$ L = -\frac1N\sum_{n,k}\big[y_{nk}\ln a_{nk} + (1 - y_{nk})\ln(1 - a_{nk})\big]. \tag{13} $$
#
# Since $\partial L/\partial a = \frac1N\frac{a - y}{a(1-a)}$ and
# $\partial a/\partial s = \sigma'(s) = a(1 - a)$, **the derivative term cancels**:
#
# $$ \text{dscores} = \frac1N\,(\sigma(S) - Y). \tag{14} $$
#
# This is Kara's point (eq. 25 against eq. 23): with MSE on a sigmoid
# output the gradient carries $\sigma'(s)$, which is almost 0 when the unit
# saturates — the unit learns slowly exactly when it is most wrong. The
# cross entropy removes that factor. (The cell after the next one checks (14) in SymPy.)
#
# For a stable loss, write it with the logits: $-\ln\sigma(s) = \ln(1 + e^{-s})$ and
# $-\ln(1 - \sigma(s)) = \ln(1 + e^{s})$, so each term of (13) is
# $\operatorname{softplus}(s) - y s$ with
# $\operatorname{softplus}(s) = \ln(1 + e^{s}) = \max(s, 0) + \ln(1 + e^{-|s|})$
# (`np.log1p`), which never overflows and never takes the log of 0.
#
# ### Softmax and the negative log-likelihood (von Hacht, eqs. 2.2, 2.3, 2.10; Lohiya, sec. 4.2)
#
# For $C$ classes and integer labels $y_n$, the softmax turns a row of scores into
# probabilities, and the loss is the mean negative log-probability of the right class:
#
# $$ p_{nk} = \frac{e^{s_{nk}}}{\sum_j e^{s_{nj}}}, \qquad
#    L = -\frac1N\sum_n \ln p_{n, y_n} = \frac1N\sum_n\Big(-s_{n,y_n} + \ln\sum_j e^{s_{nj}}\Big). \tag{15} $$
#
# Differentiating the right-hand form (von Hacht, A.1–A.5): $\partial/\partial s_{nk}$
# of $\ln\sum_j e^{s_{nj}}$ is $p_{nk}$, and of $-s_{n,y_n}$ is $-1$ when $k = y_n$, so
#
# $$ \text{dscores}_{nk} = \frac1N\big(p_{nk} - [k = y_n]\big). \tag{16} $$
#
# **Stability.** $e^{1000}$ overflows to `inf` in float64 (anything above
# $e^{709.78}$ does), and then `inf/inf` is `nan`. But (15) does not change when
# the same constant $c$ is subtracted from a row of scores (it cancels between
# numerator and denominator). With $c = \max_j s_{nj}$ every exponent is
# $\le 0$, and $\ln p_{nk} = (s_{nk} - c) - \ln\sum_j e^{s_{nj} - c}$ is exact
# (the sum is at least 1: no $\ln 0$), so no small constant needs to be added to $p$ (which
# would change both the loss and its gradient).
#
# ### The multiclass SVM (hinge) loss (Lohiya, sec. 4.1)
#
# The SVM wants the score of the right class to beat every other score by a
# margin $\Delta$ (we use $\Delta = 1$):
#
# $$ L = \frac1N\sum_n\sum_{j \ne y_n}\max(0,\; s_{nj} - s_{n,y_n} + \Delta). \tag{17} $$
#
# Each term with a positive margin contributes $+1$ to $\partial/\partial s_{nj}$
# and $-1$ to $\partial/\partial s_{n,y_n}$:
#
# $$ \text{dscores}_{nj} = \frac1N[\,s_{nj} - s_{n,y_n} + \Delta > 0\,]\ (j \ne y_n), \qquad
#    \text{dscores}_{n,y_n} = -\frac1N\#\{j \ne y_n: s_{nj} - s_{n,y_n} + \Delta > 0\}. \tag{18} $$
#
# **Example (Lohiya, sec. 4):** a cat image with scores cat $-96.8$, dog $437.9$,
# ship $61.95$ (right class: cat). With $\Delta = 1$:
# $L = \max(0, 437.9 + 96.8 + 1) + \max(0, 61.95 + 96.8 + 1) = 535.7 + 159.75 = 695.45$,
# and dscores $= (-2, 1, 1)$. The softmax loss of the same scores is
# $96.8 + 437.9 + \ln(1 + e^{-534.7} + e^{-375.95}) = 534.7$ (to 15 digits). The
# regularisation term of Lohiya, sec. 4.1.1, comes in chapter 03.

# %%
# SymPy checks of eqs. (14) and (16): the sigma' of the cross entropy cancels, and softmax + NLL gives p - 1.
s_sym, y_sym = sp.symbols("s y", real=True)
# eq. (13), one entry
bce_one = -(y_sym * sp.log(sigma(s_sym)) + (1 - y_sym) * sp.log(1 - sigma(s_sym)))
print("d(BCE)/ds - (sigma(s) - y) =", sp.simplify(sp.diff(bce_one, s_sym) - (sigma(s_sym) - y_sym)))
scores_sym = sp.symbols("s0:3", real=True)
# eq. (15), right class 1
nll = -sp.log(sp.exp(scores_sym[1]) / sp.Add(*(sp.exp(s) for s in scores_sym)))
p_sym = [sp.exp(s) / sp.Add(*(sp.exp(v) for v in scores_sym)) for s in scores_sym]
print(
    "d(NLL)/ds_k - (p_k - [k = 1]) =",
    [sp.simplify(sp.diff(nll, scores_sym[k]) - (p_sym[k] - int(k == 1))) for k in range(3)],
)
print(
    "np.exp(1000.0) in float64 overflows: its largest finite value is",
    np.finfo(np.float64).max,
    "= e ^",
    np.log(np.finfo(np.float64).max).round(2),
)

# %% [markdown]
# ### Exercise 8 (implement): mean-square error, eq. (12)


# %% nbgrader={"grade": false, "grade_id": "ch02_mse_loss", "locked": false, "schema_version": 3, "solution": true, "task": false}
def mse_loss(scores, y):
    """Mean-square error of a batch, eq. (12): L = sum((scores - y)^2) / (2N).

    scores: (N, K) network outputs. y: (N, K) targets.
    Returns (loss, dscores): loss a float, dscores = dL/dscores of shape (N, K).
    """
    ### BEGIN SOLUTION
    N = scores.shape[0]
    diff = scores - y
    loss = np.sum(diff**2) / (2 * N)
    dscores = diff / N
    return float(loss), dscores
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch02_mse_loss_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""mse_loss on a tiny batch (N = 2, K = 2): L = 3 / 4 (one number), dscores = (scores - y) / 2."""
import numbers

import numpy as np

from backproplab.grading import check, describe_value

loss, dscores = mse_loss(np.array([[1.0, 2.0], [0.0, -1.0]]), np.array([[0.0, 2.0], [1.0, 0.0]]))
check("loss", loss, 0.75, "the loss: (1 + 0 + 1 + 1) / (2 * 2)")
check(
    "loss_is_real",
    isinstance(loss, (numbers.Real, np.ndarray)) and np.ndim(loss) == 0,
    True,
    "the loss is a single number (float), not an array",
    hint=f"it returned {describe_value(loss)}",
)
check(
    "dscores",
    dscores,
    np.array([[0.5, 0.0], [-0.5, -0.5]]),
    "dscores",
    hint="the loss is a mean over the N = 2 examples",
)
print("mse_loss: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch02_mse_loss_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""mse_loss for batch sizes 1 and 17: the loss (one number) and dscores."""
import numbers

import numpy as np

from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(2008)
for N_h, K_h in ((1, 3), (17, 4)):
    S_h, Y_h = (rng_h.normal(size=(N_h, K_h)), rng_h.normal(size=(N_h, K_h)))
    loss_h, ds_h = mse_loss(S_h, Y_h)
    record(f"loss_N{N_h}", loss_h, tol=1e-10, about=f"the loss for N = {N_h}")
    record(
        f"loss_is_real_N{N_h}",
        isinstance(loss_h, (numbers.Real, np.ndarray)) and np.ndim(loss_h) == 0,
        about=f"the loss is one number (N = {N_h})",
    )
    record(f"dscores_N{N_h}", ds_h, tol=1e-10, about=f"dscores for N = {N_h}")
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 9 (implement): binary cross entropy with logits, eqs. (13)–(14)


# %% nbgrader={"grade": false, "grade_id": "ch02_bce_loss", "locked": false, "schema_version": 3, "solution": true, "task": false}
def bce_with_logits_loss(scores, y):
    """Binary cross entropy of sigmoid(scores) against y, eq. (13), mean over the batch.

    scores: (N, K) logits (any real numbers; must not overflow or take log(0) for |scores| up to 1000).
    y: (N, K) targets in [0, 1].
    Returns (loss, dscores): loss a float; dscores (N, K), eq. (14).
    """
    ### BEGIN SOLUTION
    N = scores.shape[0]
    softplus = np.maximum(scores, 0.0) + np.log1p(np.exp(-np.abs(scores)))  # ln(1 + e^s), stable
    loss = np.sum(softplus - y * scores) / N
    e = np.exp(-np.abs(scores))
    p = np.where(scores >= 0, 1.0 / (1.0 + e), e / (1.0 + e))  # sigma(scores), stable
    dscores = (p - y) / N  # eq. (14): sigma' cancels
    return float(loss), dscores
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch02_bce_loss_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""bce_with_logits_loss on tiny cases: logit 0, target 1 gives ln 2 (one number) and dscores -1/2; a batch of two."""
import numbers

import numpy as np

from backproplab.grading import check, describe_value

loss, dscores = bce_with_logits_loss(np.array([[0.0]]), np.array([[1.0]]))
check("loss", loss, np.log(2.0), "the loss for logit 0, target 1")
check(
    "loss_is_real",
    isinstance(loss, (numbers.Real, np.ndarray)) and np.ndim(loss) == 0,
    True,
    "the loss is a single number (float), not an array",
    hint=f"it returned {describe_value(loss)}",
)
check(
    "dscores",
    dscores,
    np.array([[-0.5]]),
    "dscores = sigma(0) - 1",
    hint="eq. (14): the sigma' factor cancels",
)
# A batch of two (logits 0, targets 1 and 0): the loss is the mean ln 2, dscores (sigma(0) - y) / 2.
loss2, dscores2 = bce_with_logits_loss(np.zeros((2, 1)), np.array([[1.0], [0.0]]))
check("loss_batch2", loss2, np.log(2.0), "the loss for two logits 0 with targets 1 and 0")
check(
    "dscores_batch2",
    dscores2,
    np.array([[-0.25], [0.25]]),
    "dscores for two logits 0 with targets 1 and 0",
    hint="the loss is a mean over the N = 2 examples, so dscores carries a 1/N",
)
print("bce_with_logits_loss: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch02_bce_loss_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""bce_with_logits_loss for batch sizes 1 and 17 and at logits of +-1000 (no overflow): loss and dscores."""
import numbers

import numpy as np

from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(2009)
for N_h, K_h in ((1, 4), (17, 3)):
    S_h = rng_h.normal(scale=2.0, size=(N_h, K_h))
    Y_h = rng_h.uniform(size=(N_h, K_h))
    loss_h, ds_h = bce_with_logits_loss(S_h, Y_h)
    record(f"loss_N{N_h}", loss_h, tol=1e-10, about=f"the loss for N = {N_h}")
    record(
        f"loss_is_real_N{N_h}",
        isinstance(loss_h, (numbers.Real, np.ndarray)) and np.ndim(loss_h) == 0,
        about=f"the loss is one number (N = {N_h})",
    )
    record(f"dscores_N{N_h}", ds_h, tol=1e-10, about=f"dscores for N = {N_h}")
with np.errstate(all="ignore"):
    big_loss_h, big_ds_h = bce_with_logits_loss(
        np.array([[1000.0, -1000.0], [-1000.0, 1000.0]]), np.array([[1.0, 0.0], [1.0, 0.0]])
    )
record("loss_pm1000", big_loss_h, tol=1e-12, about="the loss at logits of +-1000")
recorded_h = record("dscores_pm1000", big_ds_h, tol=1e-12, about="dscores at logits of +-1000")
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 10 (implement): softmax + negative log-likelihood, eqs. (15)–(16)
#
# It must not overflow for scores of 1000: shift each row by its maximum.


# %% nbgrader={"grade": false, "grade_id": "ch02_softmax_loss", "locked": false, "schema_version": 3, "solution": true, "task": false} provided="layers"
def softmax_loss(scores, y):
    """Softmax + negative log-likelihood, eq. (15), mean over the batch; numerically stable.

    scores: (N, C) class scores (logits). y: (N,) integer labels in 0..C-1.
    Returns (loss, dscores): loss a float; dscores (N, C), eq. (16): (p - onehot(y)) / N.
    """
    ### BEGIN SOLUTION
    N = scores.shape[0]
    # the softmax is unchanged; every exponent <= 0
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(N), y].mean()
    dscores = np.exp(log_p)  # p
    dscores[np.arange(N), y] -= 1.0  # p - onehot(y), eq. (16)
    dscores /= N  # the loss is a mean over the batch
    return float(loss), dscores
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch02_softmax_loss_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""softmax_loss on tiny cases: equal scores give ln 3 (one number) and (p - onehot) / N for N = 2; scores of 1000 must not overflow."""
import numbers

import numpy as np

from backproplab.grading import check, describe_value

# A batch of two, labels 1 and 0: p - onehot(y) is (1/3, -2/3, 1/3) and (-2/3, 1/3, 1/3), divided by N = 2.
loss, dscores = softmax_loss(np.zeros((2, 3)), np.array([1, 0]))
check("loss_uniform", loss, np.log(3.0), "the loss for equal scores (p = 1/3 each), N = 2")
check(
    "loss_is_real",
    isinstance(loss, (numbers.Real, np.ndarray)) and np.ndim(loss) == 0,
    True,
    "the loss is a single number (float), not an array",
    hint=f"it returned {describe_value(loss)}",
)
check(
    "dscores_uniform",
    dscores,
    np.array([[1 / 6, -1 / 3, 1 / 6], [-1 / 3, 1 / 6, 1 / 6]]),
    "dscores for equal scores, labels 1 and 0",
    hint="eq. (16): p - onehot(y), divided by N because the loss is a mean over the batch",
)
loss_big, dscores_big = softmax_loss(np.array([[1000.0, 0.0, -1000.0]]), np.array([1]))
check(
    "loss_1000",
    loss_big,
    1000.0,
    "the loss for scores (1000, 0, -1000), label 1",
    hint="exp(1000) overflows: subtract each row's maximum first",
)
check(
    "dscores_1000",
    dscores_big,
    np.array([[1.0, -1.0, 0.0]]),
    "dscores for scores (1000, 0, -1000), label 1",
)
print("softmax_loss: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch02_softmax_loss_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""softmax_loss for batch sizes 1 and 17, scores of order 1000, and the cat example of seed 004: loss and dscores."""
import numbers

import numpy as np

from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(2010)
for N_h, C_h in ((1, 5), (17, 4)):
    S_h = rng_h.normal(scale=2.0, size=(N_h, C_h))
    y_h = rng_h.integers(0, C_h, size=N_h)
    loss_h, ds_h = softmax_loss(S_h, y_h)
    record(f"loss_N{N_h}", loss_h, tol=1e-10, about=f"the loss for N = {N_h}")
    record(
        f"loss_is_real_N{N_h}",
        isinstance(loss_h, (numbers.Real, np.ndarray)) and np.ndim(loss_h) == 0,
        about=f"the loss is one number (N = {N_h})",
    )
    record(f"dscores_N{N_h}", ds_h, tol=1e-10, about=f"dscores for N = {N_h}")
S_big_h = 1000.0 * rng_h.normal(size=(17, 6))
y_big_h = rng_h.integers(0, 6, size=17)
with np.errstate(all="ignore"):
    loss_big_h, ds_big_h = softmax_loss(S_big_h, y_big_h)
record("loss_big", loss_big_h, tol=1e-10, about="the loss for scores of order 1000")
record("dscores_big", ds_big_h, tol=1e-10, about="dscores for scores of order 1000")
cat_loss_h, cat_ds_h = softmax_loss(np.array([[-96.8, 437.9, 61.95]]), np.array([0]))
recorded_h = record("loss_cat", cat_loss_h, tol=1e-12, about="the loss of the cat example")
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 11 (implement): the multiclass SVM loss, eqs. (17)–(18)


# %% nbgrader={"grade": false, "grade_id": "ch02_svm_loss", "locked": false, "schema_version": 3, "solution": true, "task": false}
def svm_loss(scores, y, delta=1.0):
    """Multiclass SVM (hinge) loss, eq. (17), mean over the batch.

    scores: (N, C) class scores. y: (N,) integer labels. delta: the margin.
    Returns (loss, dscores): loss a float; dscores (N, C), eq. (18).
    """
    ### BEGIN SOLUTION
    N = scores.shape[0]
    rows = np.arange(N)
    correct = scores[rows, y][:, None]  # s_{n, y_n}, shape (N, 1)
    margins = np.maximum(0.0, scores - correct + delta)
    margins[rows, y] = 0.0  # the sum skips j = y_n
    loss = margins.sum() / N
    active = (margins > 0).astype(float)  # 1 where a margin is violated
    active[rows, y] = -active.sum(axis=1)  # s_{n, y_n} enters every violated term with a minus sign
    dscores = active / N
    return float(loss), dscores
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch02_svm_loss_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""svm_loss on seed 004's cat example (scores -96.8, 437.9, 61.95; label cat): L = 695.45, dscores (-2, 1, 1); a batch of two."""
import numbers

import numpy as np

from backproplab.grading import check, describe_value

loss, dscores = svm_loss(np.array([[-96.8, 437.9, 61.95]]), np.array([0]))
check(
    "loss",
    loss,
    695.45,
    "the SVM loss of the cat example",
    hint="sum over the wrong classes j of max(0, s_j - s_y + 1)",
)
check(
    "loss_is_real",
    isinstance(loss, (numbers.Real, np.ndarray)) and np.ndim(loss) == 0,
    True,
    "the loss is a single number (float), not an array",
    hint=f"it returned {describe_value(loss)}",
)
check("dscores", dscores, np.array([[-2.0, 1.0, 1.0]]), "dscores of the cat example")
# With a second example that violates no margin (scores 3, 0, 0, label 0), loss and dscores halve.
loss2, dscores2 = svm_loss(np.array([[-96.8, 437.9, 61.95], [3.0, 0.0, 0.0]]), np.array([0, 0]))
check("loss_batch2", loss2, 347.725, "the loss of the cat example and a second, correct one")
check(
    "dscores_batch2",
    dscores2,
    np.array([[-1.0, 0.5, 0.5], [0.0, 0.0, 0.0]]),
    "dscores of the cat example and a second, correct one",
    hint="the loss is a mean over the N = 2 examples, so dscores carries a 1/N",
)
print("svm_loss: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch02_svm_loss_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""svm_loss for batch sizes 1 and 17 and another margin: loss and dscores."""
import numbers

import numpy as np

from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(2011)
for N_h, C_h, margin_h in ((1, 4, 1.0), (17, 5, 1.0), (17, 3, 0.5)):
    S_h = rng_h.normal(size=(N_h, C_h))
    y_h = rng_h.integers(0, C_h, size=N_h)
    loss_h, ds_h = svm_loss(S_h, y_h, delta=margin_h)
    label_h = f"N = {N_h}, C = {C_h}, delta = {margin_h}"
    record(f"loss_{N_h}_{C_h}_{margin_h}", loss_h, tol=1e-10, about=f"the loss ({label_h})")
    record(
        f"loss_is_real_{N_h}_{C_h}_{margin_h}",
        isinstance(loss_h, (numbers.Real, np.ndarray)) and np.ndim(loss_h) == 0,
        about=f"the loss is one number ({label_h})",
    )
    record(f"dscores_{N_h}_{C_h}_{margin_h}", ds_h, tol=1e-10, about=f"dscores ({label_h})")
### END HIDDEN TESTS

# %% [markdown]
# <details><summary>Errata: the mean and the mini-batch (Kara, eqs. 19–21)</summary>
#
# The mean-square error (19) has the factor $1/(2N_p)$, but eq. (20) writes its gradient as
# $\nabla_a C = \sum_i \nabla_a C^{(i)}$, dropping the $1/N_p$, and (21) says that the sum over a
# mini-batch of $M$ examples approximates the sum over all $N_p$: it approximates it only
# after multiplying by $N_p/M$. Consistently, with means:
# $\nabla C = \frac1{N_p}\sum_{i=1}^{N_p}\nabla C^{(i)} \approx \frac1M\sum_{i \in \text{batch}}\nabla C^{(i)}$.
#
# </details>
#
# <details><summary>Errata: the "kink" of the log-likelihood (von Hacht, sec. 2.1)</summary>
#
# "The kink at $p(\hat y)_{y_i} = 0$ is counteracted by adding a small numerical
# constant." $-\ln p$ has no kink at $p = 0$ but a pole (it goes to $+\infty$), and adding a
# constant to $p$ changes both the loss and its gradient. Computing $\ln p$ directly with
# the shift by the maximum, as in section 4, needs no constant at all.
#
# </details>
#
# ## 5. Checking gradients numerically
#
# Every backward pass above was checked against a **centred difference**
# (von Hacht, eqs. 3.5–3.6): for each entry $x_i$ of an input,
#
# $$ \frac{\partial f}{\partial x_i} \approx \frac{f(x + h e_i) - f(x - h e_i)}{2h}. \tag{19} $$
#
# By Taylor's theorem its **truncation error** is $\frac{h^2}{6}f'''$ (the forward
# difference $(f(x + h e_i) - f(x))/h$ only reaches $\frac h2 f''$). But $f$ itself is
# computed with a relative rounding error of about $\varepsilon$ (machine epsilon),
# and dividing the difference by $2h$ turns that into a **rounding error** of about
# $\varepsilon|f|/h$. The total, $\frac{h^2}{6}|f'''| + \varepsilon|f|/h$, is smallest
# for $h \approx \varepsilon^{1/3}$:
#
# | | $\varepsilon$ | best $h$ | best relative error |
# |---|---|---|---|
# | float64 | $1.1\cdot10^{-16}$ | $\approx 10^{-5}$ | $\approx 10^{-10}$ |
# | float32 | $6.0\cdot10^{-8}$ | $\approx 10^{-2}$ | $\approx 10^{-5}$ |
#
# So a gradient check **must run in float64**: in float32 even a perfect backward
# pass cannot get below about $10^{-5}$, and a threshold like $10^{-7}$ is
# meaningless. (Kinks — ReLU at 0, the hinge of the SVM — are the other source of
# disagreement: when an input lies within $h$ of a kink, (19) straddles it.)
#
# ### The relative error
#
# Compare an analytic gradient $a$ (from backprop) with a numerical one $n$ by
#
# $$ \operatorname{rel}(a, n) = \frac{\max_i|a_i - n_i|}{\max(10^{-8},\ \max_i|a_i| + \max_i|n_i|)} \tag{20} $$
#
# (`backproplab.gradcheck.rel_error`). It is max-normalised: the worst entry is
# compared with the size of the *largest* entries, so tiny or zero entries cannot
# blow it up, a flipped sign gives exactly 1, and it does not grow with the number
# of parameters. In float64 with $h = 10^{-5}$: below $10^{-7}$ the gradient is
# right (we require this); $10^{-7}$–$10^{-4}$ deserves a look (a kink nearby, or a
# small bug); above $10^{-2}$ it is wrong.
#
# Von Hacht (sec. 3.3) compares the two gradients differently, by his eq. (3.7):
# $|f'_a - f'_n| / |f'_a + f'_n|$ entry by entry, summed over the parameters, with a
# threshold of "$10^{-7}$ to $10^{-9}$". The cell after the next exercise compares it with
# (20); what goes wrong with it is in the fold at the end of this section.
#
# ### Exercise 12 (implement): the centred difference (19)


# %% nbgrader={"grade": false, "grade_id": "ch02_numerical_grad", "locked": false, "schema_version": 3, "solution": true, "task": false}
def numerical_grad(f, x, h=1e-5):
    """The gradient of a scalar function by centred differences, eq. (19).

    f: a function taking an array of x's shape and returning a float.
    x: float array of any shape. You may change its entries while you work, but
       it must hold its original values when the function returns.
    h: the step. Returns grad, an array of x's shape:
       grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2 h) for every index i.
    """
    ### BEGIN SOLUTION
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        f_plus = f(x)
        x[i] = old - h
        f_minus = f(x)
        x[i] = old  # restore
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch02_numerical_grad_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""numerical_grad of f(x) = sum(x^2) at x = (1, -2, 3) is 2x (a quadratic: the centred difference is exact up to rounding)."""
import builtins

import numpy as np

from backproplab.grading import check

x = np.array([1.0, -2.0, 3.0])
grad = numerical_grad(lambda v: builtins.float(np.sum(v**2)), x)
check(
    "grad",
    grad,
    [2.0, -4.0, 6.0],
    "the numerical gradient of sum(x^2), one entry per entry of x",
    tol=1e-9,
)
check(
    "x_after",
    x,
    [1.0, -2.0, 3.0],
    "x after numerical_grad",
    hint="restore every entry of x after perturbing it",
)
print("numerical_grad: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch02_numerical_grad_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""numerical_grad of a non-quadratic function of a (3, 4) array and another h: centred (not forward) differences, x restored."""
import builtins

import numpy as np

from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(2012)
x_h = rng_h.normal(size=(3, 4))


def cubic_h(v_h):
    return builtins.float(np.sum(np.sin(v_h) * v_h**2) + np.prod(v_h[0, :2]))


grad_h = numerical_grad(cubic_h, x_h)
record("grad_sin_x2", grad_h, tol=1e-08, about="the numerical gradient of a (3, 4) array")
record("x_after", x_h, about="x after numerical_grad: every entry restored")
grad_h2 = numerical_grad(
    lambda v_h: builtins.float(np.sum(np.exp(v_h))), np.array([0.0, 1.0]), h=0.001
)
recorded_h = record(
    "grad_exp_h1e-3", grad_h2, tol=1e-10, about="the numerical gradient with h = 0.001"
)
### END HIDDEN TESTS

# %% [markdown]
# ### float64 against float32, and eq. (3.7) against eq. (20)
#
# The next cell checks your `softmax_loss` with your `numerical_grad`, in float64
# and in float32, for several steps $h$, and then compares the thesis' formula
# (3.7) as printed with the max-normalised relative error (20) on three cases:
# a correct ReLU-layer gradient with zero entries, a gradient with a sign error,
# and a correct gradient of a large layer.

# %%
rng = np.random.default_rng(0)
S_check = rng.normal(size=(4, 5))
labels_check = rng.integers(0, 5, size=4)
_, d_analytic = softmax_loss(S_check, labels_check)
print("   h      rel. error float64   rel. error float32")
for h in (1e-1, 1e-2, 1e-3, 1e-5, 1e-7):
    errors = []
    for dtype in (np.float64, np.float32):
        S = S_check.astype(dtype)
        d_numeric = numerical_grad(lambda s: softmax_loss(s, labels_check)[0], S, h=dtype(h))
        errors.append(rel_error(d_analytic, d_numeric))
    print(f"{h:7.0e}   {errors[0]:14.2e}   {errors[1]:18.2e}")


def thesis_rel_error(f_a, f_n):
    """Von Hacht, eq. (3.7) as printed, entry by entry, summed over the parameters."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.sum(np.abs(f_a - f_n) / np.abs(f_a + f_n)))


X_relu = rng.normal(size=(6, 5))
X_relu[:, 2] = 0.0  # an input that is always 0: its weights get exactly zero gradient
W_relu, b_relu = rng.normal(size=(5, 3)), rng.normal(size=3)
dout_relu = rng.normal(size=(6, 3))
W_num = numerical_gradient(
    lambda w: relu_forward(affine_forward(X_relu, w, b_relu)[0])[0], W_relu.copy(), dout_relu
)
z_relu, cache_a = affine_forward(X_relu, W_relu, b_relu)
_, cache_r = relu_forward(z_relu)
W_back = affine_backward(relu_backward(dout_relu, cache_r), cache_a)[1]
d_numeric = numerical_grad(lambda s: softmax_loss(s, labels_check)[0], S_check.copy())
big_a = rng.normal(size=200_000)
# a correct gradient, rounding-level differences
big_n = big_a * (1 + 1e-10 * rng.normal(size=big_a.size))
cases = {
    "correct, with zero entries": (W_back, W_num),
    "sign error (softmax)": (-d_analytic, d_numeric),
    "correct, 200 000 parameters": (big_a, big_n),
}
print("\ncase                           eq. (3.7) summed   eq. (20)")
for name, (f_a, f_n) in cases.items():
    print(f"{name:30s} {thesis_rel_error(f_a, f_n):15.3g}   {rel_error(f_a, f_n):8.2e}")

# %% [markdown]
# ### Exercise 13 (explain): reading a gradient check
#
# Use the two tables above. (a) Why does the float64 column reach about
# $10^{-10}$ and then get *worse* for smaller $h$, and why does float32 never get
# close to $10^{-7}$? Use the two error terms of section 5. (b) For each of the
# three cases of the second table, say what eq. (3.7) as printed reports and why,
# and what eq. (20) reports. (c) A classmate's `affine_backward` gives a relative
# error of $3\cdot10^{-3}$ in float64 with $h = 10^{-5}$, on inputs with no kinks.
# Is it right? What would you look for first?

# %% [markdown] nbgrader={"grade": true, "grade_id": "ch02_explain_gradcheck", "locked": false, "points": 3, "schema_version": 3, "solution": true, "task": false}
# **Model answer.** (a) The error of the centred difference is truncation
# $\approx \frac{h^2}{6}|f'''|$ plus rounding $\approx \varepsilon|f|/h$. In float64
# ($\varepsilon \approx 10^{-16}$) the truncation term falls as $h^2$ down to
# $h \approx 10^{-5}$ (the table: $9\cdot10^{-5}$, $9\cdot10^{-7}$, $9\cdot10^{-9}$ for
# $h = 10^{-1}, 10^{-2}, 10^{-3}$, then $2\cdot10^{-11}$); for smaller $h$ the rounding
# term grows as $1/h$ ($h = 10^{-7}$ gives $\sim 10^{-9}$). In float32 ($\varepsilon \approx 6\cdot10^{-8}$)
# the rounding term is already $\sim 10^{-5}$ at $h = 10^{-2}$, $\sim 10^{-4}$ at
# $10^{-3}$, $\sim 10^{-2}$ at $10^{-5}$ and of order 1 at $10^{-7}$ (where $x \pm h$ rounds
# back to $x$), so the best it reaches is about $2\cdot10^{-5}$, far from $10^{-7}$. (b) Zero entries: the
# printed formula divides $0/0$ for the weights of the always-zero input, and the
# sum becomes `nan` although the gradient is right; eq. (20) gives $\sim 10^{-12}$.
# Sign error: $f'_a + f'_n \approx 0$, so the printed formula divides by (almost)
# zero and gives `inf` or `nan` (or an enormous number) — it does flag a problem,
# but not its size; eq. (20) gives exactly 1. Large layer: each entry has a tiny
# relative error, but the sum over 200 000 entries is $\sim 10^{-5}$, "failing" a
# $10^{-7}$ threshold although the gradient is right; eq. (20) stays $\sim 10^{-10}$,
# independent of the number of parameters. (c) No: a correct affine gradient in float64 gives
# $\lesssim 10^{-9}$ (the layer is linear, so there is not even a truncation error);
# $3\cdot10^{-3}$ is a bug. Look first at the shapes and the usual suspects: a
# transposed $W$ in $dX = \text{dout}\,W^T$ or in $dW = X^T\text{dout}$, $db$ summed
# over the wrong axis or averaged instead of summed, or a $1/N$ in the layer;
# then compare the arrays entry by entry to see *where* they differ.
#
# **Rubric (3 points).**
# - 1 point (a): names both terms (truncation $\propto h^2$, rounding $\propto \varepsilon/h$)
#   and explains the minimum at $h \approx 10^{-5}$ in float64 and that float32's larger
#   $\varepsilon$ keeps it around $10^{-5}$ or worse. One of the two terms only: ½.
# - 1 point (b): `nan` from $0/0$ for the zero entries, division by (nearly) zero for the
#   sign error (a meaningless size), growth of the sum with the number of parameters; and
#   that eq. (20) gives a small value, exactly 1, and a small value. Two of the three cases: ½.
# - 1 point (c): "wrong" (a correct gradient in float64 is below $10^{-7}$, so $3\cdot10^{-3}$
#   cannot be rounding or kinks), plus at least one concrete thing to check (transpose,
#   axis of $db$, a factor $1/N$, comparing entries). "Wrong" without a reason: ½.

# %% [markdown]
# <details><summary>Errata: the relative error of the gradient check (von Hacht, sec. 3.3, eq. 3.7)</summary>
#
# (i) The denominator should be $|f'_a| + |f'_n|$ (or a maximum of the two): as printed,
# two opposite gradients — a sign error, the very bug the check should catch — divide by
# zero, and nearly opposite ones give huge values that say nothing about the size of the
# mistake. (ii) Entry by entry, any entry where both gradients are 0 (a dead ReLU unit, a
# pixel that is always 0) gives $0/0$, and entries near 0 are dominated by rounding.
# (iii) A sum over parameters grows with their number, so "$10^{-7}$ to $10^{-9}$" cannot be
# a threshold for it. (iv) Both $f'_a$ ("approximated") and $f'_n$ ("numerically computed")
# are described as the numerical gradient; one of them must be the analytic gradient of
# backprop.
#
# </details>
#
# ## 6. A whole network: backpropagation in batched form
#
# In our row convention a network with layers $l = 1, \dots, L$ computes, for a
# batch $X = A^0$ of shape $(N, D)$,
#
# $$ Z^l = A^{l-1}W^l + b^l, \qquad A^l = \psi(Z^l)\ (l < L), \qquad \text{scores} = Z^L, \tag{21} $$
#
# and the backward pass runs eqs. (6)–(8), transposed and batched, with
# $\Delta^l := \partial L/\partial Z^l$ of shape $(N, n_l)$:
#
# $$ \Delta^L = \text{dscores}, \qquad
#    \Delta^{l} = \big(\Delta^{l+1}(W^{l+1})^T\big)\odot\psi'(Z^{l}), \qquad
#    \frac{\partial L}{\partial W^l} = (A^{l-1})^T\Delta^l, \qquad
#    \frac{\partial L}{\partial b^l} = \textstyle\sum_n \Delta^l_{n,:}. \tag{22} $$
#
# Each factor is one of your layers: $\Delta^{l+1}(W^{l+1})^T$ is the $dX$ of
# `affine_backward`, $\odot\,\psi'(Z^l)$ is the activation's backward pass, and
# $(A^{l-1})^T\Delta^l$, $\sum_n\Delta^l$ are its $dW$, $db$. The output layer here
# has no activation: `softmax_loss` takes the raw scores $Z^L$ and its
# `dscores` already is $\Delta^L$ (eq. 16 is eq. 6 for softmax + NLL).
#
# ### Exercise 14 (implement): the network's loss and gradients
#
# `MLP` below holds the parameters (`W1, b1, ..., WL, bL`, He-initialised:
# $W \sim \mathcal N(0, 2/\text{fan-in})$, $b = 0$) and predicts. Write `loss`:
# the forward pass (21) with your layers, keeping every cache, then
# `softmax_loss`, then the backward pass (22) in reverse order, filling `grads`.


# %% nbgrader={"grade": false, "grade_id": "ch02_mlp", "locked": false, "schema_version": 3, "solution": true, "task": false}
class MLP:
    """A fully connected network: (affine -> activation) x (L - 1), then affine, then softmax + NLL.

    layer_sizes: [D, H_1, ..., H_{L-1}, C] (input size, hidden sizes, number of classes).
    activation: "relu", "sigmoid" or "tanh". seed: seeds the weight initialisation.
    params: "W1" (D, H_1), "b1" (H_1,), ..., "WL" (H_{L-1}, C), "bL" (C,).
    """

    def __init__(self, layer_sizes, activation="relu", seed=0):
        rng = np.random.default_rng(seed)
        self.layer_sizes = list(layer_sizes)
        self.num_layers = len(self.layer_sizes) - 1
        self.activation = activation
        self.params = {}
        for i in range(1, self.num_layers + 1):
            fan_in, fan_out = self.layer_sizes[i - 1], self.layer_sizes[i]
            self.params[f"W{i}"] = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))
            self.params[f"b{i}"] = np.zeros(fan_out)

    def activation_functions(self):
        """The (forward, backward) pair of this network's activation layer."""
        pairs = {
            "relu": (relu_forward, relu_backward),
            "sigmoid": (sigmoid_forward, sigmoid_backward),
            "tanh": (tanh_forward, tanh_backward),
        }
        return pairs[self.activation]

    def loss(self, X, y=None):
        """The forward pass (21), and with labels the loss and the backward pass (22).

        X: (N, D) inputs. y: (N,) integer labels, or None.
        Returns the scores (N, C) when y is None; otherwise (loss, grads): loss a
        float (softmax + NLL, mean over the batch) and grads a dict with, for
        every key of self.params, the gradient of the loss with that parameter's shape.
        """
        ### BEGIN SOLUTION
        act_forward, act_backward = self.activation_functions()
        caches, out = [], X
        for i in range(1, self.num_layers + 1):  # forward, eq. (21)
            out, affine_cache = affine_forward(out, self.params[f"W{i}"], self.params[f"b{i}"])
            act_cache = None
            if i < self.num_layers:  # no activation on the scores
                out, act_cache = act_forward(out)
            caches.append((affine_cache, act_cache))
        if y is None:
            return out
        loss, dout = softmax_loss(out, y)  # dout = Delta^L, eq. (16)
        grads = {}
        for i in range(self.num_layers, 0, -1):  # backwards through the layers, eq. (22)
            affine_cache, act_cache = caches[i - 1]
            if act_cache is not None:
                dout = act_backward(dout, act_cache)  # times psi'(Z^i)
            dout, grads[f"W{i}"], grads[f"b{i}"] = affine_backward(dout, affine_cache)
        return loss, grads
        ### END SOLUTION

    def predict(self, X):
        """The predicted class of every row of X: an int array (N,)."""
        return np.argmax(self.loss(X), axis=1)


# %% nbgrader={"grade": true, "grade_id": "ch02_mlp_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""MLP([2, 3, 2]) on a batch of two with set weights: scores, loss (one number) and the gradients (values and shapes)."""
import numbers

import numpy as np

from backproplab.grading import check, describe_value

model = MLP([2, 3, 2], activation="relu")
model.params = {
    "W1": np.array([[1.0, -1.0, 0.5], [0.0, 2.0, -1.0]]),
    "b1": np.array([0.0, 0.5, 1.0]),
    "W2": np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 1.0]]),
    "b2": np.array([0.0, -0.5]),
}
# Two examples: the second one's first hidden unit is off (z1 = -1) and its first score negative.
X = np.array([[1.0, 1.0], [-1.0, 0.0]])
check(
    "scores",
    model.loss(X),
    np.array([[0.5, 1.5], [-0.5, 1.5]]),
    "the scores (2, 2): hidden relu([1, 1.5, 0.5]) and relu([-1, 1.5, 0.5]), then W2, b2, no relu",
)
loss, grads = model.loss(X, np.array([1, 0]))
check(
    "loss",
    loss,
    (np.log(1.0 + np.exp(-1.0)) + np.log(1.0 + np.exp(2.0))) / 2,
    "the loss of labels 1 and 0, a mean over N = 2",
)
check(
    "loss_is_real",
    isinstance(loss, (numbers.Real, np.ndarray)) and np.ndim(loss) == 0,
    True,
    "the loss is a single number (float), not an array",
    hint=f"it returned {describe_value(loss)}",
)
# By hand: dscores = (p - onehot(y)) / 2 = [[a, -a], [-c, c]] / 2 with a = 1 / (1 + e), c = e^2 / (1 + e^2);
# back through W2 and the relu mask [[1, 1, 1], [0, 1, 1]] to dz1 = [[a/2, -a/2, -a], [0, c/2, c]].
a, c = 1.0 / (1.0 + np.exp(1.0)), np.exp(2.0) / (1.0 + np.exp(2.0))
expected = {
    "W1": np.array([[a / 2, -(a + c) / 2, -(a + c)], [a / 2, -a / 2, -a]]),
    "b1": [a / 2, (c - a) / 2, c - a],
    "W2": np.array(
        [[a / 2, -a / 2], [0.75 * (a - c), 0.75 * (c - a)], [0.25 * (a - c), 0.25 * (c - a)]]
    ),
    "b2": [(a - c) / 2, (c - a) / 2],
}
for name in ("W1", "b1", "W2", "b2"):
    check(
        f"grad_{name}",
        grads.get(name),
        expected[name],
        f'grads["{name}"], with the shape of {name}',
    )
print("MLP.loss: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch02_mlp_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""MLP.loss with 2 and 3 layers, relu / tanh / sigmoid, batch sizes 1 and 17, set weights: scores, loss and every gradient."""
import builtins
import numbers

import numpy as np

from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(2013)
for sizes_h, act_h, N_h in (
    ([5, 7, 4, 3], "tanh", 17),
    ([4, 6, 3], "relu", 1),
    ([4, 6, 3], "relu", 17),
    ([3, 5, 4], "sigmoid", 17),
):
    net_h = MLP(sizes_h, activation=act_h, seed=7)
    names_h = []
    # the weights, drawn in a fixed order whatever the layers' creation order
    for i_h in builtins.range(1, len(sizes_h)):
        net_h.params[f"W{i_h}"] = rng_h.normal(size=(sizes_h[i_h - 1], sizes_h[i_h]))
        net_h.params[f"b{i_h}"] = rng_h.normal(size=sizes_h[i_h])
        names_h += [f"W{i_h}", f"b{i_h}"]
    X_h = rng_h.normal(size=(N_h, sizes_h[0]))
    y_h = rng_h.integers(0, sizes_h[-1], size=N_h)
    tag_h = f"{act_h}_{len(sizes_h) - 1}layers_N{N_h}"
    label_h = f"({act_h}, layer sizes {sizes_h}, N = {N_h})"
    record(f"scores_{tag_h}", net_h.loss(X_h), tol=1e-09, about=f"the scores {label_h}")
    loss_h, grads_h = net_h.loss(X_h, y_h)
    record(f"loss_{tag_h}", loss_h, tol=1e-09, about=f"the loss {label_h}")
    record(
        f"loss_is_real_{tag_h}",
        isinstance(loss_h, (numbers.Real, np.ndarray)) and np.ndim(loss_h) == 0,
        about=f"the loss is one number {label_h}",
    )
    for key_h in names_h:
        record(
            f"grad_{key_h}_{tag_h}",
            grads_h.get(key_h),
            tol=1e-08,
            about=f'grads["{key_h}"] {label_h}',
        )
### END HIDDEN TESTS

# %% [markdown]
# ## 7. Mini-batch stochastic gradient descent
#
# Chapter 01 took a step against the full gradient. With many examples, one
# step per pass over the data is slow; **mini-batch SGD** (Kara, eq. 21;
# Lohiya, sec. 5) shuffles the data at every epoch, cuts it into batches of
# `batch_size` examples (the last one may be smaller), and takes one step
# $\theta \leftarrow \theta - \eta\,\nabla_\theta L_{\text{batch}}$ per batch. Because
# the loss is a mean, every batch gives an estimate of the full gradient of the
# same size, whatever the batch size.
#
# ### Exercise 15 (implement): the training loop
#
# Follow the recipe in the docstring exactly (the tests replay it): one
# `np.random.default_rng(seed)` for the whole run, one `rng.permutation(N)` per
# epoch, batches `order[0:B], order[B:2B], ...`, and after every epoch the loss and
# accuracy on the whole training and validation sets (entry 0 of the history is
# before the first step, as in chapter 01).


# %% nbgrader={"grade": false, "grade_id": "ch02_sgd_train", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sgd_train(model, X, y, X_val, y_val, lr, num_epochs, batch_size, seed=0, callback=None):
    """Train `model` in place with mini-batch SGD.

    model: has `params` (dict of arrays), `loss(X, y) -> (loss, grads)` and `predict(X)`.
    X: (N, D), y: (N,) training data. X_val, y_val: validation data.
    lr: learning rate. num_epochs: passes over the data. batch_size: B.
    Recipe: rng = np.random.default_rng(seed), created once. In each epoch,
    order = rng.permutation(N); the batches are order[0:B], order[B:2B], ...
    (the last may be smaller); for each, (loss, grads) = model.loss(X[batch], y[batch])
    and every params[name] -= lr * grads[name]. After each epoch, if callback is
    given, call callback(epoch, model) with epoch = 1, ..., num_epochs.
    Returns a dict of float arrays of length num_epochs + 1: "train_loss",
    "train_acc", "val_loss", "val_acc" on the whole sets (accuracy = mean of
    predict(X) == y); entry 0 is before training, entry e after epoch e.
    """
    ### BEGIN SOLUTION
    rng = np.random.default_rng(seed)  # one generator for the whole run
    N = X.shape[0]
    history = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}

    def evaluate():
        for split, X_s, y_s in (("train", X, y), ("val", X_val, y_val)):
            history[f"{split}_loss"].append(float(model.loss(X_s, y_s)[0]))
            history[f"{split}_acc"].append(float(np.mean(model.predict(X_s) == y_s)))

    evaluate()
    for epoch in range(1, num_epochs + 1):
        order = rng.permutation(N)
        for start in range(0, N, batch_size):
            batch = order[start : start + batch_size]
            _, grads = model.loss(X[batch], y[batch])
            for name in model.params:
                model.params[name] -= lr * grads[name]
        evaluate()
        if callback is not None:
            callback(epoch, model)
    return {key: np.array(values) for key, values in history.items()}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch02_sgd_train_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""sgd_train of a small MLP (set weights) on 13 random points for 3 epochs: history keys and lengths, entry 0, the loss goes down."""
import numpy as np

from backproplab.grading import check

rng = np.random.default_rng(5)
X, y = rng.normal(size=(13, 4)), rng.integers(0, 3, size=13)
model = MLP([4, 8, 3], activation="relu", seed=1)
model.params = {
    "W1": 0.7 * rng.normal(size=(4, 8)),
    "b1": np.zeros(8),
    "W2": 0.5 * rng.normal(size=(8, 3)),
    "b2": np.zeros(3),
}
loss_before = model.loss(X, y)[0]
history = sgd_train(model, X, y, X[:5], y[:5], lr=0.1, num_epochs=3, batch_size=4, seed=0)
keys = ("train_loss", "train_acc", "val_loss", "val_acc")
check(
    "history_lengths",
    {key: np.shape(history.get(key)) for key in keys},
    {key: (4,) for key in keys},
    'the shapes of history["train_loss"], ["train_acc"], ["val_loss"], ["val_acc"]',
    hint="one entry before training plus one per epoch",
)
check(
    "train_loss_0",
    history["train_loss"][0],
    loss_before,
    'history["train_loss"][0] (before training)',
)
check(
    "loss_went_down",
    history["train_loss"][-1] < history["train_loss"][0],
    True,
    "the training loss goes down",
    hint="do you step against the gradient (params -= lr * grads)?",
)
expected = {
    "train_loss": [1.2576779429, 1.16541647564, 1.11017743362, 1.05909218024],
    "train_acc": [4 / 13, 4 / 13, 5 / 13, 7 / 13],
    "val_loss": [1.32075987271, 1.24751589612, 1.25619255038, 1.11182331239],
    "val_acc": [0.4, 0.0, 0.0, 0.4],
}
for key in keys:
    check(key, history[key], expected[key], f'history["{key}"]', tol=1e-8)
print("sgd_train: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch02_sgd_train_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""sgd_train replays the recipe exactly (shuffling, a smaller last batch, batch size 1, callback) on a model that is not an MLP."""
import builtins

import numpy as np

from backproplab.grading import record


### BEGIN HIDDEN TESTS
class LogCoshModel_h:
    """Regression of the label by scores = X w + c with the loss mean(log cosh(scores - y))."""

    def __init__(self, D_h, seed_h):
        init_h = np.random.default_rng(seed_h)
        self.params = {"w": init_h.normal(size=D_h), "c": np.array([0.3])}

    def loss(self, X_b, y_b=None):
        s_h = X_b @ self.params["w"] + self.params["c"][0]
        if y_b is None:
            return s_h
        r_h = s_h - y_b
        g_h = np.tanh(r_h) / len(y_b)
        return (
            builtins.float(np.mean(np.log(np.cosh(r_h)))),
            {"w": X_b.T @ g_h, "c": np.array([g_h.sum()])},
        )

    def predict(self, X_b):
        return np.rint(self.loss(X_b))


rng_h = np.random.default_rng(2014)
for N_h, B_h, E_h, lr_h in ((17, 5, 3, 0.2), (9, 1, 2, 0.05)):
    X_h, y_h = (rng_h.normal(size=(N_h, 3)), rng_h.integers(0, 3, size=N_h))
    Xv_h, yv_h = (rng_h.normal(size=(4, 3)), rng_h.integers(0, 3, size=4))
    model_h = LogCoshModel_h(3, 11)
    seen_h = []
    hist_h = sgd_train(
        model_h,
        X_h,
        y_h,
        Xv_h,
        yv_h,
        lr_h,
        E_h,
        B_h,
        seed=4,
        callback=lambda e_h, m_h: seen_h.append(e_h),
    )
    tag_h = f"N{N_h}_B{B_h}"
    label_h = f"(N = {N_h}, batch size {B_h}, {E_h} epochs)"
    record(
        f"callback_epochs_{tag_h}", seen_h, about=f"the epochs callback was called with {label_h}"
    )
    for key_h in ("train_loss", "train_acc", "val_loss", "val_acc"):
        record(
            f"{key_h}_{tag_h}", hist_h.get(key_h), tol=1e-10, about=f'history["{key_h}"] {label_h}'
        )
    for key_h in ("w", "c"):
        record(
            f"param_{key_h}_{tag_h}",
            model_h.params[key_h],
            tol=1e-10,
            about=f'the trained parameter "{key_h}" {label_h}',
        )
### END HIDDEN TESTS

# %% [markdown]
# ## 8. Training on real digits
#
# scikit-learn ships 1,797 handwritten digits of 8x8 pixels (values 0–16, scaled
# to $[0, 1]$ by `load_digits_split`), split into 1,437 training and 360 test
# images. We keep 287 of the training images aside for **validation** (to watch
# overfitting while we train) and touch the test set once, at the end.
#
# Von Hacht (sec. 3.6) evaluates a network by its loss and accuracy curves and by a
# **confusion matrix**: entry $(i, j)$ counts the examples of class $i$ predicted
# as class $j$, so the diagonal holds the correct predictions and every
# off-diagonal entry is one kind of mistake.
#
# We follow scikit-learn: rows are the **true** classes; a row normalised to 1 gives, for
# each true class, how often it is recognised (the recall). The transposed convention,
# predicted class first, also exists (the thesis uses it): say which one you use.
#
# ### Exercise 16 (implement): the confusion matrix


# %% nbgrader={"grade": false, "grade_id": "ch02_confusion_matrix", "locked": false, "schema_version": 3, "solution": true, "task": false}
def confusion_matrix(y_true, y_pred, num_classes):
    """Counts of (true class, predicted class) pairs.

    y_true, y_pred: (N,) integer labels in 0..num_classes-1.
    Returns M, an int array (num_classes, num_classes): M[i, j] = the number of
    examples of true class i predicted as class j.
    """
    ### BEGIN SOLUTION
    M = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(M, (y_true, y_pred), 1)  # unbuffered: repeated pairs all count
    return M
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch02_confusion_matrix_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""confusion_matrix of 5 labels with 3 classes: rows are true classes, columns predictions."""
import numpy as np

from backproplab.grading import check

M = confusion_matrix(np.array([0, 1, 2, 2, 1]), np.array([0, 2, 2, 2, 1]), 3)
check(
    "M",
    M,
    np.array([[1, 0, 0], [0, 1, 1], [0, 0, 2]]),
    "the confusion matrix (3, 3)",
    hint="M[i, j] counts true class i predicted as j; the two examples (2, 2) both count",
)
print("confusion_matrix: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch02_confusion_matrix_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""confusion_matrix of 200 random labels with 10 classes (many repeated pairs), and a small case with 4 classes."""
import numpy as np

from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(2015)
true_h, pred_h = (rng_h.integers(0, 10, size=200), rng_h.integers(0, 10, size=200))
pred_h[:120] = true_h[:120]
M_h = confusion_matrix(true_h, pred_h, 10)
record("M_random", M_h, tol=0.0, about="the confusion matrix of 200 labels, 10 classes")
record("M_random_total", np.sum(M_h), about="the sum of all entries (one count per example)")
M4_h = confusion_matrix(np.array([3, 3, 0]), np.array([1, 1, 3]), 4)
recorded_h = record("M_small", M4_h, tol=0.0, about="the confusion matrix of 3 labels, 4 classes")
### END HIDDEN TESTS

# %% [markdown]
# ### Training
#
# A network 64 → 64 → 10 with ReLU, He initialisation, mini-batches of 32 and
# $\eta = 0.2$ for 40 epochs. We save a copy of $W^1$ after every epoch for section 9.
# (When your notebook is graded, this cell shrinks to 2 epochs; nothing graded
# depends on it.)

# %%
X_all, y_all, X_test, y_test = load_digits_split()
split = np.random.default_rng(0).permutation(len(X_all))
X_val, y_val = X_all[split[:287]], y_all[split[:287]]
X_train, y_train = X_all[split[287:]], y_all[split[287:]]
print("train", X_train.shape, "validation", X_val.shape, "test", X_test.shape)

num_epochs = 2 if os.environ.get("NBGRADER_EXECUTION") else 40  # a smoke test when graded
digits_net = MLP([64, 64, 10], activation="relu", seed=0)
W1_snapshots = [digits_net.params["W1"].copy()]
start = time.perf_counter()
digits_history = sgd_train(
    digits_net,
    X_train,
    y_train,
    X_val,
    y_val,
    lr=0.2,
    num_epochs=num_epochs,
    batch_size=32,
    seed=0,
    callback=lambda epoch, net: W1_snapshots.append(net.params["W1"].copy()),
)
train_seconds = time.perf_counter() - start
test_accuracy = np.mean(digits_net.predict(X_test) == y_test)
print(
    f"{num_epochs} epochs in {train_seconds:.2f} s; final train accuracy {digits_history['train_acc'][-1]:.4f}, "
    f"validation {digits_history['val_acc'][-1]:.4f}; TEST accuracy {test_accuracy:.4f}"
)

# %%
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
epochs = np.arange(num_epochs + 1)
ax_loss.semilogy(epochs, digits_history["train_loss"], "o-", ms=3, label="training")
ax_loss.semilogy(epochs, digits_history["val_loss"], "s-", ms=3, label="validation")
ax_loss.set(xlabel="epoch", ylabel="softmax loss (mean)", title="loss")
ax_acc.plot(epochs, digits_history["train_acc"], "o-", ms=3, label="training")
ax_acc.plot(epochs, digits_history["val_acc"], "s-", ms=3, label="validation")
ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy", ylim=(0.0, 1.01))
for ax in (ax_loss, ax_acc):
    ax.legend()
show_figure(
    fig,
    f"Left: the training and validation loss per epoch on a log scale, over {num_epochs} epochs. "
    f"Right: the training and validation accuracy per epoch, ending at "
    f"{digits_history['train_acc'][-1]:.3f} and {digits_history['val_acc'][-1]:.3f}.",
)

# %%
M_test = confusion_matrix(y_test, digits_net.predict(X_test), 10)
fig, ax = plt.subplots(figsize=(5.2, 4.6), layout="constrained")
shown = ax.imshow(M_test, cmap="Blues")
for i in range(10):
    for j in range(10):
        if M_test[i, j]:
            ax.text(
                j,
                i,
                M_test[i, j],
                ha="center",
                va="center",
                fontsize=8,
                color="white" if M_test[i, j] > M_test.max() / 2 else "black",
            )
ax.set(
    xlabel="predicted class",
    ylabel="true class",
    xticks=range(10),
    yticks=range(10),
    title=f"test set confusion matrix (accuracy {test_accuracy:.3f})",
)
fig.colorbar(shown, ax=ax, shrink=0.8)
show_figure(
    fig,
    f"The 10x10 confusion matrix of the test set (accuracy {test_accuracy:.3f}): counts per true "
    "class (rows) and predicted class (columns), large on the diagonal, a few mistakes off it.",
)
off_diagonal = M_test - np.diag(np.diag(M_test))
i_worst, j_worst = np.unravel_index(np.argmax(off_diagonal), off_diagonal.shape)
print(
    f"most frequent mistake: true {i_worst} predicted as {j_worst}, {off_diagonal[i_worst, j_worst]} times; "
    f"recall per class: {np.round(np.diag(M_test) / M_test.sum(axis=1), 3)}"
)

# %% [markdown]
# The training loss keeps falling (to about 0.03 after 40 epochs) while the
# validation loss levels off near 0.07–0.1 after about 20 epochs: from there on the
# network mostly fits the training set better (its training accuracy approaches
# 100 %, validation stays near 98 %). The test accuracy, measured once, is about
# 97 % (96.4–97.2 % for initialisation and shuffling seeds 0–3), and the few
# mistakes are between digits that look alike in 8x8 pixels. Chapter 03 is about
# this gap between training and validation, and about what to do when training
# does not work at all.
#
# <details><summary>Note on the source: the confusion matrix's axes (von Hacht, sec. 3.6.3)</summary>
#
# The thesis indexes its matrix $M(\hat y, y_i)$, predicted class first, and then
# normalises each row: that gives, for each *predicted* class, how often it was right
# (the precision), not how well each true class is recognised. Same matrix, transposed.
#
# </details>
#
# ## 9. Explore: what does a hidden unit look at?
#
# Hidden unit $j$ computes $\psi(\sum_p X_p W^1_{pj} + b^1_j)$: one weight per pixel $p$.
# Column $W^1[:, j]$ reshaped to 8x8 is therefore an image — red where ink excites
# the unit, blue where ink inhibits it. The viewer below shows it for the unit
# and the epoch you choose, and next to it what training **changed** since epoch 0
# (the start is random noise). It opens on the last epoch and on the unit whose
# weights training changed most. (The panel needs a live kernel: it does not redraw
# in a saved notebook.)

# %%
viewer = weights_viewer(W1_snapshots, image_shape=(8, 8))
viewer

# %%
change = W1_snapshots[-1] - W1_snapshots[0]
never_changed = np.flatnonzero(np.all(change == 0.0, axis=1))
print(
    "pixels whose weights never changed, for every unit:",
    [divmod(int(p), 8) for p in never_changed],
)
print(
    "pixels that are 0 in every training image:       ",
    [divmod(int(p), 8) for p in np.flatnonzero(X_train.max(axis=0) == 0)],
)

# %% [markdown]
# ### Exercise 17 (explore + explain)
#
# Use the viewer on several units. (a) Describe the weights at epoch 0 and at the
# last epoch, and what the "change since epoch 0" panel looks like. (b) Some
# pixels do not change at all, in any unit (the cell above lists them). Which are
# they, and why, exactly, do their weights get no update? Use eq. (10) or (22).
# (c) Pixels along the left and right borders change much less than pixels in
# the middle. Why?

# %% [markdown] nbgrader={"grade": true, "grade_id": "ch02_explain_weights", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Model answer.** (a) At epoch 0 every unit's weights are random noise
# ($\mathcal N(0, 2/64)$, standard deviation $\approx 0.18$), and at the last epoch
# they still look mostly like that noise: training adds a change of similar
# size. The change panel, however, is smooth and structured — blobs and strokes
# of positive and negative weight, e.g. a loop or a bar in the middle of the image,
# i.e. parts of digits that the unit learned to respond to (positive) or against
# (negative). (b) The pixels $(0, 0)$, $(3, 0)$, $(4, 0)$ and $(4, 7)$: they are 0
# in every training image. The gradient of the first layer is
# $dW^1 = X^T\Delta^1$, so its row $p$ is $\sum_n X_{np}\Delta^1_{n,:} = 0$ when
# column $p$ of $X$ is all zeros: every update of those weights is exactly 0,
# whatever the other layers do, and they keep their random start values
# (harmless, since they multiply 0 also at test time). (c) The digits are
# centred: border pixels are 0 in most images (rarely inked), so the same sum
# $\sum_n X_{np}\Delta^1_{n,:}$ has few nonzero terms and the updates there are small.
#
# **Rubric (2 points).**
# - ½ point (a): random noise at the start; the change is smooth/structured (stroke-
#   or blob-like, positive and negative regions).
# - 1 point (b): names the always-zero pixels (at least "the corner/edge pixels that are
#   0 in every image") **and** explains with $dW^1 = X^T\Delta$ (row $p$ of $dW$ is a sum
#   of terms $X_{np}\cdot\ldots$, all zero). Pixels without the reason: ½.
# - ½ point (c): border pixels are rarely nonzero, so few examples contribute to their gradient.

# %% [markdown]
# ## Summary
#
# - The backward pass sends gradients from the output back through the graph:
#   each gate or layer multiplies the incoming gradient by its local derivative;
#   add gates distribute, multiply gates swap, and a value used several times
#   receives the **sum** of its gradients (eqs. 1–4).
# - In a layered network this is $\delta^L = \nabla_a C\odot\psi'(z^L)$,
#   $\delta^l = (W^{l+1})^T\delta^{l+1}\odot\psi'(z^l)$, $\partial C/\partial W^l = \delta^l(a^{l-1})^T$,
#   $\partial C/\partial b^l = \delta^l$ (eqs. 6–8); batched with $W$ of shape $(D, M)$:
#   $dX = \text{dout}\,W^T$, $dW = X^T\text{dout}$, $db = \sum_n\text{dout}$ (eq. 10).
# - The loss of a batch is a mean, so `dscores` carries $1/N$; layers sum. With
#   sigmoid + cross entropy and with softmax + NLL the derivative of the output
#   nonlinearity cancels: $\sigma(s) - y$ and $p - \text{onehot}(y)$. Shift by the maximum
#   (or use softplus) and nothing overflows.
# - Gradients are checked against centred differences in **float64** with the
#   max-normalised relative error (20); $< 10^{-7}$ means right. The thesis'
#   eq. (3.7) divides by the wrong thing and sums where it should take a maximum.
# - A 64-64-10 ReLU network trained with mini-batch SGD reaches about 97 % on the
#   digits' test set in about a second.
#
# ## Next: chapter 03, training
#
# Our network trained well at the first try because the problem is easy and the
# initialisation was chosen with care (He, $\mathcal N(0, 2/\text{fan-in})$). Chapter 03
# asks what goes wrong otherwise — vanishing and exploding gradients (the
# $\psi'$ factors of eq. 22 multiply up), saturated sigmoids, dead ReLUs,
# overfitting (the gap in our curves) — and what fixes it: initialisation,
# regularisation, dropout, batch normalisation, momentum and Adam. Every one of
# them is a new layer or a new update rule that plugs into the `forward`/`backward`
# and `sgd_train` code you wrote here.
#
# ## References
#
# The texts this chapter is built from, cited by author and section:
#
# - **von Hacht** — A. von Hacht, *Implementation of Deep Feedforward Neural Network with
#   CUDA backend for Efficient and Accurate Natural Image Classification*, MSc thesis,
#   Chalmers University of Technology, 2017 ("the thesis").
# - **Kara** — E. Kara, *Mathematical Foundations of Deep Learning: A Brief Overview with
#   Application to Image Classification Problem*, report, Texas Tech University, Mathematics
#   and Statistics (undated).
# - **Lohiya** — S. Lohiya, *Deep Learning and Computer Vision*, report, Summer of Science,
#   IIT Bombay, June 2019; it follows Stanford's course CS231n.
#
# Other works the chapter cites:
#
# - Stanford CS231n, *Convolutional Neural Networks for Visual Recognition*, course notes,
#   cs231n.github.io.
# - K. He, X. Zhang, S. Ren and J. Sun, "Delving Deep into Rectifiers: Surpassing
#   Human-Level Performance on ImageNet Classification", ICCV 2015 (He initialisation).
