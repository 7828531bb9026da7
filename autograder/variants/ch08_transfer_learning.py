"""Correct answers of chapter 08 written unlike the solution (see autograder.variants)."""

from autograder.variants import Variant

# Exercise 1 with a head drawn from N(0, 0.01) and a zero bias (a common choice for a new classifier).
HEAD_NORMAL = """
def replace_head(model, num_classes, head_name="head"):
    old = getattr(model, head_name)
    head = nn.Linear(old.in_features, num_classes)
    nn.init.normal_(head.weight, mean=0.0, std=0.01)
    nn.init.zeros_(head.bias)
    setattr(model, head_name, head.to(device=old.weight.device, dtype=old.weight.dtype))
    return model
"""

# Exercise 1 with Xavier's initialisation, .to(tensor) for the dtype and device, and add_module.
HEAD_XAVIER = """
def replace_head(model, num_classes, head_name="head"):
    old = model.get_submodule(head_name)
    head = nn.Linear(in_features=old.weight.shape[1], out_features=num_classes).to(old.weight)
    with torch.no_grad():
        nn.init.xavier_uniform_(head.weight)
        head.bias.uniform_(-0.05, 0.05)
    model.add_module(head_name, head)
    return model
"""

SET_TRAIN_MODE_NAMES = """
def _all_frozen(module):
    own = list(module.parameters(recurse=False))
    return len(own) > 0 and all(not p.requires_grad for p in own)


def set_train_mode(model):
    model.train(True)
    frozen_bn = [name for name, m in model.named_modules() if isinstance(m, BATCH_NORMS) and _all_frozen(m)]
    for name in frozen_bn:
        model.get_submodule(name).train(False)
    return model
"""

# `from torch import *` at the top of the first answer cell: sum, any, all, range, max... are torch's
# in every later cell, so this student's later answers do without them.
REPLACE_HEAD_STAR = """
from torch import *


def replace_head(model, num_classes, head_name="head"):
    old = getattr(model, head_name)
    setattr(model, head_name, nn.Linear(old.in_features, num_classes, device=old.weight.device, dtype=old.weight.dtype))
    return model
"""

SET_TRAIN_MODE_STAR = """
def set_train_mode(model):
    model.train()
    for module in model.modules():
        if isinstance(module, BATCH_NORMS):
            own = list(module.parameters(recurse=False))
            trainable = [p for p in own if p.requires_grad]
            if len(own) > 0 and len(trainable) == 0:
                module.eval()
    return model
"""

PREDICT_STAR = """
def predict_proba(model, X, batch_size=256):
    saved = {module: module.training for module in model.modules()}
    model.eval()
    with no_grad():
        probs = cat([softmax(model(chunk), dim=1) for chunk in X.split(batch_size)])
    for module, mode in saved.items():
        module.training = mode
    return probs
"""

FREEZE_REQUIRES_GRAD_ = """
def freeze_backbone(model, head_name="head"):
    model.requires_grad_(False)
    getattr(model, head_name).requires_grad_(True)
    return model
"""

PARAM_GROUPS_IDS = """
def param_groups(model, lr_head, lr_backbone, head_name="head"):
    head_ids = {id(p) for p in getattr(model, head_name).parameters()}
    trainable = [p for p in model.parameters() if p.requires_grad]
    head = [p for p in trainable if id(p) in head_ids]
    backbone = [p for p in trainable if id(p) not in head_ids]
    groups = []
    if backbone:
        groups.append(dict(params=backbone, lr=lr_backbone))
    if head:
        groups.append(dict(params=head, lr=lr_head))
    return groups
"""

# Exercise 5 with the softmax written out in float64 (the probabilities come back in float64) and a while loop.
PREDICT_FLOAT64 = '''
def stable_softmax(scores):
    """Row-wise softmax in float64, eq. (6), with the row maximum subtracted first."""
    z = scores.double()
    z = z - z.max(dim=1, keepdim=True).values
    e = torch.exp(z)
    return e / e.sum(dim=1, keepdim=True)


def predict_proba(model, X, batch_size=256):
    flags = [m.training for m in model.modules()]
    model.eval()
    out, start = [], 0
    with torch.no_grad():
        while start < len(X):
            out.append(stable_softmax(model(X[start:start + batch_size])))
            start += batch_size
    for m, flag in zip(model.modules(), flags):
        m.training = flag
    return torch.cat(out, dim=0)
'''

