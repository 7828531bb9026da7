# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 06 — Automatic differentiation: the backward pass, written for us
#
# In chapters 02–05 every layer came with a backward pass we derived and wrote by hand:
# `affine_backward`, `relu_backward`, `conv_backward`... A framework writes them for us.
# While the forward pass runs, it **records** each operation and its inputs in a graph; a
# call to `backward()` then walks that graph from the output back to the inputs and applies,
# at every node, the small rule that operation knows — the chain rule of chapter 02, done by
# a program. This is **reverse-mode automatic differentiation** ("autograd"), and this chapter
# builds a small one, in the spirit of micrograd and MiniTorch: a `Variable` that remembers its
# parents and a backward rule, the rules of the operations chapter 02 used, a topological sort
# of the graph, and `backward()`. Then it trains chapter 02's digit network with it — no
# backward pass written by hand — and checks it against chapter 02's layers and against
# PyTorch's autograd, which chapter 07 uses.
#
# **Sources.** Lohiya's CS231n-based report *Deep Learning and Computer Vision* (2019), sec. 6
# (backpropagation on a circuit, gates with local derivatives); von Hacht's MSc thesis
# (Chalmers, 2017), sec. 3.1.5–3.1.6 (the computational graph and its context objects); chapter
# 02 of this course for every rule. Full references are at the end of the chapter. We recompute
# every number we take. What a source leaves out is in a folded note at the end of its section.
#
# ## Learning goals
#
# After this chapter you can
#
# - say what reverse-mode automatic differentiation records in the forward pass and what it
#   does in the backward pass, and why the gradients of a value used twice **add**, eq. (1);
# - write the backward rule of an operation from its local derivatives, including a matrix
#   product, eq. (5), and a broadcast addition, eq. (3);
# - order a graph topologically and run the backward pass in the reverse order;
# - train a network with gradients nobody wrote by hand, and check them against hand-written
#   layers and against PyTorch.
#
# **Time:** about 2–3 hours. The notebook runs top to bottom in well under a minute on a laptop
# CPU; no GPU is needed.
#
# **How to work:** fill in every cell that says `# YOUR CODE HERE`, then run the test cell below
# it. The visible tests check one small case you can verify by hand; hidden tests check other
# shapes and graphs when your notebook is graded.

# %% nbgrader={"grade": false, "grade_id": "ch06_setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import builtins
import os
import time

import matplotlib.pyplot as plt
import numpy as np

from backproplab.datasets import load_digits_split
from backproplab.gradcheck import numerical_gradient, rel_error
from backproplab.grading import check, record
from backproplab.graph_viewer import graph_viewer
from backproplab.layers import (
    affine_backward,
    affine_forward,
    relu_backward,
    relu_forward,
    softmax_loss,
)
from backproplab.plotting import show_figure

np.set_printoptions(precision=6, suppress=True)
smoke_test = bool(os.environ.get("NBGRADER_EXECUTION"))  # graded: training shrinks
# The test cells below use the names imported and defined here: do not rebind them.

# %% [markdown]
# ## 1. What a framework records, and what it does with it
#
# Chapter 02 ran the backward pass of the circuit $f = (x y + z)\,x$ by hand (its eqs. 3–4).
# Write every intermediate value as a node of a graph:
#
# $$ p = x y, \qquad q = p + z, \qquad f = q x . $$
#
# Each node was computed by one operation from its **parents** ($p$ from $x$ and $y$), and each
# operation knows its local derivatives ($\partial p/\partial x = y$). In the backward pass every
# node $v$ receives a gradient $\bar v = \partial f/\partial v$ from each of its **children**, the
# nodes computed from it, and the chain rule says to add them:
#
# $$ \bar v = \sum_{c\,\in\,\text{children}(v)} \bar c\, \frac{\partial c}{\partial v} . \tag{1} $$
#
# Here $x$ has two children, $p$ and $f$, so $\bar x = \bar f\,q + \bar p\,y$ — chapter 02's eq.
# (4). A program can do this for any graph if each node keeps two things from the forward pass:
#
# - its **parents**, so that the backward pass can find its way back, and
# - a **backward rule**: given $\bar u$ (we write `dout`, as in every chapter) for a node
#   $u = g(a, b)$, the contributions $\bar u\,\partial u/\partial a$ and $\bar u\,\partial u/\partial b$
#   for its parents, each with its parent's shape: for arrays, the vector-Jacobian products
#
# $$ \bar a \mathrel{+}= J_a^{\mathsf T}\,\bar u, \qquad \bar b \mathrel{+}= J_b^{\mathsf T}\,\bar u . \tag{2} $$
#
# The `+=` is eq. (1): a node's gradient is **accumulated** over its children. The backward pass
# may apply a node's rule only once its gradient is complete, i.e. after all of its children —
# section 4 finds such an order.
#
# **Provided code.** The cell below defines `Variable`: a float64 NumPy array `data`, its
# gradient `grad` (zeros until a backward pass fills it), its `parents`, its `backward_rule`
# and, for pictures, the name of its operation `op` and an optional `name`. It also defines two
# operations as worked examples. **Addition**, $u = a + b$, has the local derivatives 1 and 1, so
# both parents get `dout`. With NumPy's broadcasting, $b$ may be smaller than $a$: a bias
# $b$ of shape $(M,)$ is added to every row of $a$ of shape $(N, M)$. Each entry of $b$ then
# reaches $N$ entries of $u$, so by eq. (1) its gradient is the **sum** over the rows —
# chapter 02's $db = \sum_n \text{dout}_n$. `unbroadcast` sums `dout` over the axes that
# broadcasting added or stretched:
#
# $$ u = a + b:\quad \bar a = \bar u, \quad \bar b = \textstyle\sum_{\text{broadcast axes}} \bar u . \tag{3} $$
#
# **Multiplication** elementwise, $u = a \odot b$, swaps (chapter 02's multiply gate):
#
# $$ u = a \odot b:\quad \bar a = \bar u \odot b, \quad \bar b = \bar u \odot a \quad\text{(each summed back to its shape).} \tag{4} $$


