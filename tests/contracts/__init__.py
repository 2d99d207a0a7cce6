"""The promises, one file per family: exits and messages, interrupts, untrusted files, faults, the Unix tool,
distributed training, real data. Each promise is held by one test; the README's table names it."""
