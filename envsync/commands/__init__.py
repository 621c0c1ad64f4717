"""The CLI's commands, one module per concern; `envsync.cli` assembles them."""
