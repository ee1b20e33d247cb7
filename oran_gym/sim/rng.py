"""The random stream of the TTI dynamics: xoshiro256** in numba, with inversion and PTRS samplers.

Every TTI draws Rayleigh fading for each (RU, UE, PRB), eMBB packet arrivals and, with a CSI
error, one normal per observed gain. With NumPy's generators those draws were made in Python per
env and passed to the kernels, which floored the vector env near 3M env-steps/s on 2 cores. Here
they are drawn inside the kernels, from a per-env generator state of four uint64 words:

* `xoshiro256**` (Blackman and Vigna, 2018) for 64 random bits; `uniform` keeps the top 53.
* Fading with `fading_rho == 0` (independent across TTIs, the paper's model): only `|g|^2`
  enters the physics, and for `g ~ CN(0, 1)` it is `Exp(1)`: one exponential per (b, u, m), by
  inversion, `-log(1 - U)`. Correlated fading draws the complex innovation `sqrt(E) e^{i theta}`
  (the Box-Muller pair: `E ~ Exp(1)`, `theta ~ U(0, 2 pi)`) and keeps `g` across TTIs.
* Poisson arrivals by multiplication (Knuth) below a mean of 10, by Hormann's PTRS transformed
  rejection (the algorithm NumPy uses) above.
* Normals (CSI error) by Box-Muller, one normal per call.

`seed_state(np_random)` seeds a state from the env's `np_random` (SplitMix64 over one 64-bit draw,
as the xoshiro authors recommend), so Gymnasium's seeding contract holds: the same seed gives the
same stream. The single env and the native vector env call the same functions in the same order,
which keeps them bit-equal. `oran_gym.sim.reference` has a pure-Python twin of every sampler.

Nothing here imports gymnasium or torch.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, uint64

__all__ = [
    "STATE_WORDS",
    "seed_state",
    "splitmix64_state",
    "next_u64",
    "uniform",
    "exponential",
    "normal",
    "poisson",
    "fill_fading",
    "fill_poisson",
    "add_normal_noise",
]

STATE_WORDS = 4
"""uint64 words of one generator state."""
_MASK64 = (1 << 64) - 1
_TWO_PI = 2.0 * math.pi
_INV_2_53 = 1.0 / 9007199254740992.0  # 2^-53


def splitmix64_state(seed: int) -> np.ndarray:
    """The four-word xoshiro state SplitMix64 makes from a 64-bit seed (never all zero)."""
    x = seed & _MASK64
    out = np.empty(STATE_WORDS, np.uint64)
    for i in range(STATE_WORDS):
        x = (x + 0x9E3779B97F4A7C15) & _MASK64
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        out[i] = z ^ (z >> 31)
    if not out.any():  # impossible for SplitMix64, kept as the generator's precondition
        out[0] = 1
    return out


def seed_state(np_random: np.random.Generator) -> np.ndarray:
    """A fresh generator state drawn from `np_random` (one 64-bit draw through SplitMix64)."""
    return splitmix64_state(int(np_random.integers(0, 2**64, dtype=np.uint64)))


@njit(cache=True, inline="always")
def _rotl(x, k):
    return (x << uint64(k)) | (x >> uint64(64 - k))


@njit(cache=True, inline="always")
def next_u64(s):
    """xoshiro256**: the next 64 random bits; advances the state `s` (uint64[4]) in place."""
    result = _rotl(s[1] * uint64(5), 7) * uint64(9)
    t = s[1] << uint64(17)
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _rotl(s[3], 45)
    return result


@njit(cache=True, inline="always")
def uniform(s):
    """U ~ Uniform[0, 1) with 53 random bits."""
    return float(next_u64(s) >> uint64(11)) * _INV_2_53


@njit(cache=True, inline="always")
def exponential(s):
    """E ~ Exp(1) by inversion: -log(1 - U), finite since 1 - U is in (0, 1]."""
    return -math.log(1.0 - uniform(s))


@njit(cache=True, inline="always")
def normal(s):
    """Z ~ N(0, 1) by Box-Muller (the cosine branch)."""
    r = math.sqrt(2.0 * exponential(s))
    return r * math.cos(_TWO_PI * uniform(s))


@njit(cache=True)
def poisson(s, lam):
    """K ~ Poisson(lam), lam >= 0: multiplication below 10, PTRS (Hormann 1993) from 10 up."""
    if lam <= 0.0:
        return 0
    if lam < 10.0:
        limit = math.exp(-lam)
        k = 0
        p = uniform(s)
        while p > limit:
            k += 1
            p *= uniform(s)
        return k
    slam = math.sqrt(lam)
    loglam = math.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2.0)
    while True:
        u = uniform(s) - 0.5
        v = uniform(s)
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return int(k)
        if k < 0 or (us < 0.013 and v > us):
            continue
        if math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b) <= -lam + k * loglam - math.lgamma(k + 1.0):
            return int(k)


@njit(cache=True)
def fill_fading(s, fading, fading_power, rho, fresh):
    """One TTI of Rayleigh fading for one env, in (b, u, m) order.

    `rho == 0`: `fading_power[b, u, m] = |g|^2 ~ Exp(1)` (one exponential each; `fading` is not
    touched). Otherwise the innovation `w = sqrt(E) e^{i theta}` ~ CN(0, 1) updates the complex
    fading `g' = rho g + sqrt(1 - rho^2) w` (`fresh`: `g' = w`, the draw at reset), and
    `fading_power` gets `|g'|^2`.
    """
    num_rus, num_ues, num_prbs = fading_power.shape
    if rho == 0.0:
        for b in range(num_rus):
            for u in range(num_ues):
                for m in range(num_prbs):
                    fading_power[b, u, m] = exponential(s)
        return
    a = math.sqrt(1.0 - rho * rho)
    for b in range(num_rus):
        for u in range(num_ues):
            for m in range(num_prbs):
                r = math.sqrt(exponential(s))
                theta = _TWO_PI * uniform(s)
                w = complex(r * math.cos(theta), r * math.sin(theta))
                g = w if fresh else rho * fading[b, u, m] + a * w
                fading[b, u, m] = g
                fading_power[b, u, m] = g.real * g.real + g.imag * g.imag


@njit(cache=True)
def fill_poisson(s, out, lam):
    """Poisson(lam) draws into the int64 array `out` (any shape), in memory order."""
    flat = out.reshape(-1)
    for i in range(flat.shape[0]):
        flat[i] = poisson(s, lam)


@njit(cache=True)
def add_normal_noise(s, values, std):
    """`values += std * N(0, 1)`, element by element in memory order (the CSI error)."""
    flat = values.reshape(-1)
    for i in range(flat.shape[0]):
        flat[i] += std * normal(s)


@njit(cache=True)
def draw_embb_arrivals(s, out, lam, onoff, on, p_leave_on, p_leave_off, lam_on, scale):
    """One TTI of eMBB packet arrivals per UE into `out [E]`.

    The paper's source (`onoff` False, `scale` empty) is `fill_poisson(s, out, lam)`, draw for
    draw. `onoff`: each UE's two-state Markov source first moves (one uniform per UE: ON leaves
    with probability `p_leave_on`, OFF with `p_leave_off`), then a UE that is ON draws
    Poisson(`lam_on`) and one that is OFF draws nothing. `scale [E]` (non-empty) multiplies each
    UE's mean (trace-driven rates of the backlog model).
    """
    if not onoff and scale.shape[0] == 0:
        fill_poisson(s, out, lam)
        return
    n = out.shape[0]
    if onoff:
        for u in range(n):
            x = uniform(s)
            if on[u]:
                on[u] = not (x < p_leave_on)
            else:
                on[u] = x < p_leave_off
    for u in range(n):
        mean = (lam_on if on[u] else 0.0) if onoff else lam
        if scale.shape[0]:
            mean *= scale[u]
        out[u] = poisson(s, mean)


@njit(cache=True)
def draw_onoff_states(s, on, p_on):
    """Stationary start of the ON/OFF sources: each UE ON with probability `p_on` (one uniform each)."""
    for u in range(on.shape[0]):
        on[u] = uniform(s) < p_on