# %% nbgrader={"grade": false, "grade_id": "ch06_variable", "locked": true, "schema_version": 3, "solution": false, "task": false}
class Variable:
    """A node of the graph: a float64 array that remembers how it was computed.

    data: the value, an ndarray of any shape (a 0-d array for a number).
    grad: dC/d(data), an ndarray of data's shape; zeros until a backward pass adds to it.
    parents: the variables this one was computed from (empty for a leaf: an input or a parameter).
    backward_rule: None for a leaf; else a function dout -> one gradient per parent, eq. (2),
        each of that parent's shape (dout has this variable's shape).
    op: the operation's symbol, for pictures ("+", "*", "@", "relu", "sum", "cross-entropy").
    name: an optional name, for pictures ("x", "W1").
    """

    def __init__(self, data, parents=(), backward_rule=None, op="", name=""):
        self.data = np.array(data, dtype=np.float64)
        self.grad = np.zeros_like(self.data)
        self.parents = builtins.tuple(parents)
        self.backward_rule = backward_rule
        self.op, self.name = op, name

    @property
    def shape(self):
        return self.data.shape

    def __repr__(self):
        label = self.name or self.op or "leaf"
        return f"Variable({label}, shape={self.shape})"

    def __matmul__(self, other):
        return matmul(self, other)  # your matmul, Exercise 1


def as_variable(value):
    """``value`` if it is a Variable, else a new leaf holding it (a constant: nothing reads its grad)."""
    return value if isinstance(value, Variable) else Variable(value)


def unbroadcast(grad, shape):
    """Sum ``grad`` over the axes NumPy's broadcasting added or stretched, so that it has ``shape``, eq. (3)."""
    while grad.ndim > builtins.len(shape):
        grad = grad.sum(axis=0)
    for axis, size in builtins.enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


def add(a, b):
    """a + b, elementwise with broadcasting; eq. (3)."""
    a, b = as_variable(a), as_variable(b)

    def backward_rule(dout):
        return unbroadcast(dout, a.shape), unbroadcast(dout, b.shape)

    return Variable(a.data + b.data, (a, b), backward_rule, "+")


def mul(a, b):
    """a * b, elementwise with broadcasting; eq. (4)."""
    a, b = as_variable(a), as_variable(b)

    def backward_rule(dout):
        return unbroadcast(dout * b.data, a.shape), unbroadcast(dout * a.data, b.shape)

    return Variable(a.data * b.data, (a, b), backward_rule, "*")


# a + b and a * b call these two functions themselves, not whatever the names add and mul mean
# later (a `from numpy import *` brings NumPy's own add)
Variable.__add__, Variable.__mul__ = add, mul
Variable.__radd__ = lambda self, other, add=add: add(other, self)
Variable.__rmul__ = lambda self, other, mul=mul: mul(other, self)


# %%
# The circuit of section 1 at (3, -2, 4): the graph is recorded while f is computed.
x, y, z = Variable(3.0, name="x"), Variable(-2.0, name="y"), Variable(4.0, name="z")
f = (x * y + z) * x
print("f =", f.data, "| its parents:", f.parents, "| their parents:", f.parents[0].parents)
print(
    "the backward rule of f = q * x, for dout = 1:",
    [float(g) for g in f.backward_rule(np.array(1.0))],
)

# %% [markdown]
# The rule of $f = q x$ returned $(\bar q, \bar x_{\text{direct}}) = (x, q) = (3, -2)$: only the
# direct path's contribution to $\bar x$. The other half, $\bar p\,y = -6$, arrives when the rule of
# $p = x y$ runs; eq. (1) adds the two to chapter 02's $\bar x = -8$.
#
# ## 2. The matrix product
#
# A dense layer is $XW + b$: a matrix product, then a broadcast addition. For
# $U = AB$ with $A$ of shape $(N, D)$ and $B$ of shape $(D, M)$,
# $U_{nm} = \sum_d A_{nd} B_{dm}$, so $\partial U_{nm}/\partial A_{nd} = B_{dm}$ and, summing over
# every entry of $U$ that $A_{nd}$ reaches (eq. 1),
#
# $$ \bar A_{nd} = \sum_m \bar U_{nm} B_{dm}, \quad\text{i.e.}\quad \bar A = \bar U B^{\mathsf T}, \qquad
#    \bar B = A^{\mathsf T} \bar U . \tag{5} $$
#
# These are chapter 02's $dX = \text{dout}\,W^{\mathsf T}$ and $dW = X^{\mathsf T}\text{dout}$, and the
# shapes check them: $\bar U B^{\mathsf T}$ is $(N, M)(M, D) = (N, D)$, the shape of $A$.
#
# ### Exercise 1 (implement): `matmul`
#
# Write `matmul(A, B)` in the style of `add` and `mul`: compute the product of the two arrays,
# and return a `Variable` with the parents `(A, B)`, a backward rule by eq. (5) and `op="@"`.
# Accept arrays as well as variables (`as_variable`).


