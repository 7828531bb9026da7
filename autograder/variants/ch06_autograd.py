"""Correct answers of chapter 06 written unlike the solution (see autograder.variants)."""

from autograder.variants import Variant

MATMUL_EINSUM = """def matmul(A, B):
    A = A if isinstance(A, Variable) else Variable(A)
    B = B if isinstance(B, Variable) else Variable(B)
    out = Variable(np.einsum("nd,dm->nm", A.data, B.data), parents=[A, B], op="@")

    def rule(dout):
        dA = np.einsum("nm,dm->nd", dout, B.data)
        dB = np.einsum("nd,nm->dm", A.data, dout)
        return [dA, dB]

    out.backward_rule = rule
    return out
"""

RULES_OTHER_FORMULAS = """import math


def relu(a):
    a = as_variable(a)
    mask = np.where(a.data > 0, 1.0, 0.0)
    return Variable(a.data * mask, [a], lambda dout: [dout * mask], "relu")


def sum_all(a):
    a = as_variable(a)
    total = 0.0
    for value in a.data.flat:
        total += value
    return Variable(total, [a], lambda dout: [np.full(a.shape, float(dout))], "sum")


def softmax_cross_entropy(scores, y):
    scores = as_variable(scores)
    N, K = scores.shape
    losses, dS = [], np.empty((N, K))
    for n in range(N):
        row = scores.data[n]
        m = max(row)
        exps = [math.exp(s - m) for s in row]
        total = sum(exps)
        losses.append(math.log(total) + m - row[y[n]])
        for k in range(K):
            dS[n, k] = (exps[k] / total - (1.0 if k == y[n] else 0.0)) / N
    return Variable(sum(losses) / N, [scores], lambda dout: [float(dout) * dS], "cross-entropy")
"""

TOPOLOGICAL_WITH_A_STACK = """def topological_order(root):
    # Kahn's algorithm on the reversed edges: count each node's children, then peel from the root
    nodes, stack = {}, [root]
    while stack:
        node = stack.pop()
        if id(node) not in nodes:
            nodes[id(node)] = node
            stack.extend(node.parents)
    children = {key: 0 for key in nodes}
    for node in nodes.values():
        for parent in node.parents:
            children[id(parent)] += 1
    ready, reverse_order = [root], []
    while ready:
        node = ready.pop()
        reverse_order.append(node)
        for parent in node.parents:
            children[id(parent)] -= 1
            if children[id(parent)] == 0:
                ready.append(parent)
    return reverse_order[::-1]
"""

BACKWARD_IN_PLACE = """def backward(root):
    order = topological_order(root)
    root.grad = root.grad * 0 + 1.0
    for node in order[::-1]:
        if node.backward_rule:
            grads = node.backward_rule(node.grad)
            for i, parent in enumerate(node.parents):
                parent.grad += grads[i]
"""

MLP_OPERATORS = """def mlp_loss(X, y, params):
    W1, b1, W2, b2 = (params[k] for k in ("W1", "b1", "W2", "b2"))
    scores = relu(Variable(X) @ W1 + b1) @ W2 + b2
    loss = softmax_cross_entropy(scores, y)
    print("loss", float(loss.data))
    return loss
"""

MATMUL_STAR_NUMPY = """from numpy import *


def matmul(A, B):
    A, B = as_variable(A), as_variable(B)
    return Variable(dot(A.data, B.data), (A, B), lambda dout: (dot(dout, transpose(B.data)), dot(transpose(A.data), dout)), "@")
"""

RULES_STAR_NUMPY = """def relu(a):
    a = as_variable(a)
    return Variable(maximum(a.data, 0), (a,), lambda dout: (where(a.data > 0, dout, 0.0),), "relu")


def sum_all(a):
    a = as_variable(a)
    return Variable(sum(a.data), (a,), lambda dout: (full(a.data.shape, dout),), "sum")


def softmax_cross_entropy(scores, y):
    scores = as_variable(scores)
    N = scores.data.shape[0]
    rows = arange(N)
    log_p = scores.data - amax(scores.data, axis=1, keepdims=True)
    log_p = log_p - log(sum(exp(log_p), axis=1, keepdims=True))
    dS = exp(log_p)
    dS[rows, y] -= 1
    return Variable(-mean(log_p[rows, y]), (scores,), lambda dout: (dout * dS / N,), "cross-entropy")
"""

