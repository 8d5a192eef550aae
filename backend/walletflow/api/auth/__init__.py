"""Who is asking: operator token and sessions, Google sign-in, merchant and analyst API keys."""