# %% nbgrader={"grade": false, "grade_id": "ch06_matmul", "locked": false, "schema_version": 3, "solution": true, "task": false}
def matmul(A, B):
    """The matrix product A @ B as a node of the graph, eq. (5).

    A: (N, D) and B: (D, M), Variables or arrays. Returns a Variable of shape (N, M) whose
    backward rule maps dout (N, M) to (dA, dB) with dA = dout B^T (N, D), dB = A^T dout (D, M).
    """
    ### BEGIN SOLUTION
    A, B = as_variable(A), as_variable(B)

    def backward_rule(dout):
        return dout @ B.data.T, A.data.T @ dout

    return Variable(A.data @ B.data, (A, B), backward_rule, "@")
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch06_matmul_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""matmul of a (2, 3) and a (3, 2) matrix: the product, its parents, and (dA, dB) for dout = ones."""
import numpy as np

from backproplab.grading import check

A_v = np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]])
B_v = np.array([[1.0, 0.0], [2.0, 1.0], [0.0, -2.0]])
U_v = matmul(A_v, B_v)
check("U", U_v.data, A_v @ B_v, "A @ B for the (2, 3) and (3, 2) matrices")
check(
    "parents",
    [p.data for p in U_v.parents],
    [A_v, B_v],
    "the parents of A @ B",
    hint="the parents are (A, B), in that order, as Variables (as_variable)",
)
dA_v, dB_v = U_v.backward_rule(np.ones((2, 2)))
check(
    "dA",
    dA_v,
    np.ones((2, 2)) @ B_v.T,
    "dA for dout = ones((2, 2))",
    hint="dA = dout @ B^T, eq. (5): shape (N, M)(M, D) = (N, D), the shape of A",
)
check(
    "dB",
    dB_v,
    A_v.T @ np.ones((2, 2)),
    "dB for dout = ones((2, 2))",
    hint="dB = A^T @ dout, eq. (5)",
)
print("matmul: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch06_matmul_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""matmul on hidden shapes, with N = 1 and D = 1: the product and (dA, dB) for a random dout."""
import numpy as np

from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(6001)
for N_h, D_h, M_h in ((1, 4, 3), (5, 1, 2), (4, 6, 7)):
    A_h, B_h = rng_h.normal(size=(N_h, D_h)), rng_h.normal(size=(D_h, M_h))
    U_h = matmul(Variable(A_h), B_h)
    case_h = f"N, D, M = {N_h}, {D_h}, {M_h}"
    record(f"U_{case_h}", getattr(U_h, "data", None), tol=1e-12, about=f"A @ B for {case_h}")
    grads_h = U_h.backward_rule(rng_h.normal(size=(N_h, M_h)))
    for name_h, grad_h in builtins.zip(("dA", "dB"), grads_h):
        record(f"{name_h}_{case_h}", grad_h, tol=1e-12, about=f"{name_h} for {case_h}")
### END HIDDEN TESTS

# %% [markdown]
# ## 3. ReLU, a sum, and the softmax cross-entropy
#
# Three more rules finish chapter 02's network. **ReLU**, $u = \max(a, 0)$ elementwise, passes the
# gradient where its input was positive and stops it elsewhere:
#
# $$ \bar a = \bar u \odot [a > 0] . \tag{6} $$
#
# A **sum** of all entries, $u = \sum_i a_i$ (a number), has $\partial u/\partial a_i = 1$: every entry
# gets the number $\bar u$,
#
# $$ \bar a = \bar u\,\mathbf 1 \quad\text{(an array of } a\text{'s shape).} \tag{7} $$
#
# The **softmax cross-entropy** of scores $S$ of shape $(N, K)$ and integer labels $y$ is chapter
# 02's `softmax_loss`: $C = \frac1N\sum_n \big(\log\sum_k e^{S_{nk}} - S_{n y_n}\big)$, with
#
# $$ \bar S = \bar C\,\frac{P - Y}{N}, \qquad P_{nk} = \frac{e^{S_{nk}}}{\sum_j e^{S_{nj}}}, \quad
#    Y_{nk} = [k = y_n] . \tag{8} $$
#
# Its only parent is $S$: the labels are data, not something we differentiate.
#
# ### Exercise 2 (implement): `relu`, `sum_all`, `softmax_cross_entropy`
#
# Each returns a `Variable` with its parent(s), a backward rule by eqs. (6)–(8) and its `op`
# (`"relu"`, `"sum"`, `"cross-entropy"`). `sum_all` and `softmax_cross_entropy` return a number:
# a 0-d array as `data`. Subtract each row's maximum before the exponential, as in chapter 02,
# so that large scores do not overflow.


# %% nbgrader={"grade": false, "grade_id": "ch06_rules", "locked": false, "schema_version": 3, "solution": true, "task": false}
def relu(a):
    """max(a, 0) elementwise, eq. (6). a: a Variable of any shape; the result has its shape."""
    ### BEGIN SOLUTION
    a = as_variable(a)

    def backward_rule(dout):
        return (dout * (a.data > 0),)

    return Variable(np.maximum(a.data, 0.0), (a,), backward_rule, "relu")
    ### END SOLUTION


def sum_all(a):
    """The sum of all entries of a, a number (0-d), eq. (7); its rule gives dout * ones(a.shape)."""
    ### BEGIN SOLUTION
    a = as_variable(a)

    def backward_rule(dout):
        return (dout * np.ones_like(a.data),)

    return Variable(a.data.sum(), (a,), backward_rule, "sum")
    ### END SOLUTION


