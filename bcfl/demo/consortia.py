"""The demo consortia: which real data set each one is prepared from, and its shared schema."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bcfl.chain.deploy import DEFAULT_PARAMETERS
from bcfl.chain.manifest import DeploymentParameters
from bcfl.chain.privacy import DEFAULT_BUDGET_DELTA, PrivacyBudget
from bcfl.demo.heart import CENTRES, PreparedHospital, prepare_heart_hospitals
from bcfl.demo.histology import SITES as IHC_SITES
from bcfl.demo.histology import prepare_ihc_hospitals
from bcfl.demo.thyroid import SITES as THYROID_SITES
from bcfl.demo.thyroid import prepare_thyroid_hospitals

Prepare = Callable[[Path, list[str] | None], list[PreparedHospital]]


@dataclass(frozen=True)
class DemoConsortium:
    """A set of demo hospitals prepared from one real data set, and the schema they share."""

    name: str
    description: str
    hospitals: tuple[str, ...]
    #: The Flower App's ``schema-name`` run setting (a schema under bcfl/learning/schemas/).
    schema_name: str
    prepare: Prepare
    #: Run settings that differ from the Flower App's defaults (pyproject.toml), as ``key=value``.
    run_config: tuple[str, ...] = ()
    #: The data's name in a hospital's folder (what ``prepare`` writes there).
    data_name: str = "data.csv"
    #: The demo's differential privacy (docs/privacy.md): each hospital's ε over a run, and the
    #: deployment's budget per member and lineage (None: none). ``bcfl demo`` and the compose file run
    #: with them; the tests and benchmarks that start a federation themselves ask for them or not.
    dp_epsilon: float | None = None
    privacy_budget: float | None = None
    #: The ``learning-rate`` of the consortium's private runs (None: the App's): DP-SGD's clipping and
    #: noise shrink the steps Adam takes, so a run with DP may need a larger rate to learn as fast.
    dp_learning_rate: float | None = None

    def run_settings(self, *, private: bool = False) -> tuple[str, ...]:
        """This consortium's ``--run-config`` settings: its schema and its ``run_config``, and with
        ``private`` its differential privacy."""
        dp: tuple[str, ...] = ()
        if private and self.dp_epsilon:
            dp = (f"dp-epsilon={self.dp_epsilon}",)
            if self.dp_learning_rate is not None:
                dp += (f"learning-rate={self.dp_learning_rate}",)
        return (f'schema-name="{self.schema_name}"', *self.run_config, *dp)

    def deployment_parameters(self, *, private: bool = False) -> DeploymentParameters:
        """What the launcher deploys with: the defaults, and with ``private`` the consortium's privacy
        budget (the one :meth:`deploy_settings` gives ``bcfl chain deploy`` in the compose file)."""
        if not private or self.privacy_budget is None:
            return DEFAULT_PARAMETERS
        budget = PrivacyBudget.of(self.privacy_budget, DEFAULT_BUDGET_DELTA)
        return DEFAULT_PARAMETERS.model_copy(
            update={"privacy_epsilon": budget.epsilon, "privacy_delta": budget.delta}
        )

    def deploy_settings(self, *, private: bool = False) -> tuple[str, ...]:
        """``bcfl chain deploy`` options: with ``private``, the consortium's privacy budget."""
        if not private or self.privacy_budget is None:
            return ()
        return (f"--privacy-epsilon={self.privacy_budget}",)


#: The tabular demos train with differential privacy: each hospital spends ε = 4 over a run, at a
#: learning rate of 0.03 (the App's 0.01 is too small a step under DP's clipping and noise: over the
#: demo's 3 rounds thyroid then answers the commonest class on every seed), and each may spend ε = 8
#: per lineage, room for a restarted run (which plans its noise over the rounds left). The privacy
#: benchmark measures both at the demo's length (docs/benchmarks.md, docs/privacy.md). The imaging demo
#: trains without: its CNN (72 training patches a site) does not learn reliably under DP even at ε = 8.
DEMO_DP_EPSILON = 4.0
DEMO_DP_LEARNING_RATE = 0.03
DEMO_PRIVACY_BUDGET = 8.0

HEART = DemoConsortium(
    "heart",
    "UCI Heart Disease, its four real centres (EHR table)",
    tuple(CENTRES),
    "uci_heart_disease",
    prepare_heart_hospitals,
    dp_epsilon=DEMO_DP_EPSILON,
    privacy_budget=DEMO_PRIVACY_BUDGET,
    dp_learning_rate=DEMO_DP_LEARNING_RATE,
)
IHC = DemoConsortium(
    "ihc",
    "patches of skimage's real IHC slide as PNG, JPEG and DICOM folders (imaging)",
    tuple(IHC_SITES),
    "ihc_patches",
    prepare_ihc_hospitals,
    # The CNN needs more local steps per round than the MLP: three sites of 72 training patches.
    ("local-epochs=5",),
    data_name="images",
)
THYROID = DemoConsortium(
    "thyroid",
    "Garvan thyroid referrals, one hospital per referral source (EHR table)",
    tuple(THYROID_SITES),
    "garvan_thyroid",
    prepare_thyroid_hospitals,
    dp_epsilon=DEMO_DP_EPSILON,
    privacy_budget=DEMO_PRIVACY_BUDGET,
    dp_learning_rate=DEMO_DP_LEARNING_RATE,
)
CONSORTIA = {c.name: c for c in (HEART, IHC, THYROID)}
