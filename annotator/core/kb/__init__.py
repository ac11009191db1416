"""The knowledge base: entities and aliases (`entities`), candidates for a mention (`candidates`),
link suggestions and propagation (`suggestions`), the linking commands (`linking`) and the entity
view's mentions (`mentions`); `facade` holds `Project`'s methods for them.

May import `core.editing` and `core.db`; never `review` or anything above."""
