"""Mobile-money collection: a request to a member's wallet, exactly-once posting to its target
on the provider's callback or a status poll, reconciliation against the provider's statement,
refunds of money that matches nothing. See docs/channels.md, "Mobile money"."""