PRINT_HEAD = """
import warnings

demo_model = replace_head(load_pretrained(), 3)
print(demo_model.head, demo_model.head.weight.std().item())
warnings.warn("the head is random until trained")
"""

PRINT_FROZEN = """
demo_model = freeze_backbone(replace_head(load_pretrained(), 10))
print("trainable:", sum(p.numel() for p in demo_model.parameters() if p.requires_grad))
print({n: p.requires_grad for n, p in demo_model.named_parameters()})
"""

# a student cell with `from numpy import *` before a test cell (numpy's record, copy, sum... shadow the notebook's)
NUMPY_STAR = """
from numpy import *

print(sqrt(2.0), pi)
"""

PLOT_PROBS = """
demo_model = replace_head(load_pretrained(), 10)
p = predict_proba(demo_model, X_test[:4])
fig, ax = plt.subplots(1, 4, figsize=(10, 2))
for i in range(4):
    ax[i].bar(range(10), p[i].numpy())
    ax[i].set_title(f"label {y_test[i].item()}")
plt.show()
print(p.sum(dim=1))
"""

# Exercise 8 with .backward() on a one-hot mask, the parameters' .grad saved and put back, modes
# restored with .train(flag) parent first, and the maximum over channels by stacking them.
SALIENCY_BACKWARD = """def saliency_map(model, X, y):
    was = [(m, m.training) for m in model.modules()]
    saved = [(p, None if p.grad is None else p.grad.clone()) for p in model.parameters()]
    model.train(False)
    x = X.clone().detach()
    x.requires_grad = True
    logits = model(x)
    mask = torch.nn.functional.one_hot(y, logits.shape[1]).to(logits.dtype)
    (logits * mask).sum().backward()
    for p, g in saved:
        p.grad = g
    for m, flag in was:  # parents first: each child then gets its own flag back
        m.train(flag)
    per_channel = [x.grad[:, c].abs() for c in builtins.range(x.shape[1])]
    return torch.stack(per_channel).max(dim=0).values
"""

VARIANTS = [
    Variant(
        name="head_normal_0_01",
        about="the new head drawn from N(0, 0.01) with a zero bias, moved to the old head's dtype and device afterwards",
        answers={"ch08_replace_head": HEAD_NORMAL},
    ),
    Variant(
        name="head_xavier_modules_by_name",
        about="a Xavier-initialised head put in with add_module and .to(old.weight); set_train_mode through "
        "named_modules, get_submodule and all()",
        answers={"ch08_replace_head": HEAD_XAVIER, "ch08_set_train_mode": SET_TRAIN_MODE_NAMES},
    ),
    Variant(
        name="star_import_torch",
        about="`from torch import *` at the top of the first answer cell; the later answers use torch's cat, "
        "softmax, no_grad and Tensor.split and no bare any/range",
        answers={
            "ch08_replace_head": REPLACE_HEAD_STAR,
            "ch08_set_train_mode": SET_TRAIN_MODE_STAR,
            "ch08_predict_proba": PREDICT_STAR,
        },
    ),
    Variant(
        name="float64_softmax_and_id_sets",
        about="freezing by requires_grad_ on modules, parameter groups by id sets, probabilities by a softmax "
        "written out in float64 in a while loop",
        answers={
            "ch08_freeze_backbone": FREEZE_REQUIRES_GRAD_,
            "ch08_param_groups": PARAM_GROUPS_IDS,
            "ch08_predict_proba": PREDICT_FLOAT64,
        },
    ),
    Variant(
        name="saliency_by_backward_and_one_hot",
        about="saliency with .backward() on a one-hot mask of the logits, the parameters' .grad saved and "
        "put back, modes restored with .train(flag), the maximum over channels by stacking them",
        answers={"ch08_saliency": SALIENCY_BACKWARD},
    ),
    Variant(
        name="extra_cells_print_warn_plot",
        about="the solution with cells of the student's own that build heads (using the global random numbers), "
        "print, warn, plot probabilities, and star-import numpy before the last two exercises' tests (so this "
        "student's set_train_mode does without the bare any that numpy's star import rebinds)",
        answers={"ch08_set_train_mode": SET_TRAIN_MODE_STAR},
        added=(
            ("ch08_replace_head", PRINT_HEAD),
            ("ch08_freeze_backbone", PRINT_FROZEN),
            ("ch08_param_groups", NUMPY_STAR),
            ("ch08_predict_proba", NUMPY_STAR),
            ("ch08_predict_proba", PLOT_PROBS),
        ),
    ),
]
