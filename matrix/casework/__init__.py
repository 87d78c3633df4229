"""Case work: each case's life (opened, forwarded, answered, closed), office actions, the roster, account inspection."""
