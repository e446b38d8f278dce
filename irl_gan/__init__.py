"""irl_gan: guided cost learning, GAN discriminators and energy models as one object.

The package layout is the architecture: data (demonstrations) -> cost -> generator ->
estimator -> trainer -> evaluation, with the CLI as a thin shell over the library.
"""

from irl_gan.version import __version__  # noqa: F401

_API = ("Imitation", "GANGCL", "GCL", "AIRL", "GAIL")


def __getattr__(name: str):
    # The estimator classes load torch and SB3: only when asked for, so the CLI starts fast.
    if name in _API:
        from irl_gan import api

        return getattr(api, name)
    raise AttributeError(f"module 'irl_gan' has no attribute {name!r}")
