"""The shell's core: the factory's parts, login, tokens, problems, the base templates and what every area shares."""
