"""The members' USSD menu (Africa's Talking style): pure menu, reads, PINs, gateway endpoint,
counter screen for the PIN and language, `jigi ussd` simulator. See docs/channels.md, "USSD"."""
