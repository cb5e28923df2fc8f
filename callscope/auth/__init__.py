"""callscope.auth: Users, roles, API keys and login sessions."""
