"""Policy files shipped with wzmon (default.toml); read them with `matrix.rules.policy.load_policy`."""
