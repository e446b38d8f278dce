"""irl_gan: guided cost learning, GAN discriminators and energy models as one object.

The package layout is the architecture: data (demonstrations) -> cost -> generator ->
estimator -> trainer -> evaluation, with the CLI as a thin shell over the library.
"""

__version__ = "0.1.0"
