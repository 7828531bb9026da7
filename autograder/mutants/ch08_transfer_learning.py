"""Classic wrong solutions of chapter 08 (transfer learning), each an exact text replacement inside one
solution cell, and the test cells it must lose points in."""

from autograder.mutants import Mutant, both

MUTANTS = [
    # Exercise 1, replace_head
    Mutant(
        name="head_not_replaced",
        cell="ch08_replace_head",
        old="setattr(model, head_name, new_head)",
        new="pass",
        loses=both("ch08_replace_head"),
    ),
    Mutant(
        name="head_always_has_ten_classes",
        cell="ch08_replace_head",
        old="old_head.in_features,\n        num_classes,\n",
        new="old_head.in_features,\n        10,\n",
        loses=("ch08_replace_head_hidden",),
    ),
    # Exercise 2, freeze_backbone
    Mutant(
        name="backbone_not_frozen",
        cell="ch08_freeze_backbone",
        old='parameter.requires_grad = name.startswith(head_name + ".")',
        new="parameter.requires_grad = True",
        loses=both("ch08_freeze_backbone"),
    ),
    Mutant(
        name="head_frozen_too",
        cell="ch08_freeze_backbone",
        old='parameter.requires_grad = name.startswith(head_name + ".")',
        new="parameter.requires_grad = False",
        loses=both("ch08_freeze_backbone"),
    ),
    # Exercise 3, set_train_mode
    Mutant(
        name="frozen_bn_left_in_train_mode",
        cell="ch08_set_train_mode",
        old="leave them alone\n                module.eval()",
        new="leave them alone\n                pass",
        loses=both("ch08_set_train_mode"),
    ),
    Mutant(
        name="set_train_mode_puts_everything_in_eval",
        cell="ch08_set_train_mode",
        old="model.train()\n    for module",
        new="model.eval()\n    for module",
        loses=both("ch08_set_train_mode"),
    ),
    # Exercise 4, param_groups
    Mutant(
        name="optimizer_gets_frozen_parameters",
        cell="ch08_param_groups",
        old="if not parameter.requires_grad:",
        new="if False:",
        loses=both("ch08_param_groups"),
    ),
    Mutant(
        name="learning_rates_swapped",
        cell="ch08_param_groups",
        old='groups = [{"params": backbone, "lr": lr_backbone}, {"params": head, "lr": lr_head}]',
        new='groups = [{"params": backbone, "lr": lr_head}, {"params": head, "lr": lr_backbone}]',
        loses=both("ch08_param_groups"),
    ),
    # Exercise 5, predict_proba
    Mutant(
        name="predict_without_eval_mode",
        cell="ch08_predict_proba",
        old="    model.eval()\n",
        new="\n",
        loses=("ch08_predict_proba_hidden",),
    ),
    Mutant(
        name="predict_mode_not_restored",
        cell="ch08_predict_proba",
        old="        module.training = mode",
        new="        pass",
        loses=both("ch08_predict_proba"),
    ),
    Mutant(
        name="predict_restores_with_model_train",
        cell="ch08_predict_proba",
        old="for module, mode in modes:\n        module.training = mode",
        new="model.train(modes[0][1])",
        loses=both("ch08_predict_proba"),
    ),
    Mutant(
        name="softmax_over_the_batch_axis",
        cell="ch08_predict_proba",
        old="dim=1)",
        new="dim=0)",
        loses=both("ch08_predict_proba"),
    ),
    # Exercise 8, saliency
    Mutant(
        name="saliency_of_the_probability",
        cell="ch08_saliency",
        old="scores = model(x).gather(1, y.view(-1, 1)).sum()",
        new="scores = torch.softmax(model(x), dim=1).gather(1, y.view(-1, 1)).sum()",
        loses=both("ch08_saliency"),
    ),
    Mutant(
        name="saliency_of_the_predicted_class",
        cell="ch08_saliency",
        old="scores = model(x).gather(1, y.view(-1, 1)).sum()",
        new="scores = model(x).max(dim=1).values.sum()",
        loses=both("ch08_saliency"),
    ),
    Mutant(
        name="saliency_keeps_the_sign",
        cell="ch08_saliency",
        old="return grad.abs().amax(dim=1)",
        new="return grad.amax(dim=1)",
        loses=both("ch08_saliency"),
    ),
    Mutant(
        name="saliency_sums_the_channels",
        cell="ch08_saliency",
        old="return grad.abs().amax(dim=1)",
        new="return grad.abs().sum(dim=1)",
        loses=("ch08_saliency_visible",),  # the digits have one channel: sum and max agree there
    ),
    Mutant(
        name="saliency_in_training_mode",
        cell="ch08_saliency",
        old="    model.eval()\n    x = X",
        new="    x = X",
        loses=both("ch08_saliency"),
    ),
    Mutant(
        name="saliency_backward_fills_the_parameters_grad",
        cell="ch08_saliency",
        old="(grad,) = torch.autograd.grad(scores, x)",
        new="scores.backward()\n    grad = x.grad",
        loses=("ch08_saliency_visible",),
    ),
    Mutant(
        name="saliency_leaves_the_model_in_eval_mode",
        cell="ch08_saliency",
        old="    for module, mode in modes:\n        module.training = mode\n    return grad",
        new="    return grad",
        loses=both("ch08_saliency"),
    ),
]
