#!/usr/bin/env python3
"""Golden values from PyTorch for graft's losses, optimizers and LR schedulers.

Writes three small JSON files into test/fixtures/optim/:

  losses.json        loss values and d(sum of loss)/d(logits) for cross entropy (class weights,
                     label smoothing, ignore_index, probability targets), BCE with logits and MSE
  schedulers.json    the lr (and momentum / beta1) sequence of every scheduler over 30 steps
  trajectories.json  10 steps of SGD / Adam / AdamW, each with a scheduler, on a small linear
                     regression: the gradients PyTorch computed at each step and the parameters
                     after it, plus the optimizer's final state dict

Inputs are deterministic functions of their index (no RNG), rounded to float32, so the fixtures
hold exactly the values PyTorch saw. Needs torch 1.13:

    python3 scripts/make_optim_goldens.py
"""
import json
import math
import os

import torch
import torch.nn.functional as F
from torch import optim
from torch.optim import lr_scheduler

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'optim')


def det(shape, seed, scale=1.0):
    """Deterministic float32 values in [-scale, scale]."""
    n = math.prod(shape)
    vals = [scale * math.sin(1.7 * (i + 1) + 0.37 * seed) * math.cos(0.61 * i * (seed + 2)) for i in range(n)]
    return torch.tensor(vals, dtype=torch.float32).reshape(shape)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


# ---------------------------------------------------------------- losses

def loss_cases():
    n, c = 5, 4
    logits = det([n, c], 1, 3.0)
    labels = [0, 3, 1, 2, 3]
    weight = [1.0, 2.0, 0.5, 3.0]
    probs = torch.softmax(det([n, c], 2, 2.0), dim=1)
    ml_logits = det([n, c], 3, 4.0)
    ml_logits[0, 0], ml_logits[1, 2] = 30.0, -30.0  # far enough out that a naive log(sigmoid) overflows
    ml_targets = (det([n, c], 4) > 0).float()
    soft_targets = (det([n, c], 5) * 0.5 + 0.5).clamp(0, 1)

    cases = []

    def add(name, fn, x, target, options, target_kind):
        x = x.clone().requires_grad_(True)
        torch_opts = {
            'weight': torch.tensor(options['weight']) if 'weight' in options else None,
            'reduction': options.get('reduction', 'mean'),
        }
        if fn == 'crossEntropy':
            t = torch.tensor(target) if target_kind == 'labels' else target
            loss = F.cross_entropy(x, t, weight=torch_opts['weight'], reduction=torch_opts['reduction'],
                                   ignore_index=options.get('ignoreIndex', -100),
                                   label_smoothing=options.get('labelSmoothing', 0.0))
        elif fn == 'binaryCrossEntropyWithLogits':
            pos = torch.tensor(options['posWeight']) if 'posWeight' in options else None
            loss = F.binary_cross_entropy_with_logits(x, target, weight=torch_opts['weight'], pos_weight=pos,
                                                      reduction=torch_opts['reduction'])
        else:
            loss = F.mse_loss(x, target, reduction=torch_opts['reduction'])
        loss.sum().backward()
        cases.append({
            'name': name, 'fn': fn, 'options': options,
            'input': flat(x), 'shape': list(x.shape),
            'target_kind': target_kind,
            'target': target if target_kind == 'labels' else flat(target),
            'value': flat(loss), 'value_shape': list(loss.shape),
            'grad': flat(x.grad),
        })

    ce = 'crossEntropy'
    add('ce_mean', ce, logits, labels, {}, 'labels')
    add('ce_sum', ce, logits, labels, {'reduction': 'sum'}, 'labels')
    add('ce_none', ce, logits, labels, {'reduction': 'none'}, 'labels')
    add('ce_weight_mean', ce, logits, labels, {'weight': weight}, 'labels')
    add('ce_weight_sum', ce, logits, labels, {'weight': weight, 'reduction': 'sum'}, 'labels')
    add('ce_weight_none', ce, logits, labels, {'weight': weight, 'reduction': 'none'}, 'labels')
    add('ce_smoothing_mean', ce, logits, labels, {'labelSmoothing': 0.1}, 'labels')
    add('ce_smoothing_weight_mean', ce, logits, labels, {'labelSmoothing': 0.2, 'weight': weight}, 'labels')
    add('ce_smoothing_weight_none', ce, logits, labels, {'labelSmoothing': 0.2, 'weight': weight, 'reduction': 'none'}, 'labels')
    add('ce_ignore_mean', ce, logits, [0, -100, 1, 2, -100], {}, 'labels')
    add('ce_ignore_weight_smoothing_mean', ce, logits, [0, -100, 1, 2, 3],
        {'labelSmoothing': 0.15, 'weight': weight}, 'labels')
    add('ce_ignore_custom_index_sum', ce, logits, labels, {'ignoreIndex': 3, 'labelSmoothing': 0.1, 'reduction': 'sum'}, 'labels')
    add('ce_ignore_custom_index_none', ce, logits, labels, {'ignoreIndex': 3, 'weight': weight, 'reduction': 'none'}, 'labels')
    add('ce_probs_mean', ce, logits, probs, {}, 'probs')
    add('ce_probs_weight_smoothing_mean', ce, logits, probs, {'weight': weight, 'labelSmoothing': 0.1}, 'probs')
    add('ce_probs_weight_none', ce, logits, probs, {'weight': weight, 'reduction': 'none'}, 'probs')
    bce = 'binaryCrossEntropyWithLogits'
    add('bce_mean', bce, ml_logits, ml_targets, {}, 'floats')
    add('bce_pos_weight_mean', bce, ml_logits, ml_targets, {'posWeight': [1.0, 3.0, 0.5, 2.0]}, 'floats')
    add('bce_pos_weight_weight_sum', bce, ml_logits, soft_targets,
        {'posWeight': [1.0, 3.0, 0.5, 2.0], 'weight': [0.5, 1.0, 2.0, 1.5], 'reduction': 'sum'}, 'floats')
    add('bce_soft_none', bce, ml_logits, soft_targets, {'reduction': 'none'}, 'floats')
    mse_target = det([n, c], 6, 2.0)
    add('mse_mean', 'mseLoss', logits, mse_target, {}, 'floats')
    add('mse_sum', 'mseLoss', logits, mse_target, {'reduction': 'sum'}, 'floats')
    return cases


