"""One module per outside service: GitHub, chat webhooks, mail."""
