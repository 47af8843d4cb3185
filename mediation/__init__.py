"""mediation: fair settlement of multi-party disputes."""
