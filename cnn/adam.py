"""Adam: per-parameter step sizes from running moments of the gradient."""
from __future__ import annotations

import math

import numpy as np

from .optimizer import Optimizer, arrays_of


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) on the schedule's η_e, at step t (1-based, counted over the whole run),
    with weight decay λ decoupled from the moments (AdamW, Loshchilov & Hutter; torch.optim.AdamW):
        m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²,
        m̂ = m / (1 − β₁ᵗ),   v̂ = v / (1 − β₂ᵗ),   θ ← θ − η_e λ θ − η_e m̂ / (√v̂ + ε)."""

    kind = "adam"
    ARRAYS = ("first_moment", "second_moment")

    def __init__(self, learning_rate: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 lr_decay: float = 1.0, weight_decay: float = 0.0):
        super().__init__(learning_rate, lr_decay, weight_decay)
        self.beta1, self.beta2, self.eps = _beta("beta1", beta1), _beta("beta2", beta2), _eps(eps)
        self.steps = 0                                    # t of the last step taken
        self.first_moment: dict[str, np.ndarray] = {}     # '3.weights' → m
        self.second_moment: dict[str, np.ndarray] = {}    # '3.weights' → v

    def changes(self, params: dict, grads: dict) -> dict[str, np.ndarray]:
        """Advance the moments by one step with `grads` and return each parameter's change
        −η_e λ θ − η_e m̂/(√v̂ + ε) (the parameters themselves are not touched)."""
        self.steps += 1
        t, lr = self.steps, self.current_learning_rate
        correction1, correction2 = 1.0 - self.beta1 ** t, 1.0 - self.beta2 ** t
        changes = {}
        for name, grad in grads.items():
            param = params[name]
            m, v = self.first_moment.get(name), self.second_moment.get(name)
            if m is None or m.shape != param.shape or m.dtype != param.dtype:
                m = self.first_moment[name] = np.zeros_like(param)
                v = self.second_moment[name] = np.zeros_like(param)
            m *= self.beta1
            m += (1.0 - self.beta1) * grad
            v *= self.beta2
            v += (1.0 - self.beta2) * np.square(grad)
            changes[name] = self._change(m, v, lr, correction1, correction2)
            if self.weight_decay:
                changes[name] -= (lr * self.weight_decay) * param
        return changes

    def _change(self, m, v, lr, correction1, correction2) -> np.ndarray:
        denominator = np.sqrt(v / correction2)
        denominator += self.eps
        change = m / correction1
        change /= denominator
        change *= -lr
        return change

    def step(self, network) -> None:
        """One update of every parameter from network.grads (as SGD.step)."""
        for name, change in self.changes(network.params, network.grads).items():
            network.params[name] += change

    def last_change(self, name: str) -> np.ndarray | None:
        """The moments' part −η_e m̂/(√v̂ + ε) of the change the last step made to parameter `name`
        (recomputed from the moments; weight decay's −η_e λ θ is not in it), or None."""
        if self.steps == 0 or name not in self.first_moment:
            return None
        t = self.steps
        return self._change(self.first_moment[name], self.second_moment[name], self.current_learning_rate,
                            1.0 - self.beta1 ** t, 1.0 - self.beta2 ** t)

    def largest_change(self) -> float:
        """An upper bound on any |change| of the next step, whatever its finite gradient: with
        m̂ = Σ wₖ gₖ and v̂ = Σ uₖ gₖ² (weights wₖ, uₖ summing to 1), Cauchy–Schwarz gives
        |m̂| ≤ √(Σ wₖ²/uₖ) √v̂. cnn.fast's guard adds it to its weight bounds."""
        t, b1, b2 = self.steps + 1, self.beta1, self.beta2
        ratio = b1 * b1 / b2
        geometric = t if ratio == 1.0 else (ratio ** t - 1.0) / (ratio - 1.0)
        squared = (1.0 - b1) ** 2 / (1.0 - b1 ** t) ** 2 * (1.0 - b2 ** t) / (1.0 - b2) * geometric
        return self.current_learning_rate * math.sqrt(squared)

    def state_dict(self) -> dict:
        """Rates, weight decay, betas, ε, the step count t, the schedule's position and copies of m and v."""
        return {**self._schedule_state(), "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps,
                "steps": self.steps,
                "first_moment": {name: m.copy() for name, m in self.first_moment.items()},
                "second_moment": {name: v.copy() for name, v in self.second_moment.items()}}

    def load_state_dict(self, state: dict) -> None:
        """Restore what state_dict returned (checked first: a bad state changes nothing)."""
        restored = Adam(state["learning_rate"], state["beta1"], state["beta2"], state["eps"], state["lr_decay"],
                        state.get("weight_decay", 0.0))
        restored.start_epoch(state["epoch"])
        steps = state["steps"]
        if not (isinstance(steps, int) and not isinstance(steps, bool) and steps >= 0):
            raise ValueError(f"steps must be a whole number, not {steps!r}")
        first, second = arrays_of(state, "first_moment"), arrays_of(state, "second_moment")
        if first.keys() != second.keys():
            raise ValueError("the first and second moments must name the same parameters")
        self._restore_schedule(restored)
        self.beta1, self.beta2, self.eps = restored.beta1, restored.beta2, restored.eps
        self.steps, self.first_moment, self.second_moment = steps, first, second

    def take_moments(self, other: "Adam") -> None:
        """Go on with `other`'s moments and step count."""
        self.first_moment, self.second_moment, self.steps = other.first_moment, other.second_moment, other.steps


def _beta(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1), not {value!r}")
    return float(value)


def _eps(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0.0 < value < math.inf):
        raise ValueError(f"eps must be a positive number, not {value!r}")
    return float(value)
