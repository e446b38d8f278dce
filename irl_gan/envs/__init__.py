"""irl_gan's own gymnasium tasks: the point-mass maze with a known reward, and the transfer tasks
(changed dynamics). Their MJCF files and every task spec (``*.yaml``) live beside this module.

Importing this module registers them (``irl_gan/PointMaze-v0``, ...); ``TaskSpec.make_env`` does.
"""

from __future__ import annotations

from gymnasium.envs.registration import register

register(id="irl_gan/PointMaze-v0", entry_point="irl_gan.envs.point_maze:PointMaze", kwargs={"xml_file": "pointmaze.xml"})
register(id="irl_gan/PointMazeShifted-v0", entry_point="irl_gan.envs.point_maze:PointMaze", kwargs={"xml_file": "pointmaze_shifted.xml"})
