"""Policy files shipped with wzmon (default.toml); read them with `matrix.policy.load_policy`."""