# ---------------------------------------------------------------- schedulers

STEPS = 30


def dummy_groups(lrs):
    return [{'params': [torch.nn.Parameter(torch.zeros(1))], 'lr': lr} for lr in lrs]


def run_scheduler(name, optimizer_kind, group_lrs, make, options, metrics=None, optimizer_options=None):
    optimizer_options = optimizer_options or {}
    if optimizer_kind == 'sgd':
        opt = optim.SGD(dummy_groups(group_lrs), lr=group_lrs[0], momentum=optimizer_options.get('momentum', 0.9))
    else:
        opt = optim.Adam(dummy_groups(group_lrs), lr=group_lrs[0])
    sched = make(opt)

    def momenta():
        if optimizer_kind == 'sgd':
            return [g['momentum'] for g in opt.param_groups]
        return [g['betas'][0] for g in opt.param_groups]

    lrs = [[g['lr'] for g in opt.param_groups]]
    moms = [momenta()]
    for i in range(STEPS if metrics is None else len(metrics)):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
        lrs.append([g['lr'] for g in opt.param_groups])
        moms.append(momenta())
    case = {'name': name, 'optimizer': optimizer_kind, 'group_lrs': group_lrs, 'options': options,
            'optimizer_options': optimizer_options, 'lrs': lrs, 'momenta': moms}
    if metrics is not None:
        case['metrics'] = metrics
    return case


