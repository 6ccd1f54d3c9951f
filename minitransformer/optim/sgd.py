"""Stochastic gradient descent with momentum (Polyak 1964), Nesterov momentum (Sutskever et al. 2013,
"On the importance of initialization and momentum in deep learning") and L2 weight decay, in the form
torch.optim.SGD uses (the momentum buffer starts at the first gradient):

    g_t = grad + weight_decay * p
    b_t = g_t                                         (t = 1)
    b_t = momentum * b_{t-1} + (1 - dampening) * g_t  (t > 1)
    d_t = g_t + momentum * b_t   (nesterov)   or   b_t   (plain momentum)   or   g_t   (momentum = 0)
    p  <- p - lr * d_t
"""

import torch

from minitransformer.optim._checks import check_beta, check_non_negative


class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        check_non_negative("lr", lr)
        check_beta("momentum", momentum)
        check_non_negative("dampening", dampening)
        check_non_negative("weight_decay", weight_decay)
        if nesterov and (momentum == 0 or dampening != 0):
            raise ValueError("nesterov=True needs momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            momentum, dampening = group["momentum"], group["dampening"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad + group["weight_decay"] * p if group["weight_decay"] else p.grad
                if momentum:
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = g.clone()
                    else:
                        state["momentum_buffer"].mul_(momentum).add_(g, alpha=1.0 - dampening)
                    buffer = state["momentum_buffer"]
                    g = g + momentum * buffer if group["nesterov"] else buffer
                p.add_(g, alpha=-group["lr"])
        return loss
