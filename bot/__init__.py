"""The chat bot: REST webhook, dialogue policy, transcript store, widget and review pages."""
