"""The rules: the policy file, the working-day calendar with its 调休 notices."""
