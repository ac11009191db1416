"""The store: engine and transactions (`store`), tables (`models`), schema versions (`schema`,
`migrations/`), annotators and roles (`annotators`), and a team server's members (`team`, `grants`).

Imports nothing else of the core but `records`/`text`-level helpers: everything above builds on it."""
