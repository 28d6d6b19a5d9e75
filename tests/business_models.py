"""Small business-case models for the tests, as model-file text, and how to compile them.

Each model is small enough to compute by hand; the numbers the tests expect are
worked out in the tests themselves from the figures written here.
"""

from __future__ import annotations

from assumption_graph.io import loads
from assumption_graph.model import Model
from assumption_graph.run import Simulator
from assumption_graph.validate import CheckedModel, check

# The key figures of the run --json contract (issue 4), and the fields each carries.
FIGURES = (
    "npv",
    "irr",
    "mirr",
    "project_cost",
    "operating_without",
    "operating_with",
    "gross_gain",
    "total_with_project",
    "net_gain",
)
FIGURE_FIELDS = {"risk_adjusted", "expected", "weighted", "best", "worst", "mean", "percentiles"}


def checked_model(model: Model) -> CheckedModel:
    """``check(model)``; any error it reports stops the test."""
    return check(model).raise_for_errors()


def simulator(text: str) -> Simulator:
    """A compiled model from model-file text."""
    return Simulator(checked_model(loads(text)))


# Fixed amounts only, spread by `year`, by `years` with a `profile`, and by `phase`:
#   analysis       2025-04 .. 2025-09   6 months, all in 2025
#   implementation 2025-10 .. 2026-09  12 months, 3 in 2025 and 9 in 2026
SPREAD = """
name: Spread by year, years and phase
business_case:
  purpose: efficiency
  start_year: 2025
  end_year: 2028
  discount_rate: 0.05
  phases:
    analysis: [2025-04, 2025-09]
    implementation: [2025-10, 2026-09]
nodes:
  study:
    kind: main
    side: cost
    category: other_services
    phase: analysis
    value: 400
    source: quote
  build:
    kind: main
    side: cost
    category: intangible
    phase: implementation
    value: 1200
    source: quote
  hardware:
    kind: main
    side: cost
    category: tangible
    year: 2026
    value: 100
    source: quote
  licence:
    kind: main
    side: operating
    category: it_services
    years: [2026, 2027, 2028]
    profile: [0.5, 1, 1]
    situation:
      without: {value: 0}
      with: {value: 200}
    source: price list
  staff_work:
    kind: main
    side: operating
    category: staff
    years: [2026, 2027, 2028]
    profile: [0.25, 1, 1]
    situation:
      without: {value: 2000}
      with: {value: 600}
    source: time study
  rent:
    kind: main
    side: operating
    category: other_operating
    years: [2025, 2026, 2027, 2028]
    value: 50
    source: lease
  postage:
    kind: main
    side: gain
    years: [2027, 2028]
    value: 80
    source: accounts
"""

# Probability-weighted figures: default triangle, user triangle, uniform, discrete.
WEIGHTED = """
name: Weighted figures
business_case:
  start_year: 2025
  end_year: 2027
  discount_rate: 0.04
nodes:
  a: {estimate: [100, 200, 400], source: s}
  a2: {estimate: [10, 20, 40], probabilities: [0.1, 0.5, 0.4], source: s}
  b: {estimate: [10, 20, 60], model: uniform, source: s}
  c: {estimate: [1, 2, 3], model: discrete, probabilities: [0.5, 0.3, 0.2], source: s}
  setup:
    kind: main
    side: cost
    year: 2025
    formula: a + 10 * b + a2
  scaled:
    kind: main
    side: cost
    year: 2026
    formula: a * c / 2
  saving:
    kind: main
    side: gain
    years: [2026, 2027]
    formula: c * 300
"""

# Best and worst: a cost input and a gain input pointing opposite ways, an input
# that raises both a cost and (more) a gain, and a situation input.
BEST_WORST = """
name: Best and worst
business_case:
  start_year: 2025
  end_year: 2028
  discount_rate: 0.05
nodes:
  hours: {estimate: [80, 100, 150], source: s}
  saving: {estimate: [50, 70, 120], source: s}
  scale: {estimate: [1, 2, 4], source: s}
  running:
    situation:
      without: {estimate: [30, 40, 60]}
      with: {estimate: [10, 20, 25]}
    source: s
  build:
    kind: main
    side: cost
    year: 2025
    formula: hours + 10 * scale
  benefit:
    kind: main
    side: gain
    years: [2026, 2027, 2028]
    formula: saving + 30 * scale
  operation:
    kind: main
    side: operating
    years: [2026, 2027, 2028]
    formula: running
"""