def scheduler_cases():
    s = lr_scheduler
    cases = [
        run_scheduler('StepLR', 'sgd', [0.1, 0.01], lambda o: s.StepLR(o, step_size=7, gamma=0.1),
                      {'stepSize': 7, 'gamma': 0.1}),
        run_scheduler('MultiStepLR', 'sgd', [0.1, 0.05], lambda o: s.MultiStepLR(o, milestones=[5, 12, 12, 20], gamma=0.5),
                      {'milestones': [5, 12, 12, 20], 'gamma': 0.5}),
        run_scheduler('CosineAnnealingLR', 'sgd', [0.1, 0.03], lambda o: s.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
                      {'tMax': 10, 'etaMin': 0.001}),
        run_scheduler('LinearLR', 'sgd', [0.1], lambda o: s.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=8),
                      {'startFactor': 0.25, 'endFactor': 1.0, 'totalIters': 8}),
        run_scheduler('LinearLR', 'adam', [0.01, 0.002], lambda o: s.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=10),
                      {'startFactor': 1.0, 'endFactor': 0.1, 'totalIters': 10}),
        run_scheduler('OneCycleLR', 'sgd', [0.1, 0.1], lambda o: s.OneCycleLR(o, max_lr=[0.1, 0.2], total_steps=30),
                      {'maxLr': [0.1, 0.2], 'totalSteps': 30}),
        run_scheduler('OneCycleLR', 'adam', [0.01], lambda o: s.OneCycleLR(
            o, max_lr=0.01, total_steps=30, anneal_strategy='linear', three_phase=True, base_momentum=0.8, max_momentum=0.9),
            {'maxLr': 0.01, 'totalSteps': 30, 'annealStrategy': 'linear', 'threePhase': True, 'baseMomentum': 0.8, 'maxMomentum': 0.9}),
        run_scheduler('OneCycleLR', 'sgd', [0.1], lambda o: s.OneCycleLR(
            o, max_lr=0.5, epochs=5, steps_per_epoch=6, pct_start=0.25, div_factor=10.0, final_div_factor=100.0, cycle_momentum=False),
            {'maxLr': 0.5, 'epochs': 5, 'stepsPerEpoch': 6, 'pctStart': 0.25, 'divFactor': 10, 'finalDivFactor': 100, 'cycleMomentum': False}),
    ]
    losses = [1.0, 0.9, 0.85, 0.86, 0.849, 0.85, 0.9, 0.84, 0.84, 0.845, 0.85, 0.85, 0.7, 0.71, 0.72, 0.73, 0.74,
              0.75, 0.69, 0.70, 0.70, 0.70, 0.70, 0.70, 0.70, 0.70, 0.70, 0.70, 0.70, 0.70]
    cases.append(run_scheduler('ReduceLROnPlateau', 'sgd', [0.1, 0.01], lambda o: s.ReduceLROnPlateau(
        o, mode='min', factor=0.5, patience=2, threshold=0.01, cooldown=1, min_lr=[0.01, 0.004]),
        {'mode': 'min', 'factor': 0.5, 'patience': 2, 'threshold': 0.01, 'cooldown': 1, 'minLr': [0.01, 0.004]},
        metrics=losses))
    accuracies = [0.5, 0.6, 0.6, 0.65, 0.66, 0.7, 0.705, 0.71, 0.70, 0.72, 0.72, 0.721, 0.8, 0.79, 0.8, 0.8, 0.81,
                  0.811, 0.812, 0.82, 0.82, 0.82, 0.82, 0.82, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]
    cases.append(run_scheduler('ReduceLROnPlateau', 'adam', [0.01], lambda o: s.ReduceLROnPlateau(
        o, mode='max', factor=0.3, patience=1, threshold=0.005, threshold_mode='abs', min_lr=1e-4),
        {'mode': 'max', 'factor': 0.3, 'patience': 1, 'threshold': 0.005, 'thresholdMode': 'abs', 'minLr': 1e-4},
        metrics=accuracies))
    return cases


# ---------------------------------------------------------------- optimizer trajectories

def regression_problem():
    x = det([8, 3], 7, 1.5)
    w_true = torch.tensor([[1.0, -2.0, 0.5], [0.3, 0.8, -1.2]])
    y = x @ w_true.T + torch.tensor([0.5, -0.25]) + 0.1 * det([8, 2], 8)
    return x, y


def state_dict_json(opt):
    sd = opt.state_dict()
    state = {}
    for k, v in sd['state'].items():
        state[str(k)] = {name: (flat(t) if t.numel() > 1 or name != 'step' else float(t)) if torch.is_tensor(t) else t
                         for name, t in v.items()}
    groups = []
    for g in sd['param_groups']:
        groups.append({k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()})
    return {'state': state, 'param_groups': groups}