def softmax_cross_entropy(scores, y):
    """The mean softmax cross-entropy of scores (N, K) for integer labels y (N,), eq. (8).

    Returns a 0-d Variable whose only parent is scores; its rule maps dout (a number) to
    (dout * (P - Y) / N,), of shape (N, K).
    """
    ### BEGIN SOLUTION
    scores = as_variable(scores)
    N = scores.shape[0]
    shifted = scores.data - scores.data.max(axis=1, keepdims=True)
    log_sums = np.log(np.exp(shifted).sum(axis=1))
    loss = np.mean(log_sums - shifted[np.arange(N), y])
    P = np.exp(shifted - log_sums[:, None])
    Y = np.zeros_like(P)
    Y[np.arange(N), y] = 1.0

    def backward_rule(dout):
        return (dout * (P - Y) / N,)

    return Variable(loss, (scores,), backward_rule, "cross-entropy")
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch06_rules_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""relu, sum_all and softmax_cross_entropy on small cases you can check by hand."""
import numpy as np

from backproplab.grading import check

a_v = np.array([[-1.0, 2.0], [3.0, -4.0]])
r_v = relu(Variable(a_v))
check("relu", r_v.data, [[0.0, 2.0], [3.0, 0.0]], "relu of [[-1, 2], [3, -4]]")
check(
    "relu_rule",
    r_v.backward_rule(np.full((2, 2), 5.0))[0],
    [[0.0, 5.0], [5.0, 0.0]],
    "the gradient relu passes for dout = 5",
    hint="dout where the INPUT was positive, 0 elsewhere, eq. (6)",
)
s_v = sum_all(Variable(a_v))
check("sum", s_v.data, 0.0, "sum_all of [[-1, 2], [3, -4]]")
check(
    "sum_rule",
    s_v.backward_rule(np.array(2.0))[0],
    np.full((2, 2), 2.0),
    "the gradient sum_all sends for dout = 2",
    hint="every entry gets dout, in an array of the input's shape, eq. (7)",
)
c_v = softmax_cross_entropy(Variable(np.zeros((2, 4))), np.array([1, 3]))
check("ce", c_v.data, np.log(4.0), "the loss of all-zero scores over 4 classes (log 4)")
check(
    "ce_rule",
    c_v.backward_rule(np.array(1.0))[0],
    (np.full((2, 4), 0.25) - np.eye(4)[[1, 3]]) / 2,
    "dS for all-zero scores, labels (1, 3), dout = 1",
    hint="(P - Y) / N times dout, eq. (8): the mean over the batch brings the 1/N",
)
big_v = softmax_cross_entropy(Variable([[1000.0, 0.0]]), np.array([0]))
check(
    "ce_large",
    big_v.data,
    0.0,
    "the loss of scores (1000, 0) for label 0",
    tol=1e-9,
    hint="subtract each row's maximum before np.exp, or e^1000 overflows",
)
print("relu, sum_all, softmax_cross_entropy: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch06_rules_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""The three rules on hidden shapes (N = 1, 17), large scores and random dout."""
import numpy as np

from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(6002)
for shape_h in ((1, 5), (17, 3), (2, 3, 4)):
    a_h = rng_h.normal(size=shape_h)
    dout_h = rng_h.normal(size=shape_h)
    r_h = relu(Variable(a_h))
    record(
        f"relu_{shape_h}", getattr(r_h, "data", None), tol=1e-12, about=f"relu of shape {shape_h}"
    )
    record(
        f"relu_rule_{shape_h}",
        r_h.backward_rule(dout_h)[0],
        tol=1e-12,
        about=f"relu's gradient, shape {shape_h}",
    )
    s_h = sum_all(Variable(a_h))
    record(
        f"sum_{shape_h}", getattr(s_h, "data", None), tol=1e-12, about=f"sum_all of shape {shape_h}"
    )
    record(
        f"sum_rule_{shape_h}",
        s_h.backward_rule(np.array(-1.5))[0],
        tol=1e-12,
        about=f"sum_all's gradient, shape {shape_h}",
    )
for N_h, K_h, scale_h in ((1, 10, 1.0), (17, 4, 1.0), (6, 5, 1000.0)):
    S_h = scale_h * rng_h.normal(size=(N_h, K_h))
    y_h = rng_h.integers(0, K_h, size=N_h)
    c_h = softmax_cross_entropy(Variable(S_h), y_h)
    case_h = f"N = {N_h}, K = {K_h}, scores scaled by {scale_h}"
    record(f"ce_{case_h}", getattr(c_h, "data", None), tol=1e-9, about=f"the loss for {case_h}")
    record(
        f"ce_rule_{case_h}",
        c_h.backward_rule(np.array(0.7))[0],
        tol=1e-9,
        about=f"dS for {case_h}, dout = 0.7",
    )
### END HIDDEN TESTS

# %% [markdown]
# ## 4. In which order? A topological sort
#
# Eq. (1) needs the gradient of a node to be complete before its rule passes it on, so the backward
# pass must visit every node **after all of its children**. Turned around: list the nodes so that
# every node comes **after all of its parents** — a *topological order* of the graph — and run the
# backward pass through that list in reverse. The forward pass itself computed the nodes in such an
# order; the graph has kept only the parents, so we recover one by a depth-first search from the
# output: visit a node's parents first, then append the node,
#
# $$ \text{visit}(v):\ \text{if } v \text{ is new: mark it, visit each parent of } v,
#    \text{ then append } v . \tag{9} $$
#
# The output comes last, and a node reached along two paths (our $x$) is listed once. For
# $f = (xy + z)x$ one topological order is $x, y, p, z, q, f$; $y, x, z, p, q, f$ is another. Any
# one will do, and the tests accept any.
#
# ### Exercise 3 (implement): `topological_order`
#
# Return the list of every variable reachable from `root` through `parents`, each exactly once,
# each after all of its parents, `root` last. Compare variables by identity (`is`, or `id()` in a
# set), not by value: two different nodes may hold equal numbers. A recursive function inside is
# fine for our graphs; a loop with a stack of your own also works.


# %% nbgrader={"grade": false, "grade_id": "ch06_topological_order", "locked": false, "schema_version": 3, "solution": true, "task": false}
def topological_order(root):
    """Every Variable reachable from root through .parents, each once, each after its parents, root last (eq. 9)."""
    ### BEGIN SOLUTION
    order, seen = [], set()

    def visit(node):
        if id(node) in seen:
            return
        seen.add(id(node))
        for parent in node.parents:
            visit(parent)
        order.append(node)

    visit(root)
    return order
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch06_topological_order_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""topological_order of f = (x y + z) x: six nodes, each once, each after its parents, f last."""
from backproplab.grading import check

x_v, y_v, z_v = Variable(3.0, name="x"), Variable(-2.0, name="y"), Variable(4.0, name="z")
f_v = (x_v * y_v + z_v) * x_v
order_v = builtins.list(topological_order(f_v))
position_v = {builtins.id(node): i for i, node in builtins.enumerate(order_v)}
check(
    "count",
    builtins.len(order_v),
    6,
    "the number of nodes listed",
    hint="x is reached twice: list it once",
)
check(
    "each_once",
    builtins.len(position_v) == builtins.len(order_v) == 6,
    True,
    "every node of the graph listed exactly once",
    hint="mark a node as seen (by id) before you visit its parents",
)
check("root_last", order_v[-1] is f_v, True, "the output f is last")
check(
    "parents_first",
    builtins.all(
        position_v[builtins.id(p)] < position_v[builtins.id(n)] for n in order_v for p in n.parents
    ),
    True,
    "every node comes after all of its parents",
    hint="append a node only after visiting all of its parents, eq. (9)",
)
print("topological_order: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch06_topological_order_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""topological_order of hidden graphs: a leaf alone, a long chain, and a graph with many shared nodes."""
import numpy as np

