"""The generic dedupe engine: records in, clusters of one entity each out, with golden values.

    settings.py     one settings object (DedupeSettings) from schemas/dedupe.yaml + pipeline.yaml
    blocking.py     candidate pairs: records sharing a key
    comparison.py   field-by-field comparison levels (rapidfuzz)
    model.py        Fellegi–Sunter: u on random pairs, m and the prior by EM, match weights
    engine.py       the pipeline of the above, deterministic rules, chaining-safe clusters
    clustering.py   connected components, chained clusters split at their weakest link
    survivorship.py one golden value per field and cluster by named rules, where it came from and why
    explain.py      per pair and comparison the bits it adds, the rule that decided, the outcome
    review.py       the pairs a steward should decide, and their decisions as engine constraints

Nothing here knows about companies: the customer features the engine compares are built in
`cleaners/customer_matching.py`, the columns its survivorship rules read in
`cleaners/golden_values.py`.
"""
