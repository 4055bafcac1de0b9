"""kubesim: a Kubernetes API emulator that the real kubectl drives, for end-to-end tests."""

from kubesim.scenario import Scenario, ScenarioError
from kubesim.sim import KubeSim

__all__ = ["KubeSim", "Scenario", "ScenarioError"]