from backproplab.grading import record


def order_facts_h(root):
    """What every correct order shares: which nodes it lists, how often, parents first, root last."""
    order = builtins.list(topological_order(root))
    position = {builtins.id(node): i for i, node in builtins.enumerate(order)}
    edges = [(p, n) for n in order for p in n.parents]
    return {
        "names": builtins.sorted(n.name for n in order),
        "listed_once": builtins.len(position) == builtins.len(order),
        "parents_first": [
            builtins.id(p) in position and position[builtins.id(p)] < position[builtins.id(n)]
            for p, n in edges
        ],
        "root_last": builtins.bool(order) and order[-1] is root,
    }


### BEGIN HIDDEN TESTS
def graph_h(kind):
    """The output of a hidden graph whose every node has a unique name."""
    if kind == "leaf":
        return Variable(1.0, name="a")
    if kind == "chain":
        node = Variable(0.5, name="n0")
        for i in builtins.range(1, 40):
            node = node * 1.01
            node.name = f"n{i}"
        return node
    a, b = Variable(1.0, name="a"), Variable(2.0, name="b")
    layers = [a, b]
    for i in builtins.range(8):  # every node feeds the next two: many paths to a and b
        nxt = layers[-1] * layers[-2] + a
        nxt.name = f"m{i}"
        layers.append(nxt)
    return layers[-1]


for kind_h in ("leaf", "chain", "shared"):
    root_h = graph_h(kind_h)
    for fact_h, value_h in order_facts_h(root_h).items():
        record(
            f"{kind_h}_{fact_h}", value_h, about=f"{fact_h.replace('_', ' ')}, the {kind_h} graph"
        )
### END HIDDEN TESTS

# %% [markdown]
# ## 5. `backward()`
#
# Now the backward pass itself. The output $f$ of the graph is a number (a loss), and
# $\bar f = \partial f/\partial f = 1$. Walk the topological order **in reverse**; at each node that
# has a backward rule, call it with the node's (now complete) gradient and **add** each result to the
# gradient of the matching parent, eq. (2). Leaves have no rule: their gradient is the answer.
#
# Like PyTorch, `backward` adds to whatever is in `grad` already; a training step therefore
# sets the parameters' gradients to zero before each backward pass (`zero_grad`). The nodes inside
# the graph are new at every forward pass, so their gradients start at zero.
#
# ### Exercise 4 (implement): `backward`


# %% nbgrader={"grade": false, "grade_id": "ch06_backward", "locked": false, "schema_version": 3, "solution": true, "task": false}
def backward(root):
    """Fill .grad of every variable root depends on with d(root)/d(variable), eqs. (1)-(2).

    root: a Variable holding one number (a loss). Sets root.grad to 1, then, in the reverse of
    topological_order(root), adds each node's backward_rule(node.grad) to its parents' grads.
    """
    ### BEGIN SOLUTION
    root.grad = np.ones_like(root.data)
    for node in reversed(topological_order(root)):
        if node.backward_rule is None:
            continue
        for parent, grad in zip(node.parents, node.backward_rule(node.grad)):
            parent.grad = parent.grad + grad  # accumulate: eq. (1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch06_backward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""backward on f = (x y + z) x at (3, -2, 4): chapter 02's gradients (-8, 9, 3), f.grad = 1."""
from backproplab.grading import check