def trajectory(name, make_opt, make_sched, optimizer_options, scheduler_kind, scheduler_options, steps=10):
    x, y = regression_problem()
    weight = torch.nn.Parameter(det([2, 3], 9, 0.5))
    bias = torch.nn.Parameter(det([2], 10, 0.5))
    initial = [flat(weight), flat(bias)]
    opt = make_opt([{'params': [weight], 'lr': optimizer_options['groupLr']}, {'params': [bias]}])
    sched = make_sched(opt)
    records = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.mse_loss(F.linear(x, weight, bias), y)
        loss.backward()
        grads = [flat(weight.grad), flat(bias.grad)]
        opt.step()
        if sched is not None:
            sched.step()
        records.append({'loss': float(loss), 'grads': grads, 'params': [flat(weight), flat(bias)],
                        'lrs': [g['lr'] for g in opt.param_groups]})
    return {'name': name, 'optimizer_options': optimizer_options, 'scheduler': scheduler_kind,
            'scheduler_options': scheduler_options, 'x': flat(x), 'y': flat(y), 'initial': initial,
            'steps': records, 'final_state_dict': state_dict_json(opt)}


def trajectory_cases():
    s = lr_scheduler
    return [
        trajectory('sgd_nesterov_weight_decay',
                   lambda g: optim.SGD(g, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-2),
                   lambda o: s.StepLR(o, step_size=3, gamma=0.5),
                   {'kind': 'SGD', 'groupLr': 0.1, 'lr': 0.05, 'momentum': 0.9, 'nesterov': True, 'weightDecay': 1e-2},
                   'StepLR', {'stepSize': 3, 'gamma': 0.5}),
        trajectory('sgd_dampening_one_cycle',
                   lambda g: optim.SGD(g, lr=0.05, momentum=0.9, dampening=0.2, weight_decay=1e-3),
                   lambda o: s.OneCycleLR(o, max_lr=[0.2, 0.1], total_steps=10),
                   {'kind': 'SGD', 'groupLr': 0.1, 'lr': 0.05, 'momentum': 0.9, 'dampening': 0.2, 'weightDecay': 1e-3},
                   'OneCycleLR', {'maxLr': [0.2, 0.1], 'totalSteps': 10}),
        trajectory('adam_cosine',
                   lambda g: optim.Adam(g, lr=0.05, weight_decay=1e-2),
                   lambda o: s.CosineAnnealingLR(o, T_max=10, eta_min=1e-3),
                   {'kind': 'Adam', 'groupLr': 0.1, 'lr': 0.05, 'weightDecay': 1e-2},
                   'CosineAnnealingLR', {'tMax': 10, 'etaMin': 1e-3}),
        trajectory('adam_amsgrad_linear_warmup',
                   lambda g: optim.Adam(g, lr=0.05, betas=(0.8, 0.99), eps=1e-6, amsgrad=True),
                   lambda o: s.LinearLR(o, start_factor=0.2, total_iters=4),
                   {'kind': 'Adam', 'groupLr': 0.02, 'lr': 0.05, 'betas': [0.8, 0.99], 'eps': 1e-6, 'amsgrad': True},
                   'LinearLR', {'startFactor': 0.2, 'totalIters': 4}),
        trajectory('adamw_one_cycle',
                   lambda g: optim.AdamW(g, lr=0.05, weight_decay=0.1),
                   lambda o: s.OneCycleLR(o, max_lr=0.1, total_steps=10, anneal_strategy='linear'),
                   {'kind': 'AdamW', 'groupLr': 0.1, 'lr': 0.05, 'weightDecay': 0.1},
                   'OneCycleLR', {'maxLr': 0.1, 'totalSteps': 10, 'annealStrategy': 'linear'}),
        trajectory('adamw_amsgrad_multistep',
                   lambda g: optim.AdamW(g, lr=0.03, amsgrad=True),
                   lambda o: s.MultiStepLR(o, milestones=[2, 5], gamma=0.3),
                   {'kind': 'AdamW', 'groupLr': 0.06, 'lr': 0.03, 'amsgrad': True},
                   'MultiStepLR', {'milestones': [2, 5], 'gamma': 0.3}),
    ]


def write(name, payload):
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name)
    with open(path, 'w') as f:
        json.dump({'torch_version': torch.__version__, **payload}, f, separators=(',', ':'))
        f.write('\n')
    print(f'wrote {os.path.relpath(path)} ({os.path.getsize(path)} bytes)')


if __name__ == '__main__':
    torch.set_num_threads(1)
    write('losses.json', {'cases': loss_cases()})
    write('schedulers.json', {'cases': scheduler_cases()})
    write('trajectories.json', {'cases': trajectory_cases()})
