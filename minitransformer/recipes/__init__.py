"""Recipes: the named, measured configurations of the project — what data, which model, how long, which
hyper-parameters — kept apart from the machinery that runs them (``train/``). Each recipe is a config
dataclass whose defaults are the single source of the numbers quoted in the README and docs."""