x_v, y_v, z_v = Variable(3.0, name="x"), Variable(-2.0, name="y"), Variable(4.0, name="z")
f_v = (x_v * y_v + z_v) * x_v
backward(f_v)
check("df", f_v.grad, 1.0, "f.grad", hint="the backward pass starts from d f / d f = 1")
check("dy", y_v.grad, 9.0, "y.grad at (3, -2, 4)")
check("dz", z_v.grad, 3.0, "z.grad at (3, -2, 4)")
check(
    "dx",
    x_v.grad,
    -8.0,
    "x.grad at (3, -2, 4)",
    hint="x has two children: ADD both contributions to x.grad (eq. 1); do not overwrite it",
)
print("backward: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch06_backward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""backward on hidden graphs: fan-out with broadcasting, a deep chain, and two passes that add up."""
import numpy as np

from backproplab.grading import record


def total_h(a):
    """The test's own sum of all entries, so that this test does not depend on Exercise 2."""
    return Variable(a.data.sum(), (a,), lambda dout: (dout * np.ones_like(a.data),), "sum")


### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(6004)
a_h = Variable(rng_h.normal(size=(4, 3)), name="a")
b_h = Variable(rng_h.normal(size=(3,)), name="b")
c_h = Variable(rng_h.normal(size=(4, 1)), name="c")
u_h = a_h * b_h + c_h  # b broadcast over the rows, c over the columns
v_h = u_h * u_h + a_h * c_h  # u, a and c each used twice
backward(total_h(v_h * 0.5))
for leaf_h in (a_h, b_h, c_h):
    record(
        f"d{leaf_h.name}",
        leaf_h.grad,
        tol=1e-10,
        about=f"{leaf_h.name}.grad in a graph with fan-out and broadcasting",
    )
s_h = Variable(0.9, name="s")
t_h = s_h
for _ in builtins.range(12):  # every node used twice: the gradient adds up over many paths
    t_h = t_h * t_h + s_h * 0.1
backward(t_h)
record(
    "ds_chain", s_h.grad, tol=1e-10, about="s.grad in a deep chain where every node is used twice"
)
w_h = Variable(2.0, name="w")
backward(w_h * 3.0)
backward(w_h * w_h)
record(
    "dw_two_passes",
    w_h.grad,
    tol=1e-12,
    about="w.grad after backward of 3w and then of w*w (3 + 4: a second pass adds)",
)
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Chapter 02's network, with no backward pass written by hand
#
# Chapter 02 trained a network $64 \to 64 \to 10$ on the 8×8 digits: an affine layer, ReLU, an
# affine layer and the softmax cross-entropy, with a `*_backward` function for each. With the
# engine, the forward pass is all we write,
#
# $$ C = \text{CE}\big(\text{relu}(X W_1 + b_1)\, W_2 + b_2,\ y\big), \tag{10} $$
#
# and `backward(C)` fills `W1.grad`, `b1.grad`, `W2.grad` and `b2.grad`. The bias additions are
# broadcast additions: `add`'s `unbroadcast` turns them into chapter 02's $db = \sum_n \text{dout}_n$.
#
# ### Exercise 5 (implement): `mlp_loss`
#
# `params` is a dict of four leaf variables `"W1"` $(D, H)$, `"b1"` $(H,)$, `"W2"` $(H, K)$ and
# `"b2"` $(K,)$. Build eq. (10) from your operations and return the loss variable. `X` and `y` are
# plain arrays.


# %% nbgrader={"grade": false, "grade_id": "ch06_mlp_loss", "locked": false, "schema_version": 3, "solution": true, "task": false}
def mlp_loss(X, y, params):
    """The loss (10) of a two-layer ReLU network as a graph: a 0-d Variable.

    X: (N, D) inputs, y: (N,) integer labels; params: {"W1": (D, H), "b1": (H,), "W2": (H, K),
    "b2": (K,)}, each a Variable. After backward(loss), each parameter's .grad holds dC/dparameter.
    """
    ### BEGIN SOLUTION
    hidden = relu(matmul(X, params["W1"]) + params["b1"])
    scores = matmul(hidden, params["W2"]) + params["b2"]
    return softmax_cross_entropy(scores, y)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch06_mlp_loss_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""mlp_loss on 5 digits-sized inputs: the loss and all four gradients equal chapter 02's layers."""
import numpy as np

from backproplab.grading import check

rng_v = np.random.default_rng(60)
X_v, y_v = rng_v.random((5, 64)), np.array([0, 3, 9, 3, 1])
start_v = {
    "W1": rng_v.normal(0, 0.2, (64, 8)),
    "b1": rng_v.normal(0, 0.1, 8),
    "W2": rng_v.normal(0, 0.2, (8, 10)),
    "b2": rng_v.normal(0, 0.1, 10),
}
params_v = {k: Variable(v, name=k) for k, v in start_v.items()}
loss_v = mlp_loss(X_v, y_v, params_v)
backward(loss_v)
# chapter 02's layers, forward and backward by hand
h_v, cache1_v = affine_forward(X_v, start_v["W1"], start_v["b1"])
r_v, cache_r_v = relu_forward(h_v)
s_v, cache2_v = affine_forward(r_v, start_v["W2"], start_v["b2"])
loss_ref_v, dscores_v = softmax_loss(s_v, y_v)
dr_v, dW2_v, db2_v = affine_backward(dscores_v, cache2_v)
dX_v, dW1_v, db1_v = affine_backward(relu_backward(dr_v, cache_r_v), cache1_v)
check("loss", loss_v.data, loss_ref_v, "the loss (10), against chapter 02's layers")
for name_v, ref_v in (("W1", dW1_v), ("b1", db1_v), ("W2", dW2_v), ("b2", db2_v)):
    check(
        f"d{name_v}",
        params_v[name_v].grad,
        ref_v,
        f"{name_v}.grad after backward(loss), against chapter 02's layers",
        hint="relu(X @ W1 + b1) @ W2 + b2, then softmax_cross_entropy, eq. (10)",
    )
print("mlp_loss: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch06_mlp_loss_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""mlp_loss on hidden sizes (N = 1 and 17): the loss and the gradients of the four parameters."""
import numpy as np

from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(6005)
for N_h, D_h, H_h, K_h in ((1, 6, 4, 3), (17, 10, 7, 5)):
    params_h = {
        "W1": Variable(rng_h.normal(0, 0.5, (D_h, H_h))),
        "b1": Variable(rng_h.normal(0, 0.1, H_h)),
        "W2": Variable(rng_h.normal(0, 0.5, (H_h, K_h))),
        "b2": Variable(rng_h.normal(0, 0.1, K_h)),
    }
    X_h, y_h = rng_h.normal(size=(N_h, D_h)), rng_h.integers(0, K_h, N_h)
    loss_h = mlp_loss(X_h, y_h, params_h)
    case_h = f"N, D, H, K = {N_h}, {D_h}, {H_h}, {K_h}"
    record(
        f"loss_{case_h}", getattr(loss_h, "data", None), tol=1e-9, about=f"the loss for {case_h}"
    )
    backward(loss_h)
    for name_h, tensor_h in params_h.items():
        record(f"d{name_h}_{case_h}", tensor_h.grad, tol=1e-9, about=f"{name_h}.grad for {case_h}")
### END HIDDEN TESTS

# %% [markdown]
# ### Two independent checks
#
# The visible test compared the engine with chapter 02's hand-written layers. Two more
# checks make it trustworthy: centred differences (chapter 02's eq. 20) on the same loss, and
# PyTorch's autograd — an independent, industrial implementation of the same idea — on the
# same numbers in float64. All three should agree to about $10^{-9}$ or better.

# %%
import torch

rng = np.random.default_rng(1)
X_check, y_check = rng.random((7, 64)), rng.integers(0, 10, 7)
start = {
    "W1": rng.normal(0, 0.2, (64, 16)),
    "b1": rng.normal(0, 0.1, 16),
    "W2": rng.normal(0, 0.2, (16, 10)),
    "b2": rng.normal(0, 0.1, 10),
}
params = {k: Variable(v, name=k) for k, v in start.items()}
backward(mlp_loss(X_check, y_check, params))

theirs = {k: torch.tensor(v, requires_grad=True) for k, v in start.items()}
torch_scores = torch.relu(torch.from_numpy(X_check) @ theirs["W1"] + theirs["b1"]) @ theirs["W2"]
torch_loss = torch.nn.functional.cross_entropy(
    torch_scores + theirs["b2"], torch.from_numpy(y_check)
)
torch_loss.backward()


def loss_of(name):
    """The loss as a function of one parameter's array (for centred differences)."""

    def loss(value):
        trial = {k: Variable(value if k == name else v) for k, v in start.items()}
        return float(mlp_loss(X_check, y_check, trial).data)

    return loss


for name in start:
    numeric = numerical_gradient(loss_of(name), start[name].copy())
    print(
        f"{name}: rel. error against PyTorch {rel_error(params[name].grad, theirs[name].grad.numpy()):.1e}, "
        f"against centred differences {rel_error(params[name].grad, numeric):.1e}"
    )

# %% [markdown]
# ### Training
#
# The training loop is chapter 02's, with the engine in place of the backward passes: for each
# mini-batch, zero the parameters' gradients, build the graph (10), `backward`, and step,
# $\theta \leftarrow \theta - \eta\,\bar\theta$. Same network (He initialisation, seed 0), same
# batches of 32 and $\eta = 0.2$, 40 epochs. (When your notebook is graded, this cell shrinks to
# 2 epochs; nothing graded depends on it.)

# %%
X_all, y_all, X_test, y_test = load_digits_split()


def he_params(sizes, seed):
    """{"W1", "b1", "W2", "b2"} leaf variables for layer sizes (D, H, K): N(0, 2/fan-in) weights, zero biases."""
    rng = np.random.default_rng(seed)
    params = {}
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{i}"] = Variable(
            rng.normal(0, np.sqrt(2 / fan_in), (fan_in, fan_out)), name=f"W{i}"
        )
        params[f"b{i}"] = Variable(np.zeros(fan_out), name=f"b{i}")
    return params


def train_with_autograd(params, X, y, lr, num_epochs, batch_size, seed=0):
    """Mini-batch SGD on mlp_loss, the gradients by backward(); the mean training loss per epoch."""
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(num_epochs):
        order, epoch_losses = rng.permutation(len(X)), []
        for first in range(0, len(X), batch_size):
            batch = order[first : first + batch_size]
            for p in params.values():
                p.grad = np.zeros_like(p.data)  # zero_grad: backward adds
            loss = mlp_loss(X[batch], y[batch], params)
            backward(loss)
            for p in params.values():
                p.data -= lr * p.grad
            epoch_losses.append(float(loss.data))
        losses.append(np.mean(epoch_losses))
    return losses


def accuracy(params, X, y):
    """The share of X's rows whose largest score is the label y: eq. (10)'s forward pass on plain arrays, no graph."""
    hidden = np.maximum(X @ params["W1"].data + params["b1"].data, 0)
    return np.mean((hidden @ params["W2"].data + params["b2"].data).argmax(axis=1) == y)


num_epochs = 2 if smoke_test else 40
net = he_params((64, 64, 10), seed=0)
start_time = time.perf_counter()
epoch_losses = train_with_autograd(net, X_all, y_all, lr=0.2, num_epochs=num_epochs, batch_size=32)
seconds = time.perf_counter() - start_time
print(
    f"{num_epochs} epochs in {seconds:.2f} s; training loss {epoch_losses[0]:.3f} -> {epoch_losses[-1]:.4f}; "
    f"train accuracy {accuracy(net, X_all, y_all):.4f}, TEST accuracy {accuracy(net, X_test, y_test):.4f}"
)

fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(range(1, num_epochs + 1), epoch_losses, marker=".")
ax.set(
    xlabel="epoch",
    ylabel="mean training loss",
    yscale="log",
    title="chapter 02's network, trained by autograd",
)
ax.grid(alpha=0.3)
show_figure(
    fig,
    "The mean training loss per epoch of the 64-64-10 network trained with gradients from backward(), "
    "on a log scale, falling steadily.",
)

# %% [markdown]
# In our run, 40 epochs on the 1,437 training digits took 1.3 s and reached 97.2 % test
# accuracy: chapter 02's result, as it must be, since the gradients are the same numbers. What the
# engine costs is a little bookkeeping per operation (a Python object and a closure per node), which
# is small next to the matrix products here; on tiny scalar graphs, like the circuit of section 1,
# the bookkeeping is all there is.
#
# ## 7. Explore: the graph, its values and its gradients
#
# The panel below builds the circuit of section 1, $f = (x y + z)\,x$, for the values on the
# sliders, runs **your** `backward` on it, lists the nodes with **your** `topological_order` and
# draws every node with its value and its gradient, the inputs on the left and $f$ on the right.


# %%
def circuit(x, y, z):
    """f = (x y + z) x of section 1, as a graph with named inputs."""
    x, y, z = Variable(x, name="x"), Variable(y, name="y"), Variable(z, name="z")
    p = x * y
    q = p + z
    f = q * x
    p.name, q.name, f.name = "p", "q", "f"
    return f


graph_viewer(circuit, topological_order, backward)

# %% [markdown]
# ### Exercise 6 (explore + explain): what the engine does
#
# Use the panel and your code. (a) Set $(x, y, z) = (3, -2, 4)$. Which node has two children, and
# what two numbers does its gradient add up? What would `x.grad` be if `backward` overwrote a
# gradient instead of adding to it, and why does the order of section 4 not rescue that? (b) Why
# must every node come after all of its children in the backward pass — what goes wrong, in this
# circuit, if $p$'s rule runs before $q$'s? (c) The forward pass of `mlp_loss` for a batch of $N$
# digits keeps every intermediate array alive until `backward` has run. Which arrays are they, and
# how does that memory grow with $N$ and with the number of layers? Why does a framework free the
# graph after `backward` (PyTorch does), and what does `torch.no_grad()` save at evaluation time?

# %% [markdown] nbgrader={"grade": true, "grade_id": "ch06_explain_engine", "locked": false, "points": 3, "schema_version": 3, "solution": true, "task": false}
# **Model answer.** (a) $x$ is used twice: by $p = xy$ and by $f = qx$. At $(3, -2, 4)$ its gradient
# is $\bar f\,q + \bar p\,y = -2 + 3\cdot(-2) = -8$: the direct path gives $q = -2$, the path through
# $p$ gives $-6$. Overwriting keeps only the contribution that arrives last — $-6$ with the order
# $x, y, p, z, q, f$ reversed (the rule of $p$ runs after that of $f$), $-2$ with another order — so
# `x.grad` is wrong whatever order is used; the order only decides *which* half is lost. (b) A
# node's rule multiplies its gradient by local derivatives and sends it on; the gradient must be
# complete first. If $p$'s rule ran before $q$'s, $\bar p$ would still be 0 (it arrives from $q$),
# so $x$ and $y$ would get 0 from that path, and the later contribution of $q$ to $\bar p$ would never
# be passed on. (c) For each node the forward pass keeps its `data` and whatever its rule closes
# over: $X$, $XW_1$, $XW_1 + b_1$, the ReLU output (and its mask), the scores, their sum with $b_2$,
# and the softmax's $P$ and $Y$ — arrays of $N \times H$ and $N \times K$ entries, so the memory grows
# linearly with $N$ and with the number of layers (their widths), on top of the parameters. Freeing
# the graph after `backward` returns that memory at once (a training step needs one graph at a
# time); `torch.no_grad()` records no graph at all during evaluation, so none of those
# intermediates (nor the closures) is kept, and evaluation needs memory for one layer's output at a
# time.
#
# **Rubric (3 points).**
# - 1 point (a): $x$ has two children; $-2$ and $-6$ add to $-8$; overwriting loses one of them
#   whatever the order.
# - 1 point (b): the gradient of a node must be complete before its rule uses it; an example of
#   what is lost ($\bar p = 0$ when its rule runs early).
# - 1 point (c): names the kept intermediates (inputs of each rule, $N \times$ width arrays), linear
#   growth in $N$ and layers, and that freeing the graph / `no_grad` avoids keeping them.
#   Parameters only, or "gradients take memory": ½.

# %% [markdown]
# <details><summary>Note on the source: a graph that is a chain (von Hacht, sec. 3.1.5–3.1.6)</summary>
#
# The thesis builds its network as a *computational graph* of template nodes, each with one input
# edge and one output edge, and runs the backward pass from the last node's output edge to the
# first node's input edge. That is a **chain**: every node has one parent and one child, the order
# of the backward pass is simply the reverse of the forward pass, and no gradient ever needs adding.
# This is an omission rather than an error — the thesis' networks are chains — but it leaves out
# what makes a general engine work: graphs in which a value feeds several nodes (a residual
# connection, a weight shared between layers, the $x$ of section 1) need the sum of eq. (1) and an
# order that puts each node after all of its children (section 4). (Its Figure 3.2's arithmetic
# holds: $32 \times 16 \times 16 = 8192$ inputs to the dense layer.)
#
# </details>
#
# ## Summary
#
# - Reverse-mode automatic differentiation records, in the forward pass, each node's parents and a
#   backward rule; the backward pass applies the rules from the output back, and a node's gradient
#   is the **sum** over its children, eq. (1) — chapter 02's fan-out, done by a program.
# - A backward rule is a vector-Jacobian product, eq. (2): add and multiply (3)–(4), with
#   broadcasting undone by summing; the matrix product $\bar A = \bar U B^{\mathsf T}$,
#   $\bar B = A^{\mathsf T}\bar U$ (5); ReLU (6); a sum (7); the softmax cross-entropy $(P - Y)/N$ (8).
# - The backward pass runs in the reverse of a **topological order**, found by a depth-first search
#   that lists each node after its parents (9); gradients **accumulate**, so a training step zeroes
#   the parameters' gradients first.
# - With it, chapter 02's network trains to the same 97 % with no hand-written backward pass, and its
#   gradients agree with chapter 02's layers, centred differences and PyTorch to about $10^{-10}$.
#
# ## Next: chapter 07, PyTorch
#
# PyTorch's autograd is this chapter's engine, grown up: tensors with `requires_grad` record the
# graph, `loss.backward()` runs it in reverse and accumulates into `.grad`, `optimizer.zero_grad()`
# clears them, and `torch.no_grad()` records nothing. It knows hundreds of operations — convolutions
# included — and runs them on GPUs. Chapter 07 uses it as an oracle for our layers of chapters
# 02–05, rebuilds Table 3.2's network as an `nn.Module` and trains it.
#
# ## References
#
# The texts this chapter is built from, cited by author and section:
#
# - **Lohiya** — S. Lohiya, *Deep Learning and Computer Vision*, report, Summer of Science,
#   IIT Bombay, June 2019; it follows Stanford's course CS231n.
# - **von Hacht** — A. von Hacht, *Implementation of Deep Feedforward Neural Network with
#   CUDA backend for Efficient and Accurate Natural Image Classification*, MSc thesis,
#   Chalmers University of Technology, 2017 ("the thesis").
#
# Other works the chapter cites:
#
# - A. G. Baydin, B. A. Pearlmutter, A. A. Radul and J. M. Siskind, "Automatic Differentiation in
#   Machine Learning: a Survey", *Journal of Machine Learning Research* 18(153), 2018.
# - A. Griewank and A. Walther, *Evaluating Derivatives: Principles and Techniques of Algorithmic
#   Differentiation*, 2nd ed., SIAM, 2008.
# - A. Karpathy, *micrograd*, a tiny scalar-valued autograd engine (github.com/karpathy/micrograd).
# - S. Rush, *MiniTorch*, a DIY teaching library (minitorch.github.io).
# - A. Paszke et al., "Automatic differentiation in PyTorch", NIPS 2017 Autodiff Workshop.