# Common random numbers: a shared input multiplies a situation input.
CRN = """
name: Common random numbers
business_case:
  start_year: 2025
  end_year: 2026
  discount_rate: 0.05
nodes:
  cases: {estimate: [500, 1000, 2000], source: s}
  minutes:
    situation:
      without: {estimate: [20, 30, 40]}
      with: {estimate: [10, 15, 20]}
    source: s
  work:
    kind: main
    side: operating
    year: 2026
    formula: cases * minutes
  setup:
    kind: main
    side: cost
    year: 2025
    estimate: [1000, 2000, 4000]
    source: s
"""

# Risk amounts: 70/30 split, a single risk, no risk (risk 0), a gain input, a
# situation input, and a risk no input names.
RISKS = """
name: Risk amounts
business_case:
  start_year: 2025
  end_year: 2026
  discount_rate: 0.05
  risks:
    - {id: 1, name: Capacity, probability: 2, consequence: 3, type: organisation}
    - {id: 2, name: Supplier price, probability: 3, consequence: 2, type: suppliers}
    - {id: 3, name: Governance, probability: 1, consequence: 4, type: organisation}
    - {id: 4, name: Technology, probability: 2, consequence: 2, type: technical}
    - {id: 5, name: Users resist, probability: 1, consequence: 1, type: stakeholders}
nodes:
  x1: {estimate: [100, 200, 500], risk: [1, 2], source: s}
  x2: {estimate: [0, 50, 300], model: uniform, risk: [3], source: s}
  x3: {estimate: [10, 20, 60], source: s}
  x4:
    estimate: [50, 100, 200]
    model: discrete
    probabilities: [0.1, 0.3, 0.6]
    risk: [2, 1]
    source: s
  minutes:
    situation:
      without: {estimate: [20, 30, 50]}
      with: {estimate: [10, 15, 40]}
    risk: [4]
    source: s
  c1:
    kind: main
    side: cost
    year: 2025
    formula: x1 + x2
  c3:
    kind: main
    side: cost
    years: [2025, 2026]
    formula: x3
  g4:
    kind: main
    side: gain
    year: 2026
    formula: x4
  work:
    kind: main
    side: operating
    year: 2026
    formula: minutes * 10
"""

# Linear in its inputs with known means, for the Monte Carlo mean of the NPV.
LINEAR = """
name: Linear
business_case:
  start_year: 2025
  end_year: 2028
  discount_rate: 0.07
  phases:
    implementation: [2025-07, 2026-06]
nodes:
  tri: {estimate: [300, 500, 1000], source: s}
  uni: {estimate: [100, 150, 400], model: uniform, source: s}
  pert: {estimate: [20, 40, 100], model: pert, source: s}
  disc: {estimate: [1, 2, 5], model: discrete, probabilities: [0.2, 0.5, 0.3], source: s}
  running:
    situation:
      without: {estimate: [300, 400, 600]}
      with: {estimate: [100, 150, 300], model: uniform}
    source: s
  build:
    kind: main
    side: cost
    phase: implementation
    formula: tri + 2 * uni
  extra:
    kind: main
    side: cost
    year: 2026
    formula: 100 * disc
  operation:
    kind: main
    side: operating
    years: [2026, 2027, 2028]
    profile: [0.5, 1, 1]
    formula: running
  saving:
    kind: main
    side: gain
    years: [2027, 2028]
    formula: 3 * pert
"""


def with_high_risk(text: str) -> str:
    """The same model with ``high_risk: true`` (risk adjustment by Monte Carlo)."""
    return text.replace("business_case:\n", "business_case:\n  high_risk: true\n", 1)
