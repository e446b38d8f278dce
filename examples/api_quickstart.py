"""Learn a policy and a reward from 4 demonstrations in Python, then use both.

    python examples/api_quickstart.py [STEPS]
"""

import sys

import numpy as np
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback

from irl_gan import GANGCL
from irl_gan.data import load_demos

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 80_000


class CountSteps(BaseCallback):
    """Any SB3 callback works: this one counts the generator's env steps."""

    def _on_step(self) -> bool:
        self.n = getattr(self, "n", 0) + self.training_env.num_envs
        return True


demos = load_demos("demos/invertedpendulum.h5")
algo = GANGCL("invertedpendulum", demos, "ppo", seed=0, demo_episodes=4)
counter = CountSteps()
algo.learn(steps // 2, callback=counter)
algo.learn(steps - steps // 2)  # goes on where it stopped
print(f"env steps: {algo.generator.num_timesteps} (the callback counted {counter.n} in the first call)")
print(f"last evaluation: normalised {algo.metrics[-1]['eval_normalised']:.3f}")

# The learned reward, on the demonstrations' own transitions.
episode = demos.episodes[0]
reward = algo.reward(episode.observations[:-1], episode.actions, episode.observations[1:], np.zeros(episode.length, bool))
print(f"learned reward on a demo episode: mean {reward.mean():.3f} over {episode.length} steps")

# Save, load and go on; the saved folder is a run directory that irl-gan's commands read.
algo.save("runs/api-quickstart")
again = GANGCL.load("runs/api-quickstart")
again.learn(2048)
print(f"after loading: {again.generator.num_timesteps} env steps")

# The policy acts on observations normalised as during training: the run's obs_norm.npz holds how.
assert isinstance(algo.generator, PPO)
