"""Progress of a run: a bar on a terminal, plain lines where a bar would show nothing."""

from __future__ import annotations

import sys
import time

from tqdm.auto import tqdm


class Progress:
    """Env steps out of ``total``: a tqdm bar when stderr is a terminal; otherwise (under nohup or a
    scheduler) a line on stdout at each evaluation and at least every ``every`` seconds."""

    def __init__(self, total: int, initial: int, enabled: bool = True, every: float = 60.0):
        tty = sys.stderr.isatty()
        self.bar = tqdm(total=total, initial=initial, desc="env steps", unit="step", disable=not (enabled and tty))
        self.lines, self.every, self.total = enabled and not tty, every, total
        self.last_line = time.time()

    def update(self, env_steps: int) -> None:
        self.bar.update(env_steps - self.bar.n)

    def round(self, env_steps: int, diag: dict) -> None:
        """A finished round: its training return on the bar; a line if one is due."""
        ret = diag.get("true_return", float("nan"))
        self.bar.set_postfix(ret=f"{ret:.0f}")
        if not self.lines or ("eval_return" not in diag and time.time() - self.last_line < self.every):
            return
        line = f"env steps {env_steps:,}/{self.total:,} ({100 * env_steps / max(self.total, 1):.0f}%)"
        if "env_steps_per_s" in diag:
            line += f", {diag['env_steps_per_s']:.0f} steps/s"
        if ret == ret:
            line += f", training return {ret:.1f}"
        if "eval_return" in diag:
            line += f", evaluation {diag['eval_return']:.1f}"
            if "eval_normalised" in diag:
                line += f" (normalised {diag['eval_normalised']:.3f})"
        print(line, flush=True)
        self.last_line = time.time()

    def close(self) -> None:
        self.bar.close()
