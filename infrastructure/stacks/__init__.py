"""CDK constructs of the bot: one module per logical unit, composed by :mod:`stacks.bot_stack`."""
