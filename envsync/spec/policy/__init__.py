"""Policy checks: rules over environments, per target, found while loading (see README: Policy).

`catalog` names the rules, `settings` reads `policy:` from envsync.yaml, `engine` runs the rule
families (`images`, `pip`, `conda`, `metadata`, `context`) on each environment as it loads,
`references` checks jobs and deployments, and `suppress` applies inline suppressions.
"""
