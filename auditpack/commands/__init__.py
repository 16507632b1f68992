"""Command-line adapters: each module registers its subcommand and turns arguments into calls."""