TOPOLOGICAL_ITERATIVE_POST_ORDER = """def topological_order(root):
    order, done = [], set()
    stack = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
            continue
        if id(node) in done:
            continue
        done.add(id(node))
        stack.append((node, True))
        for parent in reversed(node.parents):
            stack.append((parent, False))
    return order
"""

BACKWARD_WITH_A_HELPER = """def accumulate(tensor, grad):
    \"\"\"Add grad into tensor.grad (a helper of my own).\"\"\"
    tensor.grad = np.add(tensor.grad, grad)


def backward(root):
    nodes = topological_order(root)
    root.grad = np.ones(root.data.shape)
    for i in range(len(nodes) - 1, -1, -1):
        node = nodes[i]
        if node.backward_rule is not None:
            for parent, grad in zip(node.parents, node.backward_rule(node.grad)):
                accumulate(parent, grad)
"""

TOPOLOGICAL_BY_IDENTITY_SCAN = """def topological_order(root):
    order = []

    def listed(node):
        return any(node is other for other in order)

    def visit(node, path=()):
        for parent in node.parents:
            if not listed(parent):
                visit(parent)
        if not listed(node):
            order.append(node)

    visit(root)
    return order
"""

MLP_WITH_HELPERS = """def dense(X, W, b):
    return add(matmul(X, W), b)


def mlp_loss(X, y, params):
    scores = dense(relu(dense(X, params["W1"], params["b1"])), params["W2"], params["b2"])
    return softmax_cross_entropy(scores, np.asarray(y))
"""

PLOT_CELL = """import matplotlib.pyplot as plt

fig, ax = plt.subplots()
ax.plot([1, 2, 3], [3, 1, 2])
plt.show()
print("my own check:", matmul(np.eye(2), np.ones((2, 2))).data)
"""

VARIANTS = [
    Variant(
        name="einsum_loops_and_kahn",
        about="matmul by np.einsum with lists of parents, the rules by loops and math.exp, the order by "
        "Kahn's algorithm from the root, backward with += in place, the network with the @ operator and a print",
        answers={
            "ch06_matmul": MATMUL_EINSUM,
            "ch06_rules": RULES_OTHER_FORMULAS,
            "ch06_topological_order": TOPOLOGICAL_WITH_A_STACK,
            "ch06_backward": BACKWARD_IN_PLACE,
            "ch06_mlp_loss": MLP_OPERATORS,
        },
    ),
    Variant(
        name="star_numpy_bare_names",
        about="`from numpy import *` at the top of the first answer cell, then bare numpy names (dot, "
        "transpose, maximum, where, sum, amax, exp, log, mean) in matmul and the rules",
        answers={"ch06_matmul": MATMUL_STAR_NUMPY, "ch06_rules": RULES_STAR_NUMPY},
    ),
    Variant(
        name="iterative_post_order_and_a_helper",
        about="the order by an iterative depth-first search with a stack of (node, parents done) pairs, "
        "backward by an index loop and a helper that adds with np.add",
        answers={
            "ch06_topological_order": TOPOLOGICAL_ITERATIVE_POST_ORDER,
            "ch06_backward": BACKWARD_WITH_A_HELPER,
        },
    ),
    Variant(
        name="identity_scan_dense_helper_and_a_plot",
        about="the order by scanning the list with `is` (no set of ids), the network through a dense() helper, "
        "and a cell of the student's own that plots and prints",
        answers={
            "ch06_topological_order": TOPOLOGICAL_BY_IDENTITY_SCAN,
            "ch06_mlp_loss": MLP_WITH_HELPERS,
        },
        added=(("ch06_matmul", PLOT_CELL),),
    ),
]
