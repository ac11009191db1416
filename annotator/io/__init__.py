"""Files in and out of a project: reading what an import brings (`sources`), storing it (`importing`), exporting layers (`exporting`),
bringing a colleague's project file in (`merging`; the file read: `merge_source`; the knowledge base: `merge_kb`;
what it reports: `merge_report`) and knowledge-base files (`kb_transfer`).

Sits above `formats/` (which turns files into records) and the core (which stores them); imports no Qt."""
